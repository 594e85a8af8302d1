package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The plain TCP relay against small socket-level upstreams: bytes, EOFs, timeouts, limits, failures. */
class RelayIT {

    static String listener(String name, int port, String extra, String... upstreams) {
        return "wharf.listeners." + name + " { port = " + port + ", host = \"127.0.0.1\", allow = [\"127.0.0.0/8\", \"::1\"], "
                + extra + " upstream.endpoints = [\"" + String.join("\", \"", upstreams) + "\"] }\n";
    }

    @Test
    void relaysEveryByteBothWays() throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "", echo.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            // given 8 MiB of random bytes
            byte[] sent = new byte[8 << 20];
            new Random(42).nextBytes(sent);
            // when they go through Wharf to an echo server and back
            Thread writer = new Thread(() -> {
                try {
                    client.getOutputStream().write(sent);
                    client.shutdownOutput();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            byte[] received = client.getInputStream().readAllBytes();
            writer.join();
            // then every byte comes back in order, and the counters saw them
            assertArrayEquals(sent, received);
            awaitMetric(wharf, sent.length, "wharf_bytes_total", "listener", "a", "direction", "to_client");
            assertEquals(sent.length, wharf.metric("wharf_bytes_total", "listener", "a", "direction", "to_upstream"));
            assertEquals(1, wharf.metric("wharf_connections_total", "listener", "a", "outcome", "accepted"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"auto", "io-uring", "nio"})
    void everyDefaultableTransportRelaysAndPassesHalfClose(String transport) throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start("wharf.runtime.transport = " + transport + "\n"
                     + listener("a", Clients.freePort(), "", echo.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            byte[] sent = new byte[1 << 20];
            new Random(3).nextBytes(sent);
            client.getOutputStream().write(sent);
            client.shutdownOutput();
            assertArrayEquals(sent, client.getInputStream().readAllBytes());
        }
    }

    @Test
    void clientHalfCloseStillGetsTheWholeReply() throws Exception {
        byte[] reply = new byte[4 << 20];
        new Random(7).nextBytes(reply);
        // given an upstream that answers only after the request ended (EOF), like an HTTP/1.0 server
        try (TestUpstream upstream = TestUpstream.start(s -> {
                 byte[] request = s.getInputStream().readAllBytes();
                 s.getOutputStream().write(("got " + request.length + "\n").getBytes(StandardCharsets.US_ASCII));
                 s.getOutputStream().write(reply);
             });
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "", upstream.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            // when the client sends its request and shuts down its output
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            // then it still receives the full reply
            DataInputStream in = new DataInputStream(client.getInputStream());
            byte[] header = new byte[8];
            in.readFully(header);
            assertEquals("got 5\n", new String(header, 0, 6, StandardCharsets.US_ASCII));
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            rest.write(header, 6, 2);
            in.transferTo(rest);
            assertArrayEquals(reply, rest.toByteArray());
        }
    }

    @Test
    void upstreamHalfCloseStillTakesTheClientsBytes() throws Exception {
        ByteArrayOutputStream seenByUpstream = new ByteArrayOutputStream();
        // given an upstream that greets, shuts down its output, and then reads until EOF
        try (TestUpstream upstream = TestUpstream.start(s -> {
                 s.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
                 s.shutdownOutput();
                 byte[] all = s.getInputStream().readAllBytes();
                 synchronized (seenByUpstream) {
                     seenByUpstream.write(all);
                     seenByUpstream.notifyAll();
                 }
             });
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "", upstream.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            // when the client reads the greeting and EOF, then still writes
            InputStream in = client.getInputStream();
            assertEquals("bye\n", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
            client.getOutputStream().write("late words".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            // then the upstream gets them
            synchronized (seenByUpstream) {
                long deadline = System.currentTimeMillis() + 5000;
                while (seenByUpstream.size() < 10 && System.currentTimeMillis() < deadline) {
                    seenByUpstream.wait(100);
                }
                assertEquals("late words", seenByUpstream.toString(StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void idleSessionsAreClosed() throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "idle-timeout = 300ms,", echo.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            // given a session that carried bytes
            client.getOutputStream().write(1);
            assertEquals(1, client.getInputStream().read());
            // when nothing moves for longer than idle-timeout
            long start = System.nanoTime();
            // then Wharf closes it (read returns EOF well before the 10 s socket timeout)
            assertTrue(Clients.closedByPeer(client));
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "closed by the idle timeout, not the test timeout");
        }
    }

    @Test
    void connectionsOverTheLimitsAreClosedAndCounted() throws Exception {
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(),
                     "max-connections = 3, max-connections-per-source = 2,", echo.address()))) {
            int port = wharf.port("a");
            // given two sessions from 127.0.0.2: its per-source limit
            try (Socket a1 = open("127.0.0.2", port); Socket a2 = open("127.0.0.2", port)) {
                // when a third comes from the same source, it is refused
                try (Socket a3 = Clients.connect("127.0.0.2", "127.0.0.1", port)) {
                    assertTrue(Clients.closedByPeer(a3));
                }
                // and another source still gets in, up to max-connections
                try (Socket b1 = open("127.0.0.3", port);
                     Socket b2 = Clients.connect("127.0.0.3", "127.0.0.1", port)) {
                    assertTrue(Clients.closedByPeer(b2));
                }
                // then the refusals are counted as limited, and never reached the upstream
                assertEquals(2, wharf.metric("wharf_connections_total", "listener", "a", "outcome", "limited"));
                assertEquals(3, echo.accepted());
            }
        }
    }

    private static Socket open(String source, int port) throws Exception {
        Socket s = Clients.connect(source, "127.0.0.1", port);
        s.getOutputStream().write(9);
        assertEquals(9, s.getInputStream().read(), "an admitted session relays");
        return s;
    }

    @Test
    void refusedUpstreamClosesTheClientPromptlyAndIsCounted() throws Exception {
        int dead = Clients.freePort();
        try (TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "", "127.0.0.1:" + dead));
             Socket client = Clients.connect(wharf.port("a"))) {
            long start = System.nanoTime();
            assertTrue(Clients.closedByPeer(client));
            assertTrue(System.nanoTime() - start < 3_000_000_000L, "closed at once, not after a timeout");
            awaitMetric(wharf, 1, "wharf_connections_total", "listener", "a", "outcome", "upstream_unavailable");
        }
    }

    @Test
    void aFailedEndpointFallsThroughToTheNext() throws Exception {
        int dead = Clients.freePort();
        try (TestUpstream echo = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "upstream.balance = first-healthy,",
                     "127.0.0.1:" + dead, echo.address()));
             Socket client = Clients.connect(wharf.port("a"))) {
            client.getOutputStream().write(5);
            assertEquals(5, client.getInputStream().read());
            assertEquals(1, echo.accepted());
        }
    }

