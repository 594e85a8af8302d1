package dev.wharf.it;

import static dev.wharf.it.ProxyHeaders.concat;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PROXY protocol v1 and v2 on a real listener: clients bind 127.0.0.2 (the trusted proxy) or
 * 127.0.0.3 (not trusted) and send real headers; the upstream is a real echo server whose accept
 * count shows whether anything reached it.
 */
class ProxyProtocolIT {
    private static final String PROXY = "127.0.0.2";
    private static final String STRANGER = "127.0.0.3";

    private TestUpstream upstream;
    private TestWharf wharf;
    private int port;

    @BeforeEach
    void startUpstream() throws Exception {
        upstream = TestUpstream.echo();
        port = Clients.freePort();
    }

    @AfterEach
    void stop() throws Exception {
        if (wharf != null) {
            wharf.close();
        }
        upstream.close();
    }

    private void start(String mode, String allow, String extra) throws Exception {
        wharf = TestWharf.start(config(mode, allow, extra));
    }

    private String config(String mode, String allow, String extra) {
        return "wharf.listeners.pp { port = " + port + ", host = \"127.0.0.1\", allow = [" + allow
                + "], proxy-protocol = " + mode + ", trusted-proxies = [\"" + PROXY + "\"], " + extra
                + " upstream.endpoints = [\"" + upstream.address() + "\"] }\n";
    }

    @Test
    void v1AndV2HeadersFromATrustedProxyAreAdmittedOnTheSourceTheyName() throws Exception {
        // given a listener that admits 10.1.0.0/16 only: not the proxy's own address
        start("required", "\"10.1.0.0/16\"", "");

        for (byte[] header : new byte[][] {ProxyHeaders.v1("10.1.2.3", 40000), ProxyHeaders.v2("10.1.2.3", 40001)}) {
            try (Socket client = Clients.connect(PROXY, "127.0.0.1", port)) {
                // when the proxy sends the header and the client's first bytes in one write
                client.getOutputStream().write(concat(header, ascii("hello")));

                // then the upstream gets those bytes, without the header, and both directions flow
                assertEquals("hello", read(client, 5));
                send(client, "world");
                assertEquals("world", read(client, 5));
            }
        }
        assertEquals(2, upstream.accepted());
        assertEquals(2, outcome("accepted"));
        assertEquals(0, outcome("denied"));
        assertEquals(20, wharf.metric("wharf_bytes_total", "listener", "pp", "direction", "to_upstream"));
    }

