package dev.wharf.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** protocol = http against small JDK HttpServer upstreams, through real sockets and raw HTTP/1.1 clients. */
class HttpListenerIT {
    private static final String HTTP = "protocol = http, ";

    @Test
    void sequentialRequestsReuseOneUpstreamConnection() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP, up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            // when five requests go one after the other on one client connection
            for (int i = 0; i < 5; i++) {
                send(client, "GET /doc/" + i + " HTTP/1.1\r\nHost: search\r\n\r\n");
                Response r = Response.read(client.getInputStream());
                // then each is answered, and all went over one upstream connection
                assertEquals(200, r.status);
                assertEquals("a /doc/" + i, r.body);
            }
            assertEquals(1, up.connections.size(), "upstream connections: " + up.connections);
        }
    }

    @Test
    void aReloadThatRevokesTheClientsSourceClosesItsKeepAliveConnection() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP, up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            // given a keep-alive connection that has been answered
            send(client, "GET /before HTTP/1.1\r\nHost: search\r\n\r\n");
            assertEquals(200, Response.read(client.getInputStream()).status);

            // when the allow list no longer admits 127.0.0.1
            wharf.apply("wharf.listeners.s { port = " + wharf.port("s") + ", host = \"127.0.0.1\", allow = [\"127.0.0.2\"], "
                    + HTTP + "upstream.endpoints = [\"" + up.address() + "\"] }\n");

            // then Wharf closes that connection, as it closes a byte session that lost access
            assertTrue(Clients.closedByPeer(client), "the revoked keep-alive connection stayed open");
            RelayIT.awaitMetric(wharf, 0, "wharf_connections_active", "listener", "s");
        }
    }

    @Test
    void aDrainingListenerClosesIdleKeepAliveConnectionsAtOnceAndEndsBusyOnesAfterTheirResponse() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP + "drain-timeout = 60s, ",
                     up.address()));
             Socket idle = Clients.connect(wharf.port("s"));
             Socket busy = Clients.connect(wharf.port("s"))) {
            // given one answered keep-alive connection, and one whose request is still being answered
            send(idle, "GET /before HTTP/1.1\r\nHost: search\r\n\r\n");
            assertEquals(200, Response.read(idle.getInputStream()).status);
            send(busy, "GET /slow/1000 HTTP/1.1\r\nHost: search\r\n\r\n");
            Thread.sleep(200);

            // when a reload removes the listener (it drains for up to 60 s)
            wharf.apply("");

            // then the idle connection is closed now, and the busy one gets its answer, marked as the last
            assertTrue(Clients.closedByPeer(idle), "the idle keep-alive connection was left open while draining");
            Response last = Response.read(busy.getInputStream());
            assertEquals(200, last.status());
            assertEquals("a /slow/1000", last.body());
            assertEquals("close", last.headers().get("connection"));
            assertTrue(Clients.closedByPeer(busy), "the drained connection stayed open after its last response");
        }
    }

    @Test
    void requestsOfOneClientConnectionAreBalancedRoundRobin() throws Exception {
        try (Upstream a = new Upstream("a"); Upstream b = new Upstream("b");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(),
                     HTTP + "upstream.balance = round-robin, ", a.address(), b.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            StringBuilder order = new StringBuilder();
            for (int i = 0; i < 4; i++) {
                send(client, "GET /x HTTP/1.1\r\nHost: search\r\n\r\n");
                order.append(Response.read(client.getInputStream()).body.charAt(0));
            }
            assertTrue(order.toString().equals("abab") || order.toString().equals("baba"), order.toString());
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP, up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            // given three requests in one write, the first one slow to answer
            send(client, "GET /slow/300 HTTP/1.1\r\nHost: s\r\n\r\nGET /two HTTP/1.1\r\nHost: s\r\n\r\n"
                    + "POST /three HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\n\r\nhello");
            // then the answers come in the order of the requests
            assertEquals("a /slow/300", Response.read(client.getInputStream()).body);
            assertEquals("a /two", Response.read(client.getInputStream()).body);
            assertEquals("a /three 5", Response.read(client.getInputStream()).body);
        }
    }

    @Test
    void forwardedHeadersAreAddedAndHostIsKeptOrRewritten() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP, up.address())
                     + RelayIT.listener("r", Clients.freePort(), HTTP + "http.host-header = \"search.internal:9200\", ",
                     up.address()));
             Socket client = Clients.connect("127.0.0.2", "127.0.0.1", wharf.port("s"));
             Socket rewritten = Clients.connect(wharf.port("r"))) {
            send(client, "GET /headers HTTP/1.1\r\nHost: search.example\r\nX-Forwarded-For: 10.1.1.1\r\n"
                    + "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nProxy-Authorization: x\r\nTE: trailers\r\n\r\n");
            Map<String, String> seen = up.lastHeaders;
            assertEquals(200, Response.read(client.getInputStream()).status);
            seen = up.lastHeaders;
            assertEquals("search.example", seen.get("host"));
            assertEquals("10.1.1.1, 127.0.0.2", seen.get("x-forwarded-for"));
            assertEquals("for=127.0.0.2;proto=http", seen.get("forwarded"));
            assertFalse(seen.containsKey("x-hop") || seen.containsKey("proxy-authorization") || seen.containsKey("te"),
                    seen.toString());

            send(rewritten, "GET /headers HTTP/1.1\r\nHost: search.example\r\n\r\n");
            assertEquals(200, Response.read(rewritten.getInputStream()).status);
            assertEquals("search.internal:9200", up.lastHeaders.get("host"));
        }
    }

    @Test
    void expectContinueIsAnsweredAndTheBodyFollows() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP, up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            send(client, "PUT /idx/_doc/1 HTTP/1.1\r\nHost: s\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
            assertEquals(100, Response.read(client.getInputStream()).status);
            send(client, "body");
            Response r = Response.read(client.getInputStream());
            assertEquals("a /idx/_doc/1 4", r.body);
        }
    }

    @Test
    void twoHundredMebibytesStreamBothWaysWithBoundedMemory() throws Exception {
        long size = 200L << 20;
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP, up.address()));
             Socket client = Clients.connect(wharf.port("s"));
             MemoryWatch watch = new MemoryWatch()) {
            // upload: 200 MiB, counted by the upstream
            send(client, "POST /_bulk HTTP/1.1\r\nHost: s\r\nContent-Length: " + size + "\r\n\r\n");
            byte[] chunk = new byte[64 << 10];
            OutputStream out = client.getOutputStream();
            for (long sent = 0; sent < size; sent += chunk.length) {
                out.write(chunk);
            }
            out.flush();
            assertEquals("a /_bulk " + size, Response.read(client.getInputStream()).body);
            // download: 200 MiB, chunked by the upstream
            send(client, "GET /download/" + size + " HTTP/1.1\r\nHost: s\r\n\r\n");
            assertEquals(size, Response.readCounting(client.getInputStream()));
            // then Netty's buffers never held more than a few read batches
            assertTrue(watch.max() < 64L << 20, "direct memory peaked at " + (watch.max() >> 20) + " MiB");
        }
    }

    @Test
    void getIsRetriedOnAnotherEndpointAfterARefusedConnectButPostIsNot() throws Exception {
        int refused = Clients.freePort();
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(),
                     HTTP + "upstream.balance = first-healthy, upstream.eject-after = 0, ",
                     "127.0.0.1:" + refused, up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            ListAppender<ILoggingEvent> logs = captureLogs();
            send(client, "GET /x HTTP/1.1\r\nHost: s\r\n\r\n");
            assertEquals("a /x", Response.read(client.getInputStream()).body);

            send(client, "POST /idx/_bulk HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\n{}");
            Response post = Response.read(client.getInputStream());
            assertEquals(502, post.status);
            assertTrue(post.body.startsWith("{\"error\":{\"type\":\"wharf_bad_gateway\",\"reason\":\""), post.body);
            assertTrue(post.body.endsWith("\"},\"status\":502}"), post.body);
            assertEquals(0, up.posts.get(), "the POST reached no upstream");
            assertTrue(accessLines(logs).stream().anyMatch(l -> l.contains("path=/x") && l.contains("retries=1")),
                    accessLines(logs).toString());
        }
    }

    @Test
    void errorsAreHttpWithJsonBodies() throws Exception {
        int refused = Clients.freePort();
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(
                     RelayIT.listener("dead", Clients.freePort(), HTTP, "127.0.0.1:" + refused)
                     + RelayIT.listener("down", Clients.freePort(), HTTP
                             + "upstream.health-check { type = tcp, interval = 100ms, rise = 1, fall = 1 }, ",
                             "127.0.0.1:" + refused)
                     + RelayIT.listener("s", Clients.freePort(), HTTP
                             + "http { response-timeout = 300ms, max-headers = 5, max-initial-line = 1KiB }, ",
                             up.address()))) {
            assertError(wharf.port("dead"), "GET / HTTP/1.1\r\nHost: s\r\n\r\n", 502, "wharf_bad_gateway");
            assertError(wharf.port("down"), "GET / HTTP/1.1\r\nHost: s\r\n\r\n", 503, "wharf_service_unavailable");
            assertError(wharf.port("s"), "GET /slow/2000 HTTP/1.1\r\nHost: s\r\n\r\n", 504, "wharf_gateway_timeout");
            assertError(wharf.port("s"), "GET /x HTTP/1.1\r\nHost: s\r\nContent-Length: nope\r\n\r\n", 400,
                    "wharf_bad_request");
            assertError(wharf.port("s"), "GET /x HTTP/1.1\r\nHost: s\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
                    431, "wharf_request_header_fields_too_large");
            assertError(wharf.port("s"), "GET /" + "x".repeat(2000) + " HTTP/1.1\r\nHost: s\r\n\r\n", 414,
                    "wharf_uri_too_long");
        }
    }

    @Test
    void authorizationFileReplacesTheClientsAndIsNeverShown(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("opensearch-auth"), "admin:s3cr3t-pass\n");
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(),
                     HTTP + "http.authorization-file = \"" + file + "\", ", up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            ListAppender<ILoggingEvent> logs = captureLogs();
            send(client, "GET /headers?token=abc HTTP/1.1\r\nHost: s\r\nAuthorization: Basic Y2xpZW50OnB3\r\n\r\n");
            assertEquals(200, Response.read(client.getInputStream()).status);
            String expected = "Basic " + Base64.getEncoder().encodeToString("admin:s3cr3t-pass".getBytes(UTF_8));
            assertEquals(expected, up.lastHeaders.get("authorization"));

            // a rotated secret is picked up (mtime changes; the file is looked at once a second at most)
            Files.writeString(file, "admin:rotated\n");
            Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
            Thread.sleep(1100);
            send(client, "GET /headers HTTP/1.1\r\nHost: s\r\n\r\n");
            assertEquals(200, Response.read(client.getInputStream()).status);
            assertEquals("Basic " + Base64.getEncoder().encodeToString("admin:rotated".getBytes(UTF_8)),
                    up.lastHeaders.get("authorization"));

            String config = wharf.admin("/config").body();
            assertTrue(config.contains(file.toString()), config);
            assertFalse(config.contains("s3cr3t") || config.contains("rotated"), config);
            List<String> lines = logs.list.stream().map(e -> e.getFormattedMessage() + " " + e.getKeyValuePairs()).toList();
            assertFalse(lines.stream().anyMatch(l -> l.contains("s3cr3t") || l.contains("rotated")
                    || l.contains(expected.substring(6))), lines.toString());
            // the access log has the path, not the query
            assertTrue(accessLines(logs).stream().anyMatch(l -> l.contains("path=/headers,") && !l.contains("token")),
                    accessLines(logs).toString());
        }
    }

    @Test
    void requestsAreCountedTimedAndLogged() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP, up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            ListAppender<ILoggingEvent> logs = captureLogs();
            send(client, "GET /a HTTP/1.1\r\nHost: s\r\n\r\n");
            Response.read(client.getInputStream());
            send(client, "PROPFIND /b HTTP/1.1\r\nHost: s\r\n\r\n");
            Response.read(client.getInputStream());
            send(client, "GET /status/404 HTTP/1.1\r\nHost: s\r\n\r\n");
            assertEquals(404, Response.read(client.getInputStream()).status);

            assertEquals(1, wharf.metric("wharf_http_requests_total", "listener", "s", "method", "GET", "code_class", "2xx"));
            assertEquals(1, wharf.metric("wharf_http_requests_total", "listener", "s", "method", "other", "code_class", "2xx"));
            assertEquals(1, wharf.metric("wharf_http_requests_total", "listener", "s", "method", "GET", "code_class", "4xx"));
            assertEquals(3, wharf.metric("wharf_http_request_seconds_count", "listener", "s"));
            String line = accessLines(logs).get(0);
            for (String kv : List.of("listener=s", "source=127.0.0.1:", "method=GET", "path=/a", "status=200",
                    "bytes_in=0", "bytes_out=4", "duration_ms=", "upstream=" + up.address(), "retries=0")) {
                assertTrue(line.contains(kv), kv + " in " + line);
            }
        }
    }

    @Test
    void anIdleKeepAliveClientIsClosedAfterTheIdleTimeout() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP + "idle-timeout = 300ms, ",
                     up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            send(client, "GET /x HTTP/1.1\r\nHost: s\r\n\r\n");
            assertEquals(200, Response.read(client.getInputStream()).status);
            long start = System.nanoTime();
            assertEquals(-1, client.getInputStream().read());
            assertTrue(System.nanoTime() - start < 5_000_000_000L);
            RelayIT.awaitMetric(wharf, 0, "wharf_connections_active", "listener", "s");
        }
    }

    @Test
    void anIdleUpstreamConnectionTheUpstreamClosedIsNotUsed() throws Exception {
        try (Upstream up = new Upstream("a");
             TestWharf wharf = TestWharf.start(RelayIT.listener("s", Clients.freePort(), HTTP, up.address()));
             Socket client = Clients.connect(wharf.port("s"))) {
            send(client, "GET /x HTTP/1.1\r\nHost: s\r\n\r\n");
            assertEquals(200, Response.read(client.getInputStream()).status);
            // when the upstream closes its keep-alive connection (a restart), then comes back on the same port
            int port = Integer.parseInt(up.address().substring(up.address().lastIndexOf(':') + 1));
            up.close();
            try (Upstream again = new Upstream("b", port)) {
                Thread.sleep(200);
                send(client, "GET /y HTTP/1.1\r\nHost: s\r\n\r\n");
                // then the next request goes over a new connection, without an error
                assertEquals("b /y", Response.read(client.getInputStream()).body);
            }
        }
    }

    // ---- helpers

    private static void assertError(int port, String request, int status, String type) throws IOException {
        try (Socket client = Clients.connect(port)) {
            send(client, request);
            Response r = Response.read(client.getInputStream());
            assertEquals(status, r.status, r.body);
            assertEquals("application/json; charset=UTF-8", r.headers.get("content-type"));
            assertTrue(r.body.matches("\\{\"error\":\\{\"type\":\"" + type + "\",\"reason\":\"[^\"]+\"},\"status\":"
                    + status + "}"), r.body);
        }
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(US_ASCII));
        socket.getOutputStream().flush();
    }

    private static ListAppender<ILoggingEvent> captureLogs() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(appender);
        ((Logger) LoggerFactory.getLogger("wharf.access")).addAppender(appender);
        return appender;
    }

    private static List<String> accessLines(ListAppender<ILoggingEvent> logs) {
        return logs.list.stream().filter(e -> e.getLoggerName().equals("wharf.access"))
                .map(e -> e.getFormattedMessage() + " " + e.getKeyValuePairs().stream()
                        .map(kv -> kv.key + "=" + kv.value).reduce((x, y) -> x + ", " + y).orElse("") + ",")
                .distinct().toList();
    }

    /** The largest direct memory Netty's default allocator held while it ran. */
    private static final class MemoryWatch implements AutoCloseable {
        private final AtomicLong max = new AtomicLong();
        private final Thread thread = new Thread(this::watch, "memory-watch");
        private volatile boolean running = true;

        MemoryWatch() {
            thread.setDaemon(true);
            thread.start();
        }

        private void watch() {
            ByteBufAllocatorMetricProvider provider = (ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT;
            while (running) {
                max.accumulateAndGet(provider.metric().usedDirectMemory(), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        long max() {
            return max.get();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join();
        }
    }

    /** A status, lowercased headers and a body (Content-Length or chunked), read from a raw socket. */
    record Response(int status, Map<String, String> headers, String body) {
        static Response read(InputStream in) throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            Head head = Head.read(in);
            readBody(in, head, body, false);
            return new Response(head.status, head.headers, body.toString(UTF_8));
        }

        /** Reads a response and returns its body's length without keeping it. */
        static long readCounting(InputStream in) throws IOException {
            Head head = Head.read(in);
            return readBody(in, head, null, true);
        }

        private static long readBody(InputStream in, Head head, ByteArrayOutputStream into, boolean count) throws IOException {
            if (head.status < 200 || head.status == 204 || head.status == 304) {
                return 0;
            }
            byte[] buffer = new byte[64 << 10];
            long total = 0;
            if ("chunked".equalsIgnoreCase(head.headers.get("transfer-encoding"))) {
                while (true) {
                    long size = Long.parseLong(line(in).split(";")[0].trim(), 16);
                    if (size == 0) {
                        while (!line(in).isEmpty()) {
                            // trailers
                        }
                        return total;
                    }
                    total += copy(in, size, buffer, into);
                    line(in);
                }
            }
            long length = Long.parseLong(head.headers.getOrDefault("content-length", "0"));
            return copy(in, length, buffer, into);
        }

        private static long copy(InputStream in, long length, byte[] buffer, ByteArrayOutputStream into) throws IOException {
            long left = length;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new IOException("EOF with " + left + " bytes of body missing");
                }
                if (into != null) {
                    into.write(buffer, 0, n);
                }
                left -= n;
            }
            return length;
        }

        private record Head(int status, Map<String, String> headers) {
            static Head read(InputStream in) throws IOException {
                String statusLine = line(in);
                int status = Integer.parseInt(statusLine.split(" ")[1]);
                Map<String, String> headers = new LinkedHashMap<>();
                for (String l = line(in); !l.isEmpty(); l = line(in)) {
                    int colon = l.indexOf(':');
                    headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
                }
                return new Head(status, headers);
            }
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder out = new StringBuilder();
            int c;
            while ((c = in.read()) != '\n') {
                if (c < 0) {
                    throw new IOException("EOF after " + out);
                }
                if (c != '\r') {
                    out.append((char) c);
                }
            }
            return out.toString();
        }
    }

    /**
     * A JDK HttpServer answering "{name} {path}" (plus " {body length}" when there was a body);
     * /headers records the request's headers, /slow/{ms} waits, /status/{code} answers that code,
     * /download/{bytes} streams that many bytes chunked. It records each connection's client port.
     */
    static final class Upstream implements AutoCloseable {
        final Set<Integer> connections = ConcurrentHashMap.newKeySet();
        final AtomicLong posts = new AtomicLong();
        volatile Map<String, String> lastHeaders = Map.of();
        private final HttpServer server;
        private final String name;

        Upstream(String name) throws IOException {
            this(name, 0);
        }

        Upstream(String name, int port) throws IOException {
            this.name = name;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            server.setExecutor(Executors.newFixedThreadPool(8));
            server.createContext("/", this::handle);
            server.start();
        }

        String address() {
            return "127.0.0.1:" + server.getAddress().getPort();
        }

        private void handle(HttpExchange exchange) throws IOException {
            connections.add(exchange.getRemoteAddress().getPort());
            if (exchange.getRequestMethod().equals("POST")) {
                posts.incrementAndGet();
            }
            String path = exchange.getRequestURI().getPath();
            long bodyBytes = 0;
            try (InputStream in = exchange.getRequestBody()) {
                byte[] buffer = new byte[64 << 10];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    bodyBytes += n;
                }
            }
            int status = 200;
            if (path.startsWith("/headers")) {
                Map<String, String> headers = new LinkedHashMap<>();
                exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(", ", v)));
                lastHeaders = headers;
            } else if (path.startsWith("/slow/")) {
                try {
                    Thread.sleep(Long.parseLong(path.substring(6)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else if (path.startsWith("/status/")) {
                status = Integer.parseInt(path.substring(8));
            } else if (path.startsWith("/download/")) {
                long size = Long.parseLong(path.substring(10));
                exchange.sendResponseHeaders(200, 0);
                byte[] chunk = new byte[64 << 10];
                try (OutputStream out = exchange.getResponseBody()) {
                    for (long sent = 0; sent < size; sent += chunk.length) {
                        out.write(chunk, 0, (int) Math.min(chunk.length, size - sent));
                    }
                }
                return;
            }
            byte[] body = (name + " " + path + (bodyBytes > 0 ? " " + bodyBytes : "")).getBytes(UTF_8);
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }

        @Override
        public void close() {
            server.stop(0);
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
    }
}
