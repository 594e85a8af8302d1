package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.wharf.testing.OpenSearchNode;
import dev.wharf.testing.OpenSearchNodes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Wharf's {@code protocol = http} listener in front of two real OpenSearch 2.19 nodes. The nodes are two independent
 * single-node clusters ({@code wharf-os-1}, {@code wharf-os-2}): each answers {@code GET /} with its own name, so
 * per-request balancing is visible, and killing one leaves the other untouched. A consequence: state one node holds
 * (a scroll context, a document indexed once) is not on the other, so the scroll test goes through a second listener
 * with node 1 only, and the tests that write through the balanced listener look at both nodes directly.
 *
 * <p>Both nodes and one Wharf start once for the class; the node kill runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenSearchThroughWharfIT {

    @RegisterExtension
    static final OpenSearchNodes NODES = new OpenSearchNodes(2);

    /** Far below the 100 MB bulk body: Wharf streams it, never holds it. */
    private static final long MEMORY_BOUND_BYTES = 32L << 20;
    private static final long BULK_MIN_BYTES = 100L << 20;

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private static TestWharf wharf;

    @BeforeAll
    static void startWharf() throws Exception {
        wharf = TestWharf.start(config(Clients.freePort(), Clients.freePort()));
        awaitBothHealthy();
    }

    @AfterAll
    static void stopWharf() {
        if (wharf != null) {
            wharf.close();
        }
    }

    /** The HTTP mode's config; {@code opensearch-1} is node 1 alone, for the scroll test. */
    static String config(int port, int singlePort) {
        return """
                wharf.listeners.opensearch {
                  port = %d, host = "127.0.0.1", protocol = http, allow = ["127.0.0.0/8"]
                  upstream {
                    endpoints = ["127.0.0.1:%d", "127.0.0.1:%d"]
                    balance = round-robin
                    health-check { type = http, path = "/_cluster/health", expect-body = "\\"status\\"\\\\s*:\\\\s*\\"(green|yellow)\\"", interval = 1s, rise = 1, fall = 1 }
                  }
                  http { response-timeout = 60s }
                }
                wharf.listeners.opensearch-1 {
                  port = %d, host = "127.0.0.1", protocol = http, allow = ["127.0.0.0/8"]
                  upstream {
                    endpoints = ["127.0.0.1:%d"]
                    health-check { type = http, path = "/_cluster/health", expect-body = "\\"status\\"\\\\s*:\\\\s*\\"(green|yellow)\\"", interval = 1s, rise = 1, fall = 1 }
                  }
                  http { response-timeout = 60s }
                }
                """.formatted(port, NODES.get(0).port(), NODES.get(1).port(), singlePort, NODES.get(0).port());
    }

    // ---- tests ----

    @Test
    @Order(1)
    void theHealthCheckPatternMatchesWhatBothNodesAnswer() {
        // given the expect-body of the config, as HOCON reads it (Typesafe Config, not Wharf)
        String expect = ConfigFactory.parseString(config(1, 2))
                .getString("wharf.listeners.opensearch.upstream.health-check.expect-body");
        assertEquals("\"status\"\\s*:\\s*\"(green|yellow)\"", expect);
        Pattern healthy = Pattern.compile(expect);

        // then it matches both nodes' real health answers, and not a red one
        for (OpenSearchNode node : NODES.all()) {
            String body = node.expectOk("GET", "/_cluster/health", null);
            assertTrue(healthy.matcher(body).find(), node + ": " + body);
        }
        assertFalse(healthy.matcher("{\"cluster_name\":\"x\",\"status\":\"red\"}").find());
    }

    @Test
    @Order(2)
    void balancesEachRequestOfOneKeepAliveConnectionAcrossBothNodes() throws Exception {
        double before = requestsTotal("GET", "2xx");
        Map<String, Integer> served = new TreeMap<>();
        // given one client connection
        try (RawHttp client = new RawHttp(wharf.port("opensearch"))) {
            // when it asks GET / twenty times
            for (int i = 0; i < 20; i++) {
                RawHttp.Response r = client.exchange("GET / HTTP/1.1\r\nHost: opensearch\r\nAccept: application/json\r\n\r\n");
                assertEquals(200, r.status(), r.text());
                served.merge(field(r.text(), "cluster_name"), 1, Integer::sum);
            }
            // then the connection stayed open and round-robin spread the requests evenly over both clusters
            assertTrue(client.isOpen());
        }
        assertEquals(Map.of("wharf-os-1", 10, "wharf-os-2", 10), served);
        assertTrue(requestsTotal("GET", "2xx") - before >= 20, "wharf_http_requests_total counted the requests");
        assertTrue(PrometheusText.value(wharf.admin("/metrics").body(), "wharf_http_request_seconds_count", "listener", "opensearch") >= 20);
    }

    @Test
    @Order(3)
    void indexesAndSearchesThroughWharf() throws Exception {
        // given an index on each node
        for (OpenSearchNode node : NODES.all()) {
            node.expectOk("PUT", "/ships", "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0}}");
        }
        // when 50 documents are indexed through Wharf, each PUT sent twice in a row: round-robin puts it on both nodes
        for (int id = 0; id < 50; id++) {
            String doc = "{\"name\":\"ship-" + id + "\",\"berth\":" + (id % 7) + "}";
            for (int copy = 0; copy < 2; copy++) {
                HttpResponse<String> r = send("PUT", "opensearch", "/ships/_doc/" + id + "?refresh=true", doc);
                assertTrue(r.statusCode() == 201 || r.statusCode() == 200, r.statusCode() + " " + r.body());
            }
        }
        // then both nodes hold all 50, and a search through Wharf finds the same on whichever node it reaches
        assertEquals(50, NODES.get(0).count("ships"));
        assertEquals(50, NODES.get(1).count("ships"));
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> hits = send("POST", "opensearch", "/ships/_search",
                    "{\"query\":{\"term\":{\"berth\":3}},\"size\":100}");
            assertEquals(200, hits.statusCode(), hits.body());
            assertTrue(hits.body().contains("\"total\":{\"value\":7,"), hits.body()); // ids 3, 10, ..., 45
            assertTrue(hits.body().contains("\"name\":\"ship-45\""), hits.body());
        }
    }

    @Test
    @Order(4)
    void scrollsThroughAThousandDocuments() throws Exception {
        // given 1,000 documents on node 1 (a scroll context lives on the node that opened it: the listener has node 1 only)
        OpenSearchNode node = NODES.get(0);
        node.expectOk("PUT", "/scroll", "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0}}");
        StringBuilder bulk = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            bulk.append("{\"index\":{\"_id\":\"").append(i).append("\"}}\n{\"n\":").append(i).append("}\n");
        }
        HttpResponse<String> loaded = send("POST", "opensearch-1", "/scroll/_bulk?refresh=true", bulk.toString(), "application/x-ndjson");
        assertEquals(200, loaded.statusCode(), loaded.body());
        assertTrue(loaded.body().contains("\"errors\":false"), loaded.body());

        // when paged through Wharf 100 at a time
        Set<String> seen = new HashSet<>();
        HttpResponse<String> page = send("POST", "opensearch-1", "/scroll/_search?scroll=1m",
                "{\"size\":100,\"sort\":[\"_doc\"],\"query\":{\"match_all\":{}}}");
        int pages = 0;
        while (true) {
            assertEquals(200, page.statusCode(), page.body());
            List<String> ids = all(page.body(), "\"_id\":\"([^\"]+)\"");
            if (ids.isEmpty()) {
                break;
            }
            pages++;
            seen.addAll(ids);
            page = send("POST", "opensearch-1", "/_search/scroll",
                    "{\"scroll\":\"1m\",\"scroll_id\":\"" + field(page.body(), "_scroll_id") + "\"}");
        }
        send("DELETE", "opensearch-1", "/_search/scroll/_all", null);

        // then every document came exactly once, in 10 pages
        assertEquals(10, pages);
        assertEquals(1000, seen.size());
    }

    @Test
    @Order(5)
    void streamsAHundredMegabyteBulkBodyWithBoundedMemory() throws Exception {
        // given an index with refresh off on both nodes
        for (OpenSearchNode node : NODES.all()) {
            node.expectOk("PUT", "/bulk", "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0,\"refresh_interval\":\"-1\"}}");
        }
        BulkBody body = new BulkBody(120_000, 900);

        // when a _bulk body over 100 MB, generated while it is sent, goes through Wharf
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + wharf.port("opensearch") + "/bulk/_bulk?filter_path=errors,items.*.error"))
                .timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> body))
                .build();
        long started = System.nanoTime();
        var sending = HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString());
        double peak = 0;
        int samples = 0;
        while (!sending.isDone()) {
            String scrape = wharf.admin("/metrics").body();
            peak = Math.max(peak, PrometheusText.value(scrape, "netty_allocator_memory_used", "memory_type", "direct")
                    + PrometheusText.value(scrape, "netty_allocator_memory_used", "memory_type", "heap"));
            samples++;
            Thread.sleep(100);
        }
        HttpResponse<String> response = sending.get();
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf(Locale.ROOT, "bulk: %d docs, %.1f MB in %.1f s; Wharf's Netty allocator peak %.1f MiB over %d samples%n",
                body.docs(), body.bytesRead() / 1e6, seconds, peak / (1 << 20), samples);

        // then all of it was indexed on exactly one node, and _count through Wharf says so on that node
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("{\"errors\":false}", response.body());
        assertTrue(body.bytesRead() >= BULK_MIN_BYTES, "sent " + body.bytesRead() + " bytes");
        List<Long> direct = List.of(NODES.get(0).count("bulk"), NODES.get(1).count("bulk"));
        assertTrue(direct.contains(body.docs()) && direct.contains(0L), "per node: " + direct);
        List<Long> throughWharf = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            throughWharf.add(Long.parseLong(field(send("GET", "opensearch", "/bulk/_count", null).body(), "count")));
        }
        assertTrue(throughWharf.contains(body.docs()), "_count through Wharf: " + throughWharf);
        // and Wharf's buffers stayed far below the body's size
        assertTrue(samples > 5, "the transfer was too short to sample: " + samples);
        assertTrue(peak < MEMORY_BOUND_BYTES, "Wharf's Netty allocator peaked at " + peak + " bytes for a " + body.bytesRead() + "-byte body");
    }

    @Test
    @Order(6)
    void aGarbageRequestLineGets400() throws Exception {
        try (RawHttp client = new RawHttp(wharf.port("opensearch"))) {
            RawHttp.Response r = client.exchange("THIS IS NOT HTTP\r\n\r\n");
            assertEquals(400, r.status(), r.text());
            assertErrorBody(r.text(), 400);
        }
    }

    @Test
    @Order(7)
    void anOversizedHeaderGets431() throws Exception {
        try (RawHttp client = new RawHttp(wharf.port("opensearch"))) {
            RawHttp.Response r = client.exchange("GET / HTTP/1.1\r\nHost: opensearch\r\nX-Big: " + "a".repeat(256 * 1024) + "\r\n\r\n");
            assertEquals(431, r.status(), r.text());
            assertErrorBody(r.text(), 431);
        }
    }

    @Test
    @Order(8)
    void tooManyHeadersGet431() throws Exception {
        StringBuilder request = new StringBuilder("GET / HTTP/1.1\r\nHost: opensearch\r\n");
        for (int i = 0; i < 10_000; i++) {
            request.append("X-").append(i).append(": 1\r\n");
        }
        try (RawHttp client = new RawHttp(wharf.port("opensearch"))) {
            RawHttp.Response r = client.exchange(request.append("\r\n").toString());
            assertEquals(431, r.status(), r.text());
            assertErrorBody(r.text(), 431);
        }
    }

    @Test
    @Order(9)
    void aNodeKilledUnderLoadLosesNoAcknowledgedDocumentAndDuplicatesNone() throws Exception {
        // given an index on both nodes and a writer through Wharf: PUT with explicit ids, POST with auto ids
        for (OpenSearchNode node : NODES.all()) {
            node.expectOk("PUT", "/failover", "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0}}");
        }
        Writer writer = new Writer(wharf.port("opensearch"), 4000, Duration.ofSeconds(9));
        Thread thread = new Thread(writer, "opensearch-writer");
        thread.start();

        // when node 2 is killed mid-run
        Thread.sleep(3000);
        OpenSearchNode victim = NODES.get(1);
        long killedAt = System.nanoTime();
        victim.kill();
        writer.killedAt.set(killedAt);
        thread.join(60_000);
        assertFalse(thread.isAlive(), "the writer did not finish");

        // then writes went on through the other node, and failed only around the kill, with Wharf's JSON errors
        System.out.printf("writer: %d acknowledged (%d after the kill), %d failed: %s%n",
                writer.acknowledged.size(), writer.acknowledgedAfterKill, writer.failures.size(),
                writer.failures.stream().limit(5).toList());
        assertTrue(writer.acknowledgedAfterKill > 50, "acknowledged after the kill: " + writer.acknowledgedAfterKill);
        for (Writer.Failure f : writer.failures) {
            assertTrue(f.status == 502 || f.status == 503 || f.status == 504, f.toString());
            assertErrorBody(f.body, f.status);
            assertTrue(f.nanosAfterKill < 3_000_000_000L, "failed more than 3 s after the kill (fall = 1, interval = 1s): " + f);
        }

        // when the killed node is back, with what it had acknowledged recovered from its translog
        victim.start();
        Map<String, List<Hit>> byId = new HashMap<>();
        Map<Long, Integer> postsBySeq = new HashMap<>();
        for (OpenSearchNode node : NODES.all()) {
            node.count("failover"); // refreshes
            String hits = node.expectOk("GET", "/failover/_search?size=10000&version=true", "{\"query\":{\"match_all\":{}}}");
            for (Hit hit : Hit.parse(hits, node.clusterName())) {
                byId.computeIfAbsent(hit.id, k -> new ArrayList<>()).add(hit);
                if (hit.kind.equals("post")) {
                    postsBySeq.merge(hit.seq, 1, Integer::sum);
                }
            }
        }

        // then every acknowledged write exists, a PUT was applied at most once per node (version 1), and a POST
        // (not idempotent) exists at most once across both nodes: nothing was sent twice after an upstream took it
        for (Writer.Ack ack : writer.acknowledged) {
            if (ack.kind.equals("put")) {
                assertTrue(byId.containsKey(ack.id), "acknowledged PUT " + ack.id + " is on neither node");
            } else {
                assertEquals(1, postsBySeq.getOrDefault(ack.seq, 0), "acknowledged POST seq " + ack.seq);
            }
        }
        byId.values().stream().flatMap(List::stream)
                .forEach(hit -> assertEquals(1, hit.version, "applied more than once: " + hit));
        postsBySeq.forEach((seq, copies) -> assertEquals(1, copies, "POST seq " + seq + " indexed " + copies + " times"));
    }

    // ---- helpers ----

    private static void awaitBothHealthy() throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        Set<String> seen = new HashSet<>();
        while (seen.size() < 2) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Wharf did not route to both nodes within 20 s; saw " + seen);
            }
            try {
                HttpResponse<String> r = send("GET", "opensearch", "/", null);
                if (r.statusCode() == 200) {
                    seen.add(field(r.body(), "cluster_name"));
                }
            } catch (IOException notYet) {
                // Wharf is up; the first health checks may not have passed yet
            }
            Thread.sleep(100);
        }
    }

    private static double requestsTotal(String method, String codeClass) {
        try {
            return PrometheusText.value(wharf.admin("/metrics").body(), "wharf_http_requests_total",
                    "listener", "opensearch", "method", method, "code_class", codeClass);
        } catch (AssertionError noneYet) {
            return 0;
        }
    }

    static HttpResponse<String> send(String method, String listener, String pathAndQuery, String json) throws IOException, InterruptedException {
        return send(method, listener, pathAndQuery, json, "application/json");
    }

    static HttpResponse<String> send(String method, String listener, String pathAndQuery, String body, String contentType)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + wharf.port(listener) + pathAndQuery))
                .timeout(Duration.ofSeconds(60));
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertErrorBody(String body, int status) {
        String compact = body.replaceAll("\\s", "");
        assertTrue(compact.matches("\\{\"error\":\\{\"type\":\"[^\"]+\",\"reason\":\".*\"},\"status\":" + status + "}"),
                "expected Wharf's JSON error with status " + status + ", got: " + body);
    }

    /** The string or number value of the first {@code "name" : value} in {@code json}. */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*(?:\"([^\"]*)\"|(-?\\d+))").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no \"" + name + "\" in " + json);
        }
        return m.group(1) != null ? m.group(1) : m.group(2);
    }

    private static List<String> all(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    /** A document as a node's search returned it. */
    record Hit(String node, String id, long version, long seq, String kind) {
        private static final Pattern HIT = Pattern.compile(
                "\"_id\":\"([^\"]+)\",\"_version\":(\\d+),[^{]*\"_source\":\\{\"seq\":(\\d+),\"kind\":\"(put|post)\"}");

        static List<Hit> parse(String searchResponse, String node) {
            List<Hit> hits = new ArrayList<>();
            Matcher m = HIT.matcher(searchResponse);
            while (m.find()) {
                hits.add(new Hit(node, m.group(1), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), m.group(4)));
            }
            return hits;
        }
    }

    /** Indexes alternately with PUT /failover/_doc/put-<seq> and POST /failover/_doc over keep-alive, one at a time. */
    static final class Writer implements Runnable {
        record Ack(String kind, String id, long seq) {
        }

        record Failure(String request, int status, String body, long nanosAfterKill) {
        }

        final List<Ack> acknowledged = new ArrayList<>();
        final List<Failure> failures = new ArrayList<>();
        final AtomicLong killedAt = new AtomicLong();
        volatile long acknowledgedAfterKill;
        private final int port;
        private final int maxRequests;
        private final Duration runFor;

        Writer(int port, int maxRequests, Duration runFor) {
            this.port = port;
            this.maxRequests = maxRequests;
            this.runFor = runFor;
        }

        @Override
        public void run() {
            long end = System.nanoTime() + runFor.toNanos();
            for (long seq = 0; seq < maxRequests && System.nanoTime() < end; seq++) {
                boolean put = seq % 2 == 0;
                String kind = put ? "put" : "post";
                String path = put ? "/failover/_doc/put-" + seq : "/failover/_doc";
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .method(put ? "PUT" : "POST", HttpRequest.BodyPublishers.ofString("{\"seq\":" + seq + ",\"kind\":\"" + kind + "\"}"))
                        .build();
                int status;
                String body;
                try {
                    HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
                    status = r.statusCode();
                    body = r.body();
                } catch (IOException e) {
                    status = -1;
                    body = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                long killed = killedAt.get();
                if (status == 201 || status == 200) {
                    acknowledged.add(new Ack(kind, put ? "put-" + seq : field(body, "_id"), seq));
                    if (killed != 0) {
                        acknowledgedAfterKill++;
                    }
                } else {
                    failures.add(new Failure((put ? "PUT " : "POST ") + path, status, body, killed == 0 ? -1 : System.nanoTime() - killed));
                }
            }
        }
    }

    /** A _bulk body of {@code docs} index actions, made as it is read: never in memory as a whole. */
    static final class BulkBody extends InputStream {
        private final long docs;
        private final String pad;
        private long next;
        private byte[] line = new byte[0];
        private int pos;
        private long bytesRead;

        BulkBody(long docs, int padding) {
            this.docs = docs;
            this.pad = "x".repeat(padding);
        }

        long docs() {
            return docs;
        }

        synchronized long bytesRead() {
            return bytesRead;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) {
            if (pos == line.length) {
                if (next == docs) {
                    return -1;
                }
                line = ("{\"index\":{}}\n{\"n\":" + next++ + ",\"pad\":\"" + pad + "\"}\n").getBytes(StandardCharsets.US_ASCII);
                pos = 0;
            }
            int n = Math.min(len, line.length - pos);
            System.arraycopy(line, pos, b, off, n);
            pos += n;
            bytesRead += n;
            return n;
        }
    }

    /** HTTP/1.1 over one socket, for what the JDK client will not send or will not show (the connection it used). */
    static final class RawHttp implements AutoCloseable {
        record Response(int status, Map<String, String> headers, byte[] body) {
            String text() {
                return new String(body, StandardCharsets.UTF_8);
            }
        }

        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        RawHttp(int port) throws IOException {
            socket = Clients.connect(port);
            socket.setSoTimeout(30_000);
            in = new java.io.BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        Response exchange(String request) throws IOException {
            try {
                out.write(request.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (IOException closedWhileSending) {
                // A server may answer an oversized request and close before reading all of it: read the answer.
            }
            return read();
        }

        boolean isOpen() throws IOException {
            socket.setSoTimeout(200);
            try {
                return in.read() != -1;
            } catch (java.net.SocketTimeoutException stillOpen) {
                return true;
            } catch (IOException reset) {
                return false;
            } finally {
                socket.setSoTimeout(30_000);
            }
        }

        private Response read() throws IOException {
            String statusLine = line();
            if (statusLine == null) {
                throw new IOException("connection closed before a response");
            }
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            Map<String, String> headers = new HashMap<>();
            for (String h = line(); h != null && !h.isEmpty(); h = line()) {
                int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (headers.containsKey("content-length")) {
                body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                for (int size = Integer.parseInt(line().split(";")[0].trim(), 16); size > 0;
                        size = Integer.parseInt(line().split(";")[0].trim(), 16)) {
                    body.write(in.readNBytes(size));
                    line();
                }
                line();
            } else {
                body.write(in.readAllBytes());
            }
            return new Response(status, headers, body.toByteArray());
        }

        private String line() throws IOException {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != -1) {
                if (c == '\n') {
                    byte[] bytes = buf.toByteArray();
                    int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
                }
                buf.write(c);
            }
            return buf.size() == 0 ? null : buf.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
