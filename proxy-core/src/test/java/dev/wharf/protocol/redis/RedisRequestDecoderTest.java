package dev.wharf.protocol.redis;

import static dev.wharf.protocol.redis.CodecHarness.command;
import static dev.wharf.protocol.redis.RecordedRepliesTest.chunks;
import static dev.wharf.protocol.redis.RecordedRepliesTest.recording;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.protocol.ProtocolViolation;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The request side: bytes pass unchanged and streamed, commands are told apart, bounds hold. */
class RedisRequestDecoderTest {
    /** Multibulk and inline commands, binary and empty arguments, and what Redis reads as no command. */
    private static final byte[] PIPELINE = concat(
            command("SET", "key", "va\r\nlue with CRLF and \u00e9"),
            command("CLUSTER", "SLOTS"),
            "*0\r\n",
            "*-1\r\n",
            command("SET", "k", "x".repeat(300)),
            "\r\n",
            "PING\r\n",
            "cluster   'nodes'\n",
            "set \"a b\" \"c\\x41\\n\" \r\n",
            command("HELLO", "3", "AUTH", "default", "secret"),
            command("GET", ""),
            "  \r\n");

    @Test
    void requestsPassByteForByteInAnyChunking() {
        // every split into two reads, then one byte per read, then random reads
        for (int split = 0; split <= PIPELINE.length; split++) {
            assertPassesUnchanged(Arrays.copyOfRange(PIPELINE, 0, split), Arrays.copyOfRange(PIPELINE, split, PIPELINE.length));
        }
        assertPassesUnchanged(chunks(PIPELINE, 1));
        Random random = new Random(42);
        for (int run = 0; run < 50; run++) {
            ByteArrayOutputStream chunk = new ByteArrayOutputStream();
            List<byte[]> reads = new java.util.ArrayList<>();
            for (byte b : PIPELINE) {
                chunk.write(b);
                if (random.nextInt(8) == 0) {
                    reads.add(chunk.toByteArray());
                    chunk.reset();
                }
            }
            reads.add(chunk.toByteArray());
            assertPassesUnchanged(reads.toArray(byte[][]::new));
        }
    }

    @Test
    void theCommandsOfThePipelineAreToldApart() throws Exception {
        try (CodecHarness codec = new CodecHarness()) {
            // given the pipeline above: SET, CLUSTER SLOTS, SET, PING, inline cluster 'nodes', SET, HELLO 3, GET
            codec.request(PIPELINE);
            codec.requestsOut();

            // when the server answers each command (and nothing for *0, *-1 and the blank lines)
            byte[] slots = recording("cluster-slots.resp2");
            byte[] nodes = recording("cluster-nodes.resp2");
            codec.reply("+OK\r\n");
            codec.reply(slots);
            codec.reply("+OK\r\n+PONG\r\n");
            codec.reply(nodes);
            codec.reply("+OK\r\n");
            codec.reply(recording("hello.resp3"));
            codec.reply("_\r\n");

            // then both topology replies were matched and rewritten
            assertEquals(1, codec.rewrites("cluster_slots"));
            assertEquals(1, codec.rewrites("cluster_nodes"));
            String out = new String(codec.repliesOut(), ISO_8859_1);
            assertFalse(out.contains("127.0.0.1"), out);
            assertTrue(out.endsWith("_\r\n"));
        }
    }

