package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A fast sender and a slow reader, each way: Wharf's direct memory, as its own allocator metrics
 * report it, must stay bounded however much is sent. The client and upstreams here use JDK
 * sockets, so the allocator's numbers are Wharf's alone.
 */
class BackpressureIT {
    /** Far below what either transfer would pile up without backpressure. */
    private static final double BOUND_BYTES = 48 << 20;

    @Test
    void oneGigabyteTowardASlowUpstream() throws Exception {
        long total = 1L << 30;
        AtomicLong consumed = new AtomicLong();
        // given an upstream that reads slowly (small reads with pauses)
        try (TestUpstream slow = TestUpstream.start(s -> {
                 InputStream in = s.getInputStream();
                 byte[] buf = new byte[256 * 1024];
                 int n;
                 while ((n = in.read(buf)) != -1) {
                     consumed.addAndGet(n);
                     Thread.sleep(1);
                 }
                 s.getOutputStream().write('k');
             });
             TestWharf wharf = TestWharf.start(RelayIT.listener("a", Clients.freePort(), "", slow.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            // when the client writes 1 GiB as fast as it can
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = client.getOutputStream();
                    byte[] chunk = new byte[1 << 20];
                    for (long sent = 0; sent < total; sent += chunk.length) {
                        out.write(chunk);
                    }
                    client.shutdownOutput();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            writer.start();
            double peak = samplePeakDirectMemory(wharf, writer);
            // then everything arrived, and Wharf never held more than a bounded amount
            assertNull(failure.get());
            int reply = client.getInputStream().read();
            assertEquals(List.of(), slow.errors());
            assertEquals(total, consumed.get());
            assertEquals('k', reply);
            System.out.printf("direct memory peak: %.1f MiB%n", peak / (1 << 20));
            assertTrue(peak < BOUND_BYTES, "direct memory peaked at " + peak + " bytes");
        }
    }

    @Test
    void halfAGigabyteTowardASlowClient() throws Exception {
        long total = 512L << 20;
        // given an upstream that writes as fast as it can
        try (TestUpstream fast = TestUpstream.start(s -> {
                 OutputStream out = s.getOutputStream();
                 byte[] chunk = new byte[1 << 20];
                 for (long sent = 0; sent < total; sent += chunk.length) {
                     out.write(chunk);
                 }
             });
             TestWharf wharf = TestWharf.start(RelayIT.listener("a", Clients.freePort(), "", fast.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            // when the client reads slowly
            AtomicLong read = new AtomicLong();
            Thread reader = new Thread(() -> {
                try {
                    InputStream in = client.getInputStream();
                    byte[] buf = new byte[128 * 1024];
                    int n;
                    while ((n = in.read(buf)) != -1) {
                        read.addAndGet(n);
                        Thread.sleep(1);
                    }
                } catch (Exception e) {
                    read.set(-1);
                }
            });
            reader.start();
            double peak = samplePeakDirectMemory(wharf, reader);
            // then all of it arrived with bounded memory in between
            assertEquals(total, read.get());
            System.out.printf("direct memory peak: %.1f MiB%n", peak / (1 << 20));
            assertTrue(peak < BOUND_BYTES, "direct memory peaked at " + peak + " bytes");
        }
    }

    /** Reads Netty's direct-memory gauge from /metrics until {@code worker} ends; returns the peak. */
    private static double samplePeakDirectMemory(TestWharf wharf, Thread worker) throws InterruptedException {
        double peak = 0;
        int samples = 0;
        while (worker.isAlive()) {
            peak = Math.max(peak, wharf.metric("netty_allocator_memory_used", "memory_type", "direct"));
            samples++;
            worker.join(50);
        }
        assertTrue(samples > 5, "the transfer was too short to sample: " + samples);
        return peak;
    }
}
