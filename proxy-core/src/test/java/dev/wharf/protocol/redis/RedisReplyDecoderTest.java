package dev.wharf.protocol.redis;

import static dev.wharf.protocol.redis.CodecHarness.bulk;
import static dev.wharf.protocol.redis.CodecHarness.command;
import static dev.wharf.protocol.redis.RecordedRepliesTest.chunks;
import static dev.wharf.protocol.redis.RecordedRepliesTest.recording;
import static dev.wharf.protocol.redis.TestRoutes.proxyHost;
import static dev.wharf.protocol.redis.TestRoutes.proxyPort;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.protocol.ProtocolViolation;
import dev.wharf.testing.LeakGuard;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The reply side: matching replies to commands in order, what passes untouched (pub/sub, pushes,
 * attributes, MULTI/EXEC, large values), redirects, routes that complete later or with null, the
 * bounds, and no buffer left unreleased.
 */
class RedisReplyDecoderTest {
    private static final String SLOTS_RESP2 = "cluster-slots.resp2";
    /** The first node address of cluster-slots.resp2 as the codec writes it. */
    private static final String FIRST_SLOTS_NODE = "$15\r\n" + proxyHost(17101) + "\r\n:" + proxyPort(17101) + "\r\n";

    @Test
    void pipelinedRepliesAreMatchedToTheirCommandsInOrder() throws Exception {
        byte[] slots = recording(SLOTS_RESP2);
        String replies = bulk("first") + new String(slots, ISO_8859_1) + "$-1\r\n";
        for (int chunk : new int[] {Integer.MAX_VALUE, 1, 3, 17}) {
            try (CodecHarness codec = new CodecHarness()) {
                // given GET, CLUSTER SLOTS, GET pipelined
                codec.request(command("GET", "a") + command("CLUSTER", "SLOTS") + command("GET", "b"));

                // when the replies arrive in chunks
                codec.reply(chunks(replies.getBytes(ISO_8859_1), chunk));

                // then the GETs' replies pass unchanged around the rewritten CLUSTER SLOTS
                String out = codec.repliesOutText();
                assertTrue(out.startsWith(bulk("first") + "*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n" + FIRST_SLOTS_NODE), out);
                assertTrue(out.endsWith("*0\r\n$-1\r\n"), out);
                assertFalse(out.contains("127.0.0.1"));
                assertEquals(1, codec.rewrites("cluster_slots"));
            }
        }
    }

    @Test
    void aLargeBulkReplyStreamsThroughInChunksWhateverMaxReplyBytes() throws Exception {
        try (CodecHarness codec = new CodecHarness(1024 * 1024, new TestRoutes())) {
            // given a GET of a 32 MiB value, then a CLUSTER SLOTS
            codec.request(command("GET", "big") + command("CLUSTER", "SLOTS"));
            int size = 32 * 1024 * 1024;
            byte[] chunk = new byte[64 * 1024];
            new Random(3).nextBytes(chunk);

            // when the value arrives in 64 KiB reads (over 32 times max-reply-bytes)
            codec.reply(("$" + size + "\r\n").getBytes(UTF_8));
            assertEquals("$" + size + "\r\n", codec.repliesOutText());
            for (int sent = 0; sent < size; sent += chunk.length) {
                codec.reply(chunk);
                // then each read is passed on at once, whole: nothing is aggregated
                assertEquals(1, codec.repliesOutBuffers());
                ByteBuf out = codec.upstream.readInbound();
                assertEquals(chunk.length, out.readableBytes());
                out.release();
            }
            codec.reply("\r\n".getBytes(UTF_8), recording(SLOTS_RESP2));

            // and the reply behind it is still matched
            assertTrue(codec.repliesOutText().startsWith("\r\n*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n" + FIRST_SLOTS_NODE));
        }
    }

    @Test
    void aTopologyReplyLargerThanMaxReplyBytesIsAViolation() throws Exception {
        try (CodecHarness codec = new CodecHarness(1000, new TestRoutes())) {
            codec.request(command("CLUSTER", "SHARDS"));
            ProtocolViolation violation = assertThrows(ProtocolViolation.class, () -> codec.reply(recording("cluster-shards.resp2")));
            assertEquals("reply #1, a CLUSTER SHARDS reply: more than 1000 bytes (expected: <= 1000, the listener's max reply bytes)",
                    violation.getMessage());
        }
    }