    @Test
    void roundRobinSpreadsSessions() throws Exception {
        try (TestUpstream one = TestUpstream.echo(); TestUpstream two = TestUpstream.echo();
             TestWharf wharf = TestWharf.start(listener("a", Clients.freePort(), "", one.address(), two.address()))) {
            for (int i = 0; i < 4; i++) {
                try (Socket s = open("127.0.0.1", wharf.port("a"))) {
                    assertFalse(s.isClosed());
                }
            }
            assertEquals(2, one.accepted());
            assertEquals(2, two.accepted());
        }
    }

    @Test
    void aPortInUseIsAClearError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> TestWharf.start(listener("pg", taken.getLocalPort(), "", "127.0.0.1:5432")));
            assertEquals("wharf.listeners.pg.port", e.errors().get(0).path());
            assertTrue(e.errors().get(0).message().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()),
                    e.getMessage());
            assertTrue(e.getMessage().toLowerCase().contains("address already in use"), e.getMessage());
        }
    }

    static void awaitMetric(TestWharf wharf, double expected, String name, String... labels) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        double value = wharf.metric(name, labels);
        while (value != expected && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            value = wharf.metric(name, labels);
        }
        assertEquals(expected, value, name);
    }

    static void write(OutputStream out, String text) throws java.io.IOException {
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