    @Test
    void aHeaderSentAloneIsFollowedByAnOrdinarySession() throws Exception {
        // given
        start("required", "\"10.1.0.0/16\"", "");
        byte[] payload = new byte[200_000];
        new java.util.Random(7).nextBytes(payload);

        try (Socket client = Clients.connect(PROXY, "127.0.0.1", port)) {
            // when the header comes alone, and the data only once the upstream is connected: a session
            // with nothing held back, which splices where the transport can
            client.getOutputStream().write(ProxyHeaders.v2("10.1.2.3", 40000));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (upstream.accepted() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(1, upstream.accepted());
            send(client, "ready");
            assertEquals("ready", read(client, 5));
            client.getOutputStream().write(payload);

            // then every byte comes back, in order
            assertArrayEquals(payload, client.getInputStream().readNBytes(payload.length));
        }
        assertEquals(1, outcome("accepted"));
    }

    @Test
    void headersNamingADeniedSourceAreClosedBeforeAnyUpstreamConnect() throws Exception {
        // given
        start("required", "\"10.1.0.0/16\"", "");

        for (byte[] header : new byte[][] {ProxyHeaders.v1("10.2.0.1", 40000), ProxyHeaders.v2("10.2.0.1", 40001)}) {
            try (Socket client = Clients.connect(PROXY, "127.0.0.1", port)) {
                // when
                client.getOutputStream().write(concat(header, ascii("hello")));

                // then
                assertTrue(Clients.closedByPeer(client), "a source outside the allow list must be refused");
            }
        }
        assertEquals(0, upstream.accepted());
        assertEquals(2, outcome("denied"));
        assertEquals(0, outcome("accepted"));
    }

    @Test
    void aHeaderFromAPeerNotInTrustedProxiesIsRejected() throws Exception {
        // given an optional listener whose allow list admits the stranger itself
        start("optional", "\"10.1.0.0/16\", \"" + STRANGER + "\"", "");

        // when the stranger claims an allowed source
        try (Socket client = Clients.connect(STRANGER, "127.0.0.1", port)) {
            client.getOutputStream().write(concat(ProxyHeaders.v2("10.1.2.3", 40000), ascii("hello")));

            // then
            assertTrue(Clients.closedByPeer(client), "a header from an untrusted peer must be refused");
        }
        // and without a header it is its own source, which is allowed
        try (Socket client = Clients.connect(STRANGER, "127.0.0.1", port)) {
            send(client, "plain");
            assertEquals("plain", read(client, 5));
        }
        assertEquals(1, outcome("proxy_protocol_error"));
        assertEquals(1, upstream.accepted());
    }

    @Test
    void aRequiredListenerClosesAnUntrustedPeerAtOnce() throws Exception {
        // given
        start("required", "\"10.1.0.0/16\", \"" + STRANGER + "\"", "");

        // when
        try (Socket client = Clients.connect(STRANGER, "127.0.0.1", port)) {
            client.getOutputStream().write(concat(ProxyHeaders.v1("10.1.2.3", 40000), ascii("hello")));

            // then
            assertTrue(Clients.closedByPeer(client));
        }
        assertEquals(1, outcome("proxy_protocol_error"));
        assertEquals(0, upstream.accepted());
    }

    @Test
    void revokingTheHeadersSourceClosesItsSessionOnly() throws Exception {
        // given two sessions behind the same proxy, from two allowed ranges
        start("required", "\"10.1.0.0/16\", \"10.3.0.0/16\"", "");
        try (Socket revoked = Clients.connect(PROXY, "127.0.0.1", port);
             Socket kept = Clients.connect(PROXY, "127.0.0.1", port)) {
            revoked.getOutputStream().write(concat(ProxyHeaders.v1("10.1.2.3", 40000), ascii("one")));
            kept.getOutputStream().write(concat(ProxyHeaders.v2("10.3.2.1", 40000), ascii("two")));
            assertEquals("one", read(revoked, 3));
            assertEquals("two", read(kept, 3));

            // when 10.1.0.0/16 leaves the allow list
            wharf.apply(config("required", "\"10.3.0.0/16\"", ""));

            // then the session whose header named it is closed, and the other goes on
            assertTrue(Clients.closedByPeer(revoked), "the revoked source's session must be closed");
            send(kept, "more");
            assertEquals("more", read(kept, 4));
        }
    }

    @Test
    void perSourceLimitsCountTheHeadersSourceNotTheProxy() throws Exception {
        // given one connection per source
        start("required", "\"10.1.0.0/16\"", "max-connections-per-source = 1,");

        try (Socket first = Clients.connect(PROXY, "127.0.0.1", port);
             Socket second = Clients.connect(PROXY, "127.0.0.1", port)) {
            // when two clients behind the same proxy connect
            first.getOutputStream().write(concat(ProxyHeaders.v1("10.1.2.3", 40000), ascii("one")));
            second.getOutputStream().write(concat(ProxyHeaders.v2("10.1.2.4", 40000), ascii("two")));

            // then both pass
            assertEquals("one", read(first, 3));
            assertEquals("two", read(second, 3));

            // and a second connection from one of those sources is limited
            try (Socket again = Clients.connect(PROXY, "127.0.0.1", port)) {
                again.getOutputStream().write(concat(ProxyHeaders.v2("10.1.2.3", 40002), ascii("three")));
                assertTrue(Clients.closedByPeer(again));
            }
        }
        assertEquals(2, outcome("accepted"));
        assertEquals(1, outcome("limited"));
        assertEquals(2, upstream.accepted());
    }

    @Test
    void optionalListenerTakesATrustedPeerWithOrWithoutHeader() throws Exception {
        // given
        start("optional", "\"10.1.0.0/16\", \"" + PROXY + "\"", "");

        // when the proxy sends a header, and then connects without one (as itself)
        try (Socket withHeader = Clients.connect(PROXY, "127.0.0.1", port);
             Socket without = Clients.connect(PROXY, "127.0.0.1", port)) {
            withHeader.getOutputStream().write(concat(ProxyHeaders.v1("10.1.2.3", 40000), ascii("with")));
            send(without, "PRO\r\n"); // starts like "PROXY " but is not a header

            // then both relay
            assertEquals("with", read(withHeader, 4));
            assertEquals("PRO\r\n", read(without, 5));
        }
        assertEquals(2, outcome("accepted"));
        assertEquals(0, outcome("proxy_protocol_error"));
    }

    @Test
    void v2LocalIsTheProxysOwnConnection() throws Exception {
        // given a listener that admits the proxy's own address, as for its health checks
        start("required", "\"10.1.0.0/16\", \"" + PROXY + "\"", "");

        // when
        try (Socket client = Clients.connect(PROXY, "127.0.0.1", port)) {
            client.getOutputStream().write(concat(ProxyHeaders.v2Local(), ascii("check")));

            // then
            assertEquals("check", read(client, 5));
        }
        assertEquals(1, outcome("accepted"));
    }

    @Test
    void malformedHeadersCloseTheConnectionWithoutHarm() throws Exception {
        // given
        start("required", "\"10.1.0.0/16\"", "");
        byte[] v1 = ProxyHeaders.v1("10.1.2.3", 40000);
        byte[] oversized = new byte[200];
        Arrays.fill(oversized, (byte) '9');
        System.arraycopy(ascii("PROXY TCP4 "), 0, oversized, 0, 11);
        byte[] badV2Version = concat(ProxyHeaders.V2_SIGNATURE, new byte[] {0x31, 0x11, 0, 12}, new byte[12]);
        byte[][] malformed = {
            oversized,                                      // a v1 line longer than 107 bytes, no CRLF
            ascii("PROXY TCP4 10.1.2.3\r\nhello"),          // too few fields
            ascii("PROXY \u0001\u0002garbage\r\n"),          // garbage behind the signature
            badV2Version,                                   // v2 signature, version 3
            ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),     // no header at all
        };

        for (byte[] bytes : malformed) {
            try (Socket client = Clients.connect(PROXY, "127.0.0.1", port)) {
                // when
                client.getOutputStream().write(bytes);

                // then
                assertTrue(Clients.closedByPeer(client), "must be closed: " + new String(bytes, US_ASCII));
            }
        }
        // and a truncated header that then stalls is closed at the header timeout
        try (Socket client = Clients.connect(PROXY, "127.0.0.1", port)) {
            client.getOutputStream().write(Arrays.copyOf(v1, 15));
            assertTrue(Clients.closedByPeer(client), "a stalled header must be closed");
        }
        // and so is a truncated one whose sender shuts down its side
        try (Socket client = Clients.connect(PROXY, "127.0.0.1", port)) {
            client.getOutputStream().write(Arrays.copyOf(ProxyHeaders.v2("10.1.2.3", 40000), 20));
            client.shutdownOutput();
            assertTrue(Clients.closedByPeer(client), "a truncated header must be closed");
        }

        // then nothing reached the upstream, each one was counted, and good clients still get through
        assertEquals(0, upstream.accepted());
        assertEquals(malformed.length + 2, outcome("proxy_protocol_error"));
        try (Socket client = Clients.connect(PROXY, "127.0.0.1", port)) {
            client.getOutputStream().write(concat(v1, ascii("still")));
            assertEquals("still", read(client, 5));
        }
        assertEquals(1, outcome("accepted"));
    }

    private double outcome(String outcome) {
        return wharf.metric("wharf_connections_total", "listener", "pp", "outcome", outcome);
    }

    private static void send(Socket socket, String text) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write(ascii(text));
        out.flush();
    }

    private static String read(Socket socket, int n) throws Exception {
        byte[] bytes = socket.getInputStream().readNBytes(n);
        assertEquals(n, bytes.length, "the connection closed after " + new String(bytes, US_ASCII));
        return new String(bytes, US_ASCII);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(US_ASCII);
    }
}
