package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.source.FileConfigSource;
import dev.wharf.testing.RedisServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Source-CIDR allow lists, seen from the clients and from the real upstream's own counters. */
class AllowListIT {
    @RegisterExtension
    static final RedisServer REDIS = new RedisServer();

    @TempDir
    Path dir;

    private static String config(int port, String allow) {
        return "wharf.listeners.redis { port = " + port + ", host = \"::\", allow = [" + allow + "], "
                + "upstream.endpoints = [\"127.0.0.1:" + REDIS.port() + "\"] }\n";
    }

    @Test
    void onlyListedSourcesPassAndDeniedOnesNeverReachTheUpstream() throws Exception {
        int port = Clients.freePort();
        try (TestWharf wharf = TestWharf.start(config(port, "\"127.0.0.2/32\", \"::1/128\""))) {
            long upstreamConnectionsBefore = REDIS.statLong("total_connections_received");
            // given clients from an allowed IPv4 source, an allowed IPv6 source and a denied source
            try (Socket allowed4 = Clients.connect("127.0.0.2", "127.0.0.1", port);
                 Socket allowed6 = Clients.connect("::1", "::1", port)) {
                // then the allowed ones talk to Redis
                assertEquals("+PONG", ping(allowed4));
                assertEquals("+PONG", ping(allowed6));
                // and the denied ones are closed without a reply
                for (String source : new String[] {"127.0.0.3", "127.0.0.1"}) {
                    try (Socket denied = Clients.connect(source, "127.0.0.1", port)) {
                        denied.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                        assertTrue(Clients.closedByPeer(denied), source + " must be refused");
                    }
                }
            }
            // and Redis saw exactly the two allowed connections
            assertEquals(upstreamConnectionsBefore + 2, REDIS.statLong("total_connections_received"));
            assertEquals(2, wharf.metric("wharf_connections_total", "listener", "redis", "outcome", "denied"));
            assertEquals(2, wharf.metric("wharf_connections_total", "listener", "redis", "outcome", "accepted"));
        }
    }

    @Test
    void anEmptyAllowListAdmitsNobody() throws Exception {
        int port = Clients.freePort();
        try (TestWharf wharf = TestWharf.start(config(port, ""))) {
            long before = REDIS.statLong("total_connections_received");
            try (Socket client = Clients.connect("127.0.0.1", "127.0.0.1", port)) {
                assertTrue(Clients.closedByPeer(client));
            }
            assertEquals(before, REDIS.statLong("total_connections_received"));
        }
    }

    @Test
    void removingARangeFromTheWatchedFileClosesItsLiveSessionsOnly() throws Exception {
        int port = Clients.freePort();
        Path file = dir.resolve("wharf.conf");
        String admin = "wharf.admin { host = \"127.0.0.1\", port = 0 }\n";
        Files.writeString(file, admin + config(port, "\"127.0.0.2\", \"127.0.0.3\""));
        try (TestWharf wharf = TestWharf.start(Files.readString(file));
             FileConfigSource source = FileConfigSource.watch(file, wharf.server());
             Socket revoked = Clients.connect("127.0.0.2", "127.0.0.1", port);
             Socket kept = Clients.connect("127.0.0.3", "127.0.0.1", port)) {
            // given two live sessions from two allowed sources
            assertEquals("+PONG", ping(revoked));
            assertEquals("+PONG", ping(kept));
            // when 127.0.0.2 is removed from the file
            Files.writeString(file, admin + config(port, "\"127.0.0.3\""));
            long start = System.nanoTime();
            // then its session is closed within 2 s
            revoked.setSoTimeout(2000);
            assertTrue(Clients.closedByPeer(revoked), "the revoked session must be closed");
            assertTrue(System.nanoTime() - start < 2_000_000_000L, "revocation took more than 2 s");
            // and the other source's session goes on
            assertEquals("+PONG", ping(kept));
            assertEquals(2, wharf.metric("wharf_config_generation"));
        }
    }

    private static String ping(Socket socket) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c == -1) {
                throw new java.io.EOFException("closed after " + line);
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }
}
