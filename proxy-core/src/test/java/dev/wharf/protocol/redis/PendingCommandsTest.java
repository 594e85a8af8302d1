package dev.wharf.protocol.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.protocol.redis.PendingCommands.Command;
import dev.wharf.protocol.redis.PendingCommands.Kind;
import org.junit.jupiter.api.Test;

/** The matching rules on their own: what answers what, and when matching stops. */
class PendingCommandsTest {
    private final PendingCommands pending = new PendingCommands("redis");

    @Test
    void aMillionPipelinedCommandsAreOneEntryAndTheTopologyCommandBehindThemIsMatched() {
        // given a million GETs and a CLUSTER SLOTS pipelined, far more commands than entries kept
        for (int i = 0; i < 1_000_000; i++) {
            pending.sent(Command.OTHER);
        }
        pending.sent(Command.topology(Topology.SLOTS));

        // when their replies come
        for (int i = 0; i < 1_000_000; i++) {
            assertSame(Command.OTHER, pending.reply((byte) '$'));
        }

        // then the last one answers CLUSTER SLOTS
        assertSame(Topology.SLOTS, pending.reply((byte) '*').topology);
        assertTrue(pending.matching());
    }

    @Test
    void moreEntriesThanTheBoundStopMatchingInsteadOfGrowing() {
        // given as many interesting commands as are kept (a GET between each, so that no run merges)
        for (int i = 0; i < PendingCommands.MAX_ENTRIES / 2; i++) {
            pending.sent(Command.topology(Topology.NODES));
            pending.sent(Command.OTHER);
        }
        assertTrue(pending.matching());

        // when one more comes before any reply
        pending.sent(Command.topology(Topology.NODES));

        // then matching stops for the connection: later replies answer nothing
        assertFalse(pending.matching());
        assertNull(pending.reply((byte) '$'));
    }

    @Test
    void aReplyNoCommandAwaitsStopsMatching() {
        assertNull(pending.reply((byte) '-'));
        assertFalse(pending.matching());
        pending.sent(Command.topology(Topology.SLOTS));
        assertNull(pending.reply((byte) '*'));
    }

    @Test
    void helloSwitchesTheProtocolUnlessRefusedAndResetSwitchesBack() {
        pending.sent(Command.hello(3));
        pending.sent(Command.hello(3));
        pending.sent(Command.RESET);
        pending.reply((byte) '-'); // NOPROTO
        assertEquals(2, pending.protocol());
        pending.reply((byte) '%');
        assertEquals(3, pending.protocol());
        pending.reply((byte) '+');
        assertEquals(2, pending.protocol());
    }

    @Test
    void resp3SubscribeLeavesWithItsLastConfirmationOrWithAnError() {
        // given RESP3, SUBSCRIBE a b, GET, SSUBSCRIBE c, CLUSTER SLOTS
        pending.sent(Command.hello(3));
        pending.reply((byte) '%');
        pending.sent(Command.subscribe("subscribe", 2));
        pending.sent(Command.OTHER);
        pending.sent(Command.subscribe("ssubscribe", 1));
        pending.sent(Command.topology(Topology.SLOTS));

        // a message between the confirmations, then the second confirmation
        assertTrue(pending.awaitsConfirmation());
        pending.push("subscribe");
        pending.push("message");
        assertTrue(pending.awaitsConfirmation());
        pending.push("subscribe");
        assertFalse(pending.awaitsConfirmation());

        // the GET's reply, then SSUBSCRIBE's MOVED, then CLUSTER SLOTS
        assertSame(Command.OTHER, pending.reply((byte) '$'));
        assertEquals(Kind.SUBSCRIBE, pending.reply((byte) '-').kind);
        assertSame(Topology.SLOTS, pending.reply((byte) '*').topology);
        assertTrue(pending.matching());
    }

    @Test
    void resp2SubscribeStopsMatchingWhenItIsNextToBeAnswered() {
        pending.sent(Command.topology(Topology.SLOTS));
        pending.sent(Command.subscribe("subscribe", 1));
        assertTrue(pending.matching());
        assertSame(Topology.SLOTS, pending.reply((byte) '*').topology);
        assertFalse(pending.matching());
    }

    @Test
    void syncTurnsTheConnectionRawOnceTheRepliesBeforeItAreIn() {
        pending.sent(Command.OTHER);
        pending.sent(Command.RAW);
        assertFalse(pending.raw());
        pending.reply((byte) '+');
        assertTrue(pending.raw());
    }
}