    @Test
    void resp2PubSubMessagesPassUntouchedAndMatchingStops() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given a CLUSTER SLOTS, then a SUBSCRIBE to two channels, then (wrongly) another CLUSTER SLOTS
            codec.request(command("CLUSTER", "SLOTS") + command("SUBSCRIBE", "a", "b") + command("CLUSTER", "SLOTS"));
            String pubsub = "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                    + "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
                    + "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n" + bulk("127.0.0.1:17101 in a message")
                    + "*4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$2\r\nhi\r\n";

            // when the replies come
            codec.reply(recording(SLOTS_RESP2));
            String first = codec.repliesOutText();
            codec.reply(pubsub);
            codec.reply(recording(SLOTS_RESP2));
            codec.reply("-MOVED 1 127.0.0.1:17102\r\n");

            // then the first CLUSTER SLOTS is rewritten, the messages pass untouched, and since
            // replies no longer match commands the later CLUSTER SLOTS passes as it is
            assertFalse(first.contains("127.0.0.1"));
            assertEquals(pubsub + new String(recording(SLOTS_RESP2), ISO_8859_1)
                    + "-MOVED 1 " + proxyHost(17102) + ":" + proxyPort(17102) + "\r\n", codec.repliesOutText());
            assertEquals(1, codec.rewrites("cluster_slots"));
            // while MOVED is still rewritten
            assertEquals(1, codec.redirects("moved"));
        }
    }

    @Test
    void resp3PushesPassUntouchedAndAnswerNoCommand() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given HELLO 3, SUBSCRIBE to two channels, a GET, a CLUSTER SLOTS
            codec.request(command("HELLO", "3") + command("SUBSCRIBE", "a", "b") + command("GET", "k") + command("CLUSTER", "SLOTS"));
            String pushes = ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                    + ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nearly\r\n"
                    + ">3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n";
            String invalidate = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";

            // when pushes come between the replies (and a client-tracking push in the middle of them)
            codec.reply(recording("hello.resp3"));
            codec.repliesOut();
            codec.reply(pushes + bulk("v") + invalidate);
            codec.reply(recording("cluster-slots.resp3"));

            // then the pushes and the GET's reply pass untouched, and CLUSTER SLOTS is still matched
            String out = codec.repliesOutText();
            assertTrue(out.startsWith(pushes + bulk("v") + invalidate + "*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n" + FIRST_SLOTS_NODE), out);
            assertEquals(1, codec.rewrites("cluster_slots"));
        }
    }

    @Test
    void resp3SubscribeAnsweredWithAnErrorKeepsMatching() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given HELLO 3, an SSUBSCRIBE the node redirects, then CLUSTER NODES
            codec.request(command("HELLO", "3") + command("SSUBSCRIBE", "c") + command("CLUSTER", "NODES"));
            codec.reply(recording("hello.resp3"));
            codec.repliesOut();

            // when the SSUBSCRIBE gets a MOVED (a plain error, not a push)
            codec.reply("-MOVED 7365 127.0.0.1:17102\r\n");
            codec.reply(recording("cluster-nodes.resp3"));

            // then both are rewritten: the error answered the SSUBSCRIBE
            String out = codec.repliesOutText();
            assertTrue(out.startsWith("-MOVED 7365 " + proxyHost(17102) + ":" + proxyPort(17102) + "\r\n="), out);
            assertEquals(1, codec.rewrites("cluster_nodes"));
        }
    }

    @Test
    void multiExecPassesThroughAndTheRepliesAfterItStayMatched() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given a transaction holding a CLUSTER SLOTS, then a CLUSTER SLOTS outside it
            codec.request(command("MULTI") + command("GET", "a") + command("CLUSTER", "SLOTS") + command("EXEC")
                    + command("CLUSTER", "SLOTS"));
            String slots = new String(recording(SLOTS_RESP2), ISO_8859_1);
            String transaction = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n" + bulk("x") + slots;

            // when the replies come
            codec.reply(transaction);
            codec.reply(slots);

            // then each command had one reply: the transaction passes unchanged (EXEC's array is
            // not rewritten), and the CLUSTER SLOTS after it is
            String out = codec.repliesOutText();
            assertTrue(out.startsWith(transaction + "*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n" + FIRST_SLOTS_NODE), out);
            assertEquals(1, codec.rewrites("cluster_slots"));
        }
    }

    @Test
    void blockingCommandsGetOneReply() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            codec.request(command("BLPOP", "q", "0") + command("CLUSTER", "SLOTS"));
            codec.reply("*2\r\n$1\r\nq\r\n$3\r\njob\r\n");
            codec.reply(recording(SLOTS_RESP2));
            assertTrue(codec.repliesOutText().startsWith("*2\r\n$1\r\nq\r\n$3\r\njob\r\n*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n" + FIRST_SLOTS_NODE));
        }
    }

    @Test
    void anIpv6NodeIsRoutedUnderTheNameItsNodePortsEntryHas() {
        try (CodecHarness codec = new CodecHarness()) {
            // given a command
            codec.request(command("GET", "a"));

            // when an IPv6 node redirects it (Redis writes the address without brackets)
            codec.reply("-MOVED 3999 fd00::5:6379\r\n");

            // then the node is asked for as node-ports names it, "[fd00::5]:6379", and the redirect is rewritten
            assertEquals(List.of("[fd00::5]:6379 fd00::5 6379"), codec.routes.calls);
            assertEquals("-MOVED 3999 " + proxyHost(6379) + ":" + proxyPort(6379) + "\r\n", codec.repliesOutText());
        }
    }

    @Test
    void movedAndAskAreRewrittenWhateverTheyAnswerAndAnEmptyHostIsTheUpstreams() {
        try (CodecHarness codec = new CodecHarness()) {
            // given commands, one of them a CLUSTER SLOTS
            codec.request(command("GET", "a") + command("CLUSTER", "SLOTS") + command("GET", "b") + command("GET", "c"));

            // when the node redirects them, naming no host ("the one you are connected to") for two
            codec.reply("-MOVED 3999 :6381\r\n-MOVED 3999 10.0.0.5:6379\r\n-ASK 12 :6382\r\n-ERR MOVED elsewhere\r\n");

            // then the addresses are the proxy's, the empty host routed as the upstream's
            assertEquals("-MOVED 3999 " + proxyHost(6381) + ":" + proxyPort(6381) + "\r\n"
                    + "-MOVED 3999 " + proxyHost(6379) + ":" + proxyPort(6379) + "\r\n"
                    + "-ASK 12 " + proxyHost(6382) + ":" + proxyPort(6382) + "\r\n"
                    + "-ERR MOVED elsewhere\r\n", codec.repliesOutText());
            assertEquals(List.of("127.0.0.1:6381 127.0.0.1 6381", "10.0.0.5:6379 10.0.0.5 6379", "127.0.0.1:6382 127.0.0.1 6382"),
                    codec.routes.calls);
            assertEquals(2, codec.redirects("moved"));
            assertEquals(1, codec.redirects("ask"));
            assertEquals(0, codec.rewrites("cluster_slots"));
        }
    }

    @Test
    void inlineCommandsAreMatchedToo() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given inline commands: a HELLO 3 ended by a bare LF, then CLUSTER SLOTS in quotes
            codec.request("hello 3\n\"CLUSTER\" 'slots'\r\n");
            codec.reply(recording("hello.resp3"));
            codec.reply(recording("cluster-slots.resp3"));
            String out = codec.repliesOutText();
            assertFalse(out.contains("127.0.0.1"), out);
            assertEquals(1, codec.rewrites("cluster_slots"));
        }
    }

    @Test
    void resp3TypesAttributesAndStreamedValuesPassUntouched() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given replies of every RESP3 type, an attribute before one and inside one, streamed ones
            String[] replies = {
                ",3.14\r\n", "(3492890328409238509324850943850943825024385\r\n", "#t\r\n", "_\r\n", "!21\r\nSYNTAX invalid syntax\r\n",
                "=15\r\ntxt:Some string\r\n", "~2\r\n+a\r\n:1\r\n", "%1\r\n+k\r\n*-1\r\n",
                "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n",
                "*3\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n:3\r\n",
                "$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n",
                "*?\r\n:1\r\n%?\r\n+a\r\n:1\r\n.\r\n.\r\n",
                "*0\r\n", "%0\r\n", "$0\r\n\r\n"};
            StringBuilder requests = new StringBuilder();
            StringBuilder all = new StringBuilder();
            for (String reply : replies) {
                requests.append(command("GET", "k"));
                all.append(reply);
            }
            codec.request(requests + command("CLUSTER", "SLOTS"));

            // when they come, byte by byte
            codec.reply(chunks(all.toString().getBytes(UTF_8), 1));
            codec.reply(recording("cluster-slots.resp3"));

            // then all pass unchanged, and the CLUSTER SLOTS behind them is matched
            String out = codec.repliesOutText();
            assertTrue(out.startsWith(all + "*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n" + FIRST_SLOTS_NODE), out);
            assertEquals(1, codec.rewrites("cluster_slots"));
        }
    }

    @Test
    void monitorAndClientReplyOffStopMatching() throws Exception {
        for (String stop : new String[] {command("MONITOR"), command("CLIENT", "REPLY", "OFF"), command("CLIENT", "REPLY", "SKIP")}) {
            try (CodecHarness codec = new CodecHarness()) {
                codec.request(command("CLUSTER", "SLOTS") + stop + command("CLUSTER", "SLOTS"));
                codec.reply(recording(SLOTS_RESP2));
                assertFalse(codec.repliesOutText().contains("127.0.0.1"), stop);
                codec.reply(recording(SLOTS_RESP2));
                assertArrayEquals(recording(SLOTS_RESP2), codec.repliesOut(), stop);
            }
        }
    }

    @Test
    void aSyncReplicationStreamPassesUnparsed() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given a SYNC: the RDB payload comes first, with no CRLF after it
            codec.request(command("GET", "a") + command("SYNC"));
            String stream = bulk("a") + "$5\r\nREDIS*1\r\n$4\r\nPING\r\n";
            codec.reply(stream);
            assertEquals(stream, codec.repliesOutText());
        }
    }

    @Test
    void aPsyncReplicationStreamPassesUnparsed() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given a PSYNC: its RDB payload has no CRLF after it, and then the command stream follows
            codec.request(command("PSYNC", "?", "-1"));
            String stream = "+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0\r\n$5\r\nREDIS*1\r\n$4\r\nPING\r\n\u0001garbage";
            codec.reply(stream);
            assertEquals(stream, codec.repliesOutText());
        }
    }

    @Test
    void aRouteCompletingLaterHoldsThatReplyAndTheOnesBehindItAndNothingIsRead() throws Exception {
        TestRoutes routes = new TestRoutes();
        routes.hold = true;
        try (CodecHarness codec = new CodecHarness(CodecHarness.MAX_REPLY_BYTES, routes)) {
            // given GET, CLUSTER SLOTS, GET, and node ports not bound yet
            codec.request(command("GET", "a") + command("CLUSTER", "SLOTS") + command("GET", "b"));
            byte[] slots = recording(SLOTS_RESP2);

            // when all replies arrive in one read
            int reads = codec.upstreamReads;
            int readCompletes = codec.upstreamReadCompletes;
            codec.reply(RecordedRepliesTest.concat(List.of(bulk("first").getBytes(UTF_8), slots, bulk("second").getBytes(UTF_8))));

            // then only the reply before it went on, and the channel is neither flushed nor read
            assertEquals(bulk("first"), codec.repliesOutText());
            assertEquals(reads, codec.upstreamReads);
            assertEquals(readCompletes, codec.upstreamReadCompletes);
            assertEquals(6, routes.held.size());

            // when some node ports are bound, it still waits for the others
            routes.held.values().iterator().next().complete(TestRoutes.proxyFor(17101));
            codec.upstream.runPendingTasks();
            assertEquals(0, codec.repliesOutBuffers());
            assertEquals(readCompletes, codec.upstreamReadCompletes);

            // when all are bound
            routes.bindHeld();
            codec.upstream.runPendingTasks();

            // then the rewritten reply and the one behind it go, in order, with one read-complete
            String out = codec.repliesOutText();
            assertTrue(out.startsWith("*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n" + FIRST_SLOTS_NODE), out);
            assertTrue(out.endsWith("*0\r\n" + bulk("second")), out);
            assertEquals(readCompletes + 1, codec.upstreamReadCompletes);
            assertEquals(1, codec.rewrites("cluster_slots"));
        }
    }

    @Test
    void aNodeWithoutARouteKeepsItsAddress() throws Exception {
        TestRoutes routes = new TestRoutes();
        routes.unrouted.add("127.0.0.1:17102");
        try (CodecHarness codec = new CodecHarness(CodecHarness.MAX_REPLY_BYTES, routes)) {
            codec.request(command("CLUSTER", "SLOTS") + command("GET", "a"));
            codec.reply(recording(SLOTS_RESP2));
            codec.reply("-MOVED 1 127.0.0.1:17102\r\n");

            String out = codec.repliesOutText();
            assertTrue(out.contains("$9\r\n127.0.0.1\r\n:17102\r\n"), out);
            assertFalse(out.contains(":17101\r\n"), out);
            assertTrue(out.endsWith("-MOVED 1 127.0.0.1:17102\r\n"), out);
            assertEquals(1, codec.rewrites("cluster_slots"));
            assertEquals(0, codec.redirects("moved"));
        }
    }

    @Test
    void aReplyWhoseNodesAllHaveNoRouteIsNotCounted() throws Exception {
        TestRoutes routes = new TestRoutes();
        for (int port = 17101; port <= 17106; port++) {
            routes.unrouted.add("127.0.0.1:" + port);
        }
        try (CodecHarness codec = new CodecHarness(CodecHarness.MAX_REPLY_BYTES, routes)) {
            codec.request(command("CLUSTER", "SLOTS"));
            codec.reply(recording(SLOTS_RESP2));
            assertArrayEquals(recording(SLOTS_RESP2), codec.repliesOut());
            assertEquals(0, codec.rewrites("cluster_slots"));
        }
    }

    @Test
    void heldRepliesAreReleasedWhenTheChannelGoesInactiveOrTheHandlerIsRemoved() throws Exception {
        for (boolean remove : new boolean[] {false, true}) {
            TestRoutes routes = new TestRoutes();
            routes.hold = true;
            try (CodecHarness codec = new CodecHarness(CodecHarness.MAX_REPLY_BYTES, routes)) {
                // given a rewrite waiting for its routes, a reply held behind it, and half a topology reply
                codec.request(command("CLUSTER", "SLOTS") + command("GET", "a") + command("CLUSTER", "NODES"));
                byte[] nodes = recording("cluster-nodes.resp2");
                codec.reply(RecordedRepliesTest.concat(List.of(recording(SLOTS_RESP2), bulk("held").getBytes(UTF_8),
                        java.util.Arrays.copyOf(nodes, nodes.length / 2))));

                // when the channel goes away (or the handler is removed) before the routes complete
                if (remove) {
                    codec.upstream.pipeline().remove(RedisClusterCodec.RESPONSE_HANDLER);
                } else {
                    codec.upstream.close();
                }
                routes.bindHeld();
                codec.upstream.runPendingTasks();

                // then the held replies are not passed on, and (LeakGuard) every buffer was released
                String out = codec.repliesOutText();
                assertFalse(out.contains("held"), out);
            }
        }
        LeakGuard.assertNoLeaks();
    }

    @Test
    void everyBoundIsAViolationThatSaysWhichAndWhere() {
        assertViolation("reply #1: line longer than 65536 bytes without CRLF (expected: <= 65536)", "+" + "a".repeat(70_000));
        assertViolation("reply #2: bulk string length 536870913 (expected: 0..536870912)", "+OK\r\n$536870913\r\n");
        assertViolation("reply #1: nesting depth 65 (expected: <= 64)", "*1\r\n".repeat(65));
        assertViolation("reply #1: unknown RESP type '@' at the start of a reply (line '@1')", "@1\r\n");
        assertViolation("reply #1: unknown RESP type '@' at depth 1 (line '@1')", "*1\r\n@1\r\n");
        assertViolation("reply #1: line ends in LF without CR: '+OK'", "+OK\n");
        assertViolation("reply #1: array length -2 (expected: >= 0)", "*-2\r\n");
        assertViolation("reply #1: map length -1 (expected: >= 0)", "%-1\r\n");
        assertViolation("reply #1: length 'x' of bulk string is not a number", "$x\r\n");
        assertViolation("reply #1: bulk payload not followed by CRLF but by 'lo'", "$3\r\nhello\r\n");
        assertViolation("reply #1: '.' outside a streamed aggregate", "*1\r\n.\r\n");
        assertViolation("reply #1: streamed string chunk starts with ':' (expected: ';')", "$?\r\n:1\r\n");
        assertViolation("reply #1: blob error length -1 (expected: 0..536870912)", "!-1\r\n");
    }

    private static void assertViolation(String message, String reply) {
        try (CodecHarness codec = new CodecHarness()) {
            codec.request(command("GET", "a") + command("GET", "b"));
            ProtocolViolation violation = assertThrows(ProtocolViolation.class, () -> codec.reply(reply));
            assertEquals(message, violation.getMessage());
            // and what follows is dropped
            codec.repliesOut();
            codec.reply("+OK\r\n");
            assertEquals(0, codec.repliesOutBuffers());
        }
    }
}
