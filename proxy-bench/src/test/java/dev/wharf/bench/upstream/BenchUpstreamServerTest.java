package dev.wharf.bench.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The upstream's three modes, with plain blocking sockets so that nothing here depends on the load code. */
@Timeout(60)
class BenchUpstreamServerTest {
    private static BenchUpstreamServer server;

    @BeforeAll
    static void start() throws InterruptedException {
        server = BenchUpstreamServer.start(0);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
        s.setSoTimeout(20_000);
        return s;
    }

    @Test
    void echoReturnsEveryByteInOrderAndClosesAfterTheClientsHalfClose() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(1).nextBytes(data);
        try (Socket s = connect()) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(BenchUpstreamServer.ECHO);
                    out.write(data);
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] back = s.getInputStream().readAllBytes(); // to EOF: the server closes after the echo
            writer.get(20, TimeUnit.SECONDS);
            assertEquals(data.length, back.length);
            assertArrayEquals(data, back);
        }
    }

    @Test
    void echoStopsReadingWhileTheClientDoesNotRead() throws Exception {
        try (Socket s = connect()) {
            AtomicLong written = new AtomicLong();
            byte[] chunk = new byte[64 * 1024];
            long limit = 512L * 1024 * 1024;
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(BenchUpstreamServer.ECHO);
                    while (written.get() < limit) {
                        out.write(chunk);
                        written.addAndGet(chunk.length);
                    }
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(1_500);
            long stalledAt = written.get();
            Thread.sleep(500);
            // Only socket buffers (a few MiB each way) and the server's 1 MiB queue can hold data:
            // the writer blocks instead of the server buffering everything.
            assertEquals(stalledAt, written.get(), "the writer should be blocked by backpressure");
            assertTrue(stalledAt < 64L * 1024 * 1024, "server buffered too much: " + stalledAt);

            // Reading resumes the flow: everything comes back.
            InputStream in = s.getInputStream();
            byte[] buf = new byte[256 * 1024];
            long read = 0;
            long target = 16L * 1024 * 1024 + stalledAt;
            while (read < target) {
                int n = in.read(buf);
                assertTrue(n > 0);
                read += n;
            }
            s.close();
            writer.handle((v, e) -> null).get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void sinkCountsEveryByteAndAnswersOnHalfClose() throws Exception {
        long total = 5L * 1024 * 1024 + 3;
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(BenchUpstreamServer.SINK);
            byte[] chunk = new byte[100_000];
            Arrays.fill(chunk, (byte) 'S'); // the mode byte is only special first
            long left = total;
            while (left > 0) {
                int n = (int) Math.min(chunk.length, left);
                out.write(chunk, 0, n);
                left -= n;
            }
            s.shutdownOutput();
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertEquals(total, in.readLong());
            assertEquals(-1, in.read(), "the server closes after the count");
        }
    }

    @Test
    void sinkWithNothingSentAnswersZero() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(BenchUpstreamServer.SINK);
            s.shutdownOutput();
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertEquals(0, in.readLong());
            assertEquals(-1, in.read());
        }
    }

    @Test
    void sourceStreamsExactlyNBytesThenCloses() throws Exception {
        for (long n : new long[] {1, 65_536, 65_537, 7L * 1024 * 1024 + 11}) {
            try (Socket s = connect()) {
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                // The header in pieces: the server must reassemble it.
                out.write(BenchUpstreamServer.SOURCE);
                out.flush();
                byte[] header = java.nio.ByteBuffer.allocate(8).putLong(n).array();
                out.write(header, 0, 3);
                out.flush();
                Thread.sleep(20);
                out.write(header, 3, 5);
                out.flush();
                InputStream in = s.getInputStream();
                byte[] buf = new byte[256 * 1024];
                long received = 0;
                int r;
                while ((r = in.read(buf)) != -1) {
                    received += r;
                }
                assertEquals(n, received, "N = " + n);
            }
        }
    }

    @Test
    void anUnknownModeClosesTheConnection() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write('X');
            assertEquals(-1, s.getInputStream().read());
        }
    }
}
