package dev.wharf.it;

import static dev.wharf.it.RelayIT.awaitMetric;
import static dev.wharf.it.RelayIT.listener;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Zero-copy splice, which plain TCP listeners use on io_uring for bulk transfers: every byte
 * arrives, in order, in both directions, whichever side sends its EOF first and whatever is still
 * in flight when a direction moves from the heap relay to the pipe.
 */
class SpliceIT {
    private static final int HEADER = 16;

    @BeforeAll
    static void spliceIsPossibleHere() {
        assertTrue(IoUring.isAvailable(), () -> "these tests need io_uring, which splice sessions run on: "
                + IoUring.unavailabilityCause());
        assertTrue(Epoll.isAvailable(), () -> "these tests need Netty's epoll library for splice(2): "
                + Epoll.unavailabilityCause());
    }

    @RepeatedTest(4) // a race between a FIN and the pipe shows up only now and then
    void bulkBothWaysGoesThroughThePipe() throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "", echo.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            byte[] sent = random(64 << 20, 1);
            Future<?> writer = writeThenShutDown(client, sent);
            byte[] received = client.getInputStream().readAllBytes();
            writer.get(10, TimeUnit.SECONDS);

            assertArrayEquals(sent, received);
            awaitMetric(wharf, sent.length, "wharf_bytes_total", "listener", "a", "direction", "to_client");
            assertEquals(sent.length, wharf.metric("wharf_bytes_total", "listener", "a", "direction", "to_upstream"));
            // What is still in the socket buffers at a FIN goes through Netty's reads (a few MB at
            // most); the bulk is spliced.
            assertTrue(wharf.metric("wharf_spliced_bytes_total", "listener", "a", "direction", "to_upstream")
                    > 0.5 * sent.length);
            assertTrue(wharf.metric("wharf_spliced_bytes_total", "listener", "a", "direction", "to_client")
                    > 0.5 * sent.length);
        }
    }

    @Test
    void smallExchangesStayOnTheCheaperHeapPath() throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "", echo.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            // 200 request/response round trips of 4 KiB: never a bulk-sized read
            DataInputStream in = new DataInputStream(client.getInputStream());
            for (int i = 0; i < 200; i++) {
                byte[] request = random(4096, i);
                client.getOutputStream().write(request);
                byte[] reply = new byte[request.length];
                in.readFully(reply);
                assertArrayEquals(request, reply);
            }
            client.shutdownOutput();
            assertEquals(-1, in.read());
            awaitMetric(wharf, 200 * 4096, "wharf_bytes_total", "listener", "a", "direction", "to_client");
            assertEquals(0, wharf.metric("wharf_spliced_bytes_total", "listener", "a", "direction", "to_upstream"));
            assertEquals(0, wharf.metric("wharf_spliced_bytes_total", "listener", "a", "direction", "to_client"));
        }
    }

    @Test
    void spliceOffCopiesEveryByteThroughTheHeap() throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "splice = false,", echo.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            byte[] sent = random(4 << 20, 2);
            Future<?> writer = writeThenShutDown(client, sent);
            assertArrayEquals(sent, client.getInputStream().readAllBytes());
            writer.get(10, TimeUnit.SECONDS);
            awaitMetric(wharf, sent.length, "wharf_bytes_total", "listener", "a", "direction", "to_client");
            assertEquals(0, wharf.metric("wharf_spliced_bytes_total", "listener", "a", "direction", "to_upstream"));
            assertEquals(0, wharf.metric("wharf_spliced_bytes_total", "listener", "a", "direction", "to_client"));
        }
    }

    @ParameterizedTest(name = "splice = {0}")
    @ValueSource(booleans = {true, false})
    void aLargeUploadAfterTheUpstreamHalfClosedArrivesWhole(boolean splice) throws Exception {
        byte[] sent = random(32 << 20, 5);
        Map<Integer, byte[]> seen = new ConcurrentHashMap<>();
        // given an upstream that says goodbye (half-closes) and only later reads the client's upload
        try (TestUpstream upstream = TestUpstream.start(s -> {
                 s.getOutputStream().write('!');
                 s.shutdownOutput();
                 Thread.sleep(500);
                 seen.put(0, sha256(s.getInputStream().readAllBytes()));
             });
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "splice = " + splice + ",",
                     upstream.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            assertEquals('!', client.getInputStream().read());
            assertEquals(-1, client.getInputStream().read());
            // when the client uploads 32 MiB, which must wait for room in the upstream's socket
            writeThenShutDown(client, sent).get(20, TimeUnit.SECONDS);
            // then the upstream reads all of it
            assertArrayEquals(sha256(sent), awaitDigest(seen, 0));
        }
    }

    /**
     * 150 sessions, 12 at a time, of random sizes (0-3 MiB each way) written in random chunks, in
     * three shapes: the client half-closes first and the reply follows its EOF; the upstream
     * half-closes first while the client is still sending; both stream at once (echo).
     */
    @ParameterizedTest(name = "splice = {0}")
    @ValueSource(booleans = {true, false})
    void manySessionsWithEitherSideClosingFirstLoseNoByte(boolean splice) throws Exception {
        Map<Integer, byte[]> digestsSeenByUpstream = new ConcurrentHashMap<>();
        try (TestUpstream upstream = TestUpstream.start(s -> serve(s, digestsSeenByUpstream));
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "splice = " + splice + ",",
                     upstream.address()))) {
            ExecutorService clients = Executors.newFixedThreadPool(12);
            try {
                List<Future<?>> sessions = new ArrayList<>();
                for (int id = 0; id < 150; id++) {
                    int session = id;
                    sessions.add(clients.submit(() -> {
                        runSession(wharf.port("a"), session, digestsSeenByUpstream);
                        return null;
                    }));
                }
                for (Future<?> session : sessions) {
                    session.get(60, TimeUnit.SECONDS);
                }
            } finally {
                clients.shutdownNow();
            }
            assertEquals(splice,
                    wharf.metric("wharf_spliced_bytes_total", "listener", "a", "direction", "to_upstream") > 0);
            assertEquals(splice,
                    wharf.metric("wharf_spliced_bytes_total", "listener", "a", "direction", "to_client") > 0);
        }
    }

    private enum Shape { CLIENT_CLOSES_FIRST, UPSTREAM_CLOSES_FIRST, ECHO }

    /** The client side: a header (id, shape, reply size, seed), then the shape's exchange, checked. */
    private static void runSession(int port, int id, Map<Integer, byte[]> seenByUpstream) throws Exception {
        Random random = new Random(id);
        Shape shape = Shape.values()[id % 3];
        byte[] request = random(random.nextInt(3 << 20), id);
        int replySize = random.nextInt(3 << 20);
        int replySeed = random.nextInt();
        try (Socket socket = Clients.connect(port)) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(id);
            out.writeInt(shape.ordinal());
            out.writeInt(replySize);
            out.writeInt(replySeed);
            Future<?> writer = writeThenShutDown(socket, request, random.nextLong());
            byte[] received = socket.getInputStream().readAllBytes();
            writer.get(30, TimeUnit.SECONDS);
            switch (shape) {
                case CLIENT_CLOSES_FIRST -> {
                    // the upstream's digest of everything it read, then its reply
                    byte[] digest = Arrays.copyOf(received, 32);
                    assertArrayEquals(sha256(request), digest, "session " + id + ": request digest");
                    assertArrayEquals(random(replySize, replySeed),
                            Arrays.copyOfRange(received, 32, received.length), "session " + id + ": reply");
                }
                case UPSTREAM_CLOSES_FIRST -> {
                    assertArrayEquals(random(replySize, replySeed), received, "session " + id + ": greeting");
                    assertArrayEquals(sha256(request), awaitDigest(seenByUpstream, id), "session " + id + ": request");
                }
                case ECHO -> assertArrayEquals(request, received, "session " + id + ": echo");
            }
        }
    }

    /** The upstream side of {@link #runSession}. */
    private static void serve(Socket socket, Map<Integer, byte[]> seen) throws IOException {
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] header = new byte[HEADER];
        in.readFully(header);
        ByteBuffer h = ByteBuffer.wrap(header);
        int id = h.getInt();
        Shape shape = Shape.values()[h.getInt()];
        byte[] reply = random(h.getInt(), h.getInt());
        OutputStream out = socket.getOutputStream();
        switch (shape) {
            case CLIENT_CLOSES_FIRST -> {
                out.write(sha256(in.readAllBytes()));
                out.write(reply);
            }
            case UPSTREAM_CLOSES_FIRST -> {
                out.write(reply);
                socket.shutdownOutput();
                seen.put(id, sha256(in.readAllBytes()));
            }
            case ECHO -> in.transferTo(out);
        }
    }

    private static byte[] awaitDigest(Map<Integer, byte[]> seen, int id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!seen.containsKey(id) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return seen.get(id);
    }

    private static Future<?> writeThenShutDown(Socket socket, byte[] data) {
        return writeThenShutDown(socket, data, 0);
    }

    /** Writes {@code data} in chunks of random size (seeded; 0 means one write), then half-closes. */
    private static Future<?> writeThenShutDown(Socket socket, byte[] data, long chunkSeed) {
        ExecutorService single = Executors.newSingleThreadExecutor();
        try {
            return single.submit(() -> {
                OutputStream out = socket.getOutputStream();
                Random chunks = new Random(chunkSeed);
                int at = 0;
                while (at < data.length) {
                    int n = chunkSeed == 0 ? data.length : Math.min(data.length - at, 1 + chunks.nextInt(256 << 10));
                    out.write(data, at, n);
                    at += n;
                }
                socket.shutdownOutput();
                return null;
            });
        } finally {
            single.shutdown();
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
