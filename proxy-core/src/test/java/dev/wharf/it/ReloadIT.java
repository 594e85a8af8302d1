package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.config.ConfigException;
import dev.wharf.source.FileConfigSource;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config changes while traffic flows: what changed changes, nothing else does. */
class ReloadIT {
    @TempDir
    Path dir;

    @Test
    void aStreamThroughOneListenerSurvivesFiftyRoundsOfAnotherBeingAddedChangedAndRemoved() throws Exception {
        try (TestUpstream echo = TestUpstream.echo(); TestUpstream other = TestUpstream.echo()) {
            int portA = Clients.freePort();
            String a = RelayIT.listener("a", portA, "", echo.address());
            try (TestWharf wharf = TestWharf.start(a); Socket client = Clients.connect(portA)) {
                // given a client streaming 256 MiB through listener a and checking every byte that comes back
                long total = 256L << 20;
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread writer = new Thread(() -> {
                    try {
                        OutputStream out = client.getOutputStream();
                        byte[] chunk = new byte[64 * 1024];
                        for (long sent = 0; sent < total; sent += chunk.length) {
                            Pattern.fill(chunk, sent);
                            out.write(chunk);
                        }
                        client.shutdownOutput();
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
                writer.start();
                long[] received = {0};
                Thread reader = new Thread(() -> {
                    try {
                        received[0] = Pattern.verify(client.getInputStream());
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
                reader.start();
                // when listener b is added, changed (upstream, allow list, then port) and removed, 50 times
                for (int round = 0; round < 50; round++) {
                    int portB = Clients.freePort();
                    wharf.apply(a + RelayIT.listener("b", portB, "", echo.address()));
                    if (round % 10 == 0) {
                        assertEcho(portB);
                    }
                    wharf.apply(a + RelayIT.listener("b", portB, "max-connections = 5,", other.address()));
                    int movedB = Clients.freePort();
                    wharf.apply(a + RelayIT.listener("b", movedB, "", other.address()));
                    if (round % 10 == 0) {
                        assertEcho(movedB);
                    }
                    wharf.apply(a);
                }
                writer.join();
                reader.join();
                // then a's stream saw no error and every byte arrived, in order
                assertNull(failure.get(), () -> "stream through a failed: " + failure.get());
                assertEquals(total, received[0]);
                assertEquals(201, wharf.metric("wharf_config_generation"));
                assertEquals(1, wharf.metric("wharf_connections_total", "listener", "a", "outcome", "accepted"));
            }
        }
    }

    @Test
    void aNewUpstreamTableTakesNewSessionsAndARemovedListenerDrains() throws Exception {
        try (TestUpstream first = TestUpstream.echo(); TestUpstream second = TestUpstream.echo()) {
            int port = Clients.freePort();
            try (TestWharf wharf = TestWharf.start(RelayIT.listener("a", port, "drain-timeout = 1s,", first.address()));
                 Socket old = Clients.connect(port)) {
                assertEchoOn(old, 1);
                // when the upstream table changes
                wharf.apply(RelayIT.listener("a", port, "drain-timeout = 1s,", second.address()));
                // then a new session goes to the new endpoint, and the old one stays where it was
                try (Socket fresh = Clients.connect(port)) {
                    assertEchoOn(fresh, 2);
                }
                assertEquals(1, first.accepted());
                assertEquals(1, second.accepted());
                assertEchoOn(old, 3);
                // when the listener is removed
                wharf.apply("");
                // then it accepts nobody, its live session goes on until the drain timeout closes it
                assertThrows(java.net.ConnectException.class, () -> Clients.connect(port));
                assertEchoOn(old, 4);
                long start = System.nanoTime();
                assertEquals(-1, old.getInputStream().read());
                assertTrue(System.nanoTime() - start < 5_000_000_000L, "closed by the 1 s drain timeout");
            }
        }
    }

    private static void assertEchoOn(Socket socket, int value) throws Exception {
        socket.getOutputStream().write(value);
        assertEquals(value, socket.getInputStream().read());
    }

    private static void assertEcho(int port) throws Exception {
        try (Socket s = Clients.connect(port)) {
            s.getOutputStream().write(42);
            assertEquals(42, s.getInputStream().read());
        }
    }

    @Test
    void anInvalidFileIsRejectedWholeAndTheLastGoodConfigKeepsServing() throws Exception {
        try (TestUpstream echo = TestUpstream.echo()) {
            int port = Clients.freePort();
            Path file = dir.resolve("wharf.conf");
            String good = RelayIT.listener("a", port, "", echo.address());
            Files.writeString(file, good);
            try (TestWharf wharf = TestWharf.start(good);
                 FileConfigSource source = FileConfigSource.watch(file, wharf.server());
                 Socket live = Clients.connect(port)) {
                String[] bad = {
                    "wharf.listeners.a { port = ",                                          // syntax error
                    good + "wharf.listeners.a.colour = blue\n",                             // unknown key
                    good.replace("\"::1\"", "\"10.0.0.0/33\""),                              // bad CIDR
                    good + RelayIT.listener("b", 70000, "", echo.address()),                // port out of range
                    good + RelayIT.listener("b", port, "", echo.address()),                 // duplicate port
                };
                for (int i = 0; i < bad.length; i++) {
                    // when the file turns invalid
                    Files.writeString(file, bad[i]);
                    awaitMetric(wharf, i + 1, "wharf_config_reloads_total", "outcome", "rejected");
                    // then nothing changed: same generation, the live session and new ones still relay
                    assertEquals(1, wharf.metric("wharf_config_generation"));
                    live.getOutputStream().write(i);
                    assertEquals(i, live.getInputStream().read());
                    assertEcho(port);
                }
            }
        }
    }

    @Test
    void aKubeletStyleSymlinkSwapIsApplied() throws Exception {
        // given a mounted-ConfigMap layout: wharf.conf -> ..data/wharf.conf, ..data -> ..v1
        try (TestUpstream echo = TestUpstream.echo()) {
            int portA = Clients.freePort();
            int portB = Clients.freePort();
            String v1 = RelayIT.listener("a", portA, "", echo.address());
            String v2 = v1 + RelayIT.listener("b", portB, "", echo.address());
            Files.createDirectories(dir.resolve("..v1"));
            Files.writeString(dir.resolve("..v1/wharf.conf"), v1);
            Files.createSymbolicLink(dir.resolve("..data"), Path.of("..v1"));
            Files.createSymbolicLink(dir.resolve("wharf.conf"), Path.of("..data/wharf.conf"));
            try (TestWharf wharf = TestWharf.start(v1);
                 FileConfigSource source = FileConfigSource.watch(dir.resolve("wharf.conf"), wharf.server())) {
                // when the kubelet writes ..v2 and atomically renames a new ..data link over the old one
                Files.createDirectories(dir.resolve("..v2"));
                Files.writeString(dir.resolve("..v2/wharf.conf"), v2);
                Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..v2"));
                Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
                // then the new listener is bound
                awaitMetric(wharf, 2, "wharf_config_generation");
                assertEcho(portB);
            }
        }
    }

    @Test
    void aFailedBindLeavesEverythingAsItWas() throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int portA = Clients.freePort();
            String a = RelayIT.listener("a", portA, "", echo.address());
            try (TestWharf wharf = TestWharf.start(a); Socket live = Clients.connect(portA)) {
                // when an update adds a listener on a port someone else holds, and moves a
                ConfigException e = assertThrows(ConfigException.class, () -> wharf.apply(
                        RelayIT.listener("a", Clients.freePort(), "", echo.address())
                                + RelayIT.listener("b", taken.getLocalPort(), "", echo.address())));
                // then it is rejected, a keeps its socket and its session
                assertEquals("wharf.listeners.b.port", e.errors().get(0).path());
                live.getOutputStream().write(7);
                assertEquals(7, live.getInputStream().read());
                assertEcho(portA);
                assertEquals(1, wharf.metric("wharf_config_generation"));
            }
        }
    }

    static void awaitMetric(TestWharf wharf, double expected, String name, String... labels) throws InterruptedException {
        RelayIT.awaitMetric(wharf, expected, name, labels);
    }

    /** A byte stream whose every byte is a function of its offset, so a reader can check order and content. */
    static final class Pattern {
        static byte at(long offset) {
            return (byte) (offset * 31 + (offset >>> 11));
        }

        static void fill(byte[] chunk, long offset) {
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = at(offset + i);
            }
        }

        /** Reads to EOF, checking every byte; returns the count. */
        static long verify(InputStream in) throws java.io.IOException {
            byte[] buf = new byte[64 * 1024];
            long offset = 0;
            int n;
            while ((n = in.read(buf)) != -1) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] != at(offset + i)) {
                        throw new AssertionError("byte " + (offset + i) + " differs");
                    }
                }
                offset += n;
            }
            return offset;
        }
    }
}
