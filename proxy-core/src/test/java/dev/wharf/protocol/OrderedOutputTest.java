package dev.wharf.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** OrderedOutput on its own: a decoder stand-in adds messages; the embedded channel's tail gets them. */
class OrderedOutputTest {
    private final OrderedOutput output = new OrderedOutput();
    private final EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
    private final ChannelHandlerContext ctx = channel.pipeline().firstContext();

    @AfterEach
    void release() {
        output.close();
        channel.finishAndReleaseAll();
    }

    @Test
    void aMessageAddedBehindAWaitingOneWaitsAndBothGoOnInOrder() {
        // given
        Held first = new Held("first");
        List<Object> out = new ArrayList<>();
        output.add(ctx, out, first);
        output.add(out, buf("second"));

        // then nothing went out, and the output waits
        assertTrue(out.isEmpty());
        assertTrue(output.waiting());

        // when
        first.ready.complete(null);
        channel.runPendingTasks();

        // then
        assertEquals("first", text(channel.readInbound()));
        assertEquals("second", text(channel.readInbound()));
        assertFalse(output.waiting());
    }

    @Test
    void aFinishThatThrowsGoesDownThePipelineAndReleasesWhatWaitsBehindIt() {
        // given a waiting message whose finish fails, and one behind it
        Held failing = new Held("failing");
        failing.failure = new ProtocolViolation("cannot encode");
        List<Object> out = new ArrayList<>();
        output.add(ctx, out, failing);
        ByteBuf behind = buf("behind");
        output.add(out, behind);

        // when it becomes ready
        failing.ready.complete(null);
        channel.runPendingTasks();

        // then the error reaches the pipeline, nothing goes on, and the one behind is released
        assertSame(failing.failure, assertThrows(ProtocolViolation.class, channel::checkException));
        assertNull(channel.readInbound());
        assertEquals(0, behind.refCnt());
        assertFalse(output.waiting());
    }

    @Test
    void messagesAddedAfterCloseAreReleased() {
        // given
        output.close();
        ByteBuf late = buf("late");
        Held deferred = new Held("deferred");
        List<Object> out = new ArrayList<>();

        // when
        output.add(out, late);
        output.add(ctx, out, deferred);

        // then
        assertTrue(out.isEmpty());
        assertEquals(0, late.refCnt());
        assertEquals(0, deferred.buf.refCnt());
    }

    private static ByteBuf buf(String text) {
        return Unpooled.copiedBuffer(text.getBytes());
    }

    private static String text(ByteBuf buf) {
        try {
            return buf.toString(java.nio.charset.StandardCharsets.UTF_8);
        } finally {
            buf.release();
        }
    }

    /** A deferred message the test makes ready. */
    private static final class Held implements OrderedOutput.Deferred {
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        final ByteBuf buf;
        RuntimeException failure;

        Held(String text) {
            buf = buf(text);
        }

        @Override
        public CompletableFuture<?> ready() {
            return ready;
        }

        @Override
        public ByteBuf finish() {
            if (failure != null) {
                throw failure; // OrderedOutput then calls discard()
            }
            return buf;
        }

        @Override
        public void discard() {
            buf.release();
        }
    }
}