    @Test
    void aLargeSetValueIsStreamedNotAggregated() throws Exception {
        try (CodecHarness codec = new CodecHarness(1024 * 1024, new TestRoutes())) {
            // given a SET of 32 MiB, with a CLUSTER NODES behind it, arriving in 64 KiB reads
            int size = 32 * 1024 * 1024;
            byte[] header = ("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + size + "\r\n").getBytes(UTF_8);
            byte[] chunk = new byte[64 * 1024];
            new Random(7).nextBytes(chunk);

            // when each read arrives, it is passed on at once, whole
            codec.request(header);
            assertArrayEquals(header, codec.requestsOut());
            int reads = 0;
            for (int sent = 0; sent < size; sent += chunk.length) {
                codec.request(chunk);
                assertEquals(1, codec.client.inboundMessages().size(), "one buffer per read");
                ByteBuf out = codec.client.readInbound();
                assertEquals(chunk.length, out.readableBytes());
                out.release();
                reads++;
            }
            codec.request(("\r\n" + command("CLUSTER", "NODES")).getBytes(UTF_8));
            codec.requestsOut();
            assertEquals(512, reads);

            // then the command behind it is still told apart
            codec.reply("+OK\r\n");
            codec.reply(recording("cluster-nodes.resp2"));
            assertEquals(1, codec.rewrites("cluster_nodes"));
            codec.repliesOut();
        }
    }

    @Test
    void anIncompleteLineOrShortArgumentWaitsForItsEndAndTheDecoderAsksForMore() {
        try (CodecHarness codec = new CodecHarness()) {
            // when a read ends inside a line
            codec.request("*2\r\n$7\r");
            // then the complete lines went on
            assertEquals("*2\r\n", new String(codec.requestsOut(), UTF_8));
            codec.request("\n");
            assertEquals("$7\r\n", new String(codec.requestsOut(), UTF_8));
            // and when a read brings nothing that can go on yet, the decoder asks for the next read itself
            int reads = codec.clientReads;
            codec.request("CLU");
            assertEquals(0, codec.requestsOut().length);
            assertEquals(reads + 1, codec.clientReads);
            // and a short argument it reads (the command name) goes on once whole
            codec.request("STER\r\n$5");
            assertEquals("CLUSTER\r\n", new String(codec.requestsOut(), UTF_8));
            codec.request("\r\nSLOTS\r\n");
            assertEquals("$5\r\nSLOTS\r\n", new String(codec.requestsOut(), UTF_8));
        }
    }

    @Test
    void everyBoundIsAViolationThatSaysWhichAndWhere() {
        assertViolation("request #1: inline command longer than 65536 bytes without a newline (expected: <= 65536)",
                "GET " + "k".repeat(70_000));
        assertViolation("request #1: multibulk length 1048577 (expected: <= 1048576 arguments)", "*1048577\r\n");
        assertViolation("request #2: argument 3 of 3: bulk length 536870913 (expected: 0..536870912)",
                command("PING") + "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n");
        assertViolation("request #1: argument 1 of 1: bulk length -1 (expected: 0..536870912)", "*1\r\n$-1\r\n");
        assertViolation("request #1: argument 2 of 2 starts with ':' (expected: '$')", "*2\r\n$3\r\nGET\r\n:1\r\n");
        assertViolation("request #1: multibulk length 'abc' is not a number", "*abc\r\n");
        assertViolation("request #1: argument 1 of 1: bulk length 'x' is not a number", "*1\r\n$x\r\n");
        assertViolation("request #1: argument 1 of 1 (3 bytes) is not followed by CRLF but by 'xx'", "*1\r\n$3\r\nGETxx");
        assertViolation("request #1: line ends in LF without CR: '*1'", "*1\n");
        assertViolation("request #1: line longer than 65536 bytes without CRLF (expected: <= 65536)", "*" + "1".repeat(70_000));
    }

    @Test
    void afterAViolationNothingMorePasses() {
        try (CodecHarness codec = new CodecHarness()) {
            assertThrows(ProtocolViolation.class, () -> codec.request("*x\r\n"));
            codec.request(command("PING"));
            assertNull(codec.client.readInbound());
        }
    }

    @Test
    void inlineArgumentsAreSplitAsRedisSplitsThem() {
        assertEquals(List.of("set", "a b", "cA\n"), RedisRequestDecoder.splitArgs("set \"a b\" \"c\\x41\\n\""));
        assertEquals(List.of("CLUSTER", "nodes"), RedisRequestDecoder.splitArgs("  CLUSTER\t'nodes'  "));
        assertEquals(List.of("it's"), RedisRequestDecoder.splitArgs("'it\\'s'"));
        assertEquals(List.of(), RedisRequestDecoder.splitArgs("   "));
        assertNull(RedisRequestDecoder.splitArgs("get \"unbalanced"));
        assertNull(RedisRequestDecoder.splitArgs("get \"a\"b"));
    }

    private static void assertPassesUnchanged(byte[]... reads) {
        try (CodecHarness codec = new CodecHarness()) {
            codec.request(reads);
            assertArrayEquals(PIPELINE, codec.requestsOut());
        }
    }

    private static void assertViolation(String message, String request) {
        try (CodecHarness codec = new CodecHarness()) {
            ProtocolViolation violation = assertThrows(ProtocolViolation.class, () -> codec.request(request));
            assertEquals(message, violation.getMessage());
        }
    }

    private static byte[] concat(String... parts) {
        return String.join("", parts).getBytes(UTF_8);
    }
}
