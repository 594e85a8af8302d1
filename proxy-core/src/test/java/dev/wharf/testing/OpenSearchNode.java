package dev.wharf.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real OpenSearch 2.19 node, a single-node cluster of its own, on 127.0.0.1: codelibs' OpenSearchRunner in a
 * child JVM ({@code dev.wharf.testing.opensearch.OpenSearchMain} of the {@code test-opensearch-node} module),
 * security plugin absent, {@code discovery.type=single-node}, data under {@link #dir()}, so {@link #kill()} then
 * {@link #start()} recovers the indices on the same HTTP and transport ports. Ready when
 * {@code GET /_cluster/health} answers green or yellow: ~9-12 s, ~450 MB resident when idle, ~750 MB after a
 * 100 MB bulk (heap up to {@value #HEAP}).
 *
 * <p>The child's classpath is the runner's own dependency closure (Netty 4.1, its Jackson and Log4j), never the
 * tests' (Netty 4.2): the {@code test-opensearch-node} module resolves it outside wharf-parent's BOMs and writes
 * it to the resource {@value #CLASSPATH_RESOURCE}, which reaches this test classpath with that module's jar.
 *
 * <p>It accepts request bodies up to {@value #MAX_CONTENT_LENGTH} (OpenSearch's default is 100mb) and a bulk
 * request up to 60 % of the heap, for the tests that stream a 100 MB {@code _bulk} through Wharf.
 */
public final class OpenSearchNode extends ChildProcess {

    static final String CLASSPATH_RESOURCE = "dev/wharf/testing/opensearch-node.classpath";
    static final String MAIN_CLASS = "dev.wharf.testing.opensearch.OpenSearchMain";
    static final String HEAP = "1g";
    static final String MAX_CONTENT_LENGTH = "512mb";

    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final Pattern STATUS = Pattern.compile("\"status\"\\s*:\\s*\"(green|yellow|red)\"");
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final String clusterName;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private int transportPort;

    /** A node of its own cluster named {@code clusterName}; its node name is {@code <clusterName>-node}. */
    public OpenSearchNode(String clusterName) {
        super("opensearch-" + clusterName);
        if (!clusterName.matches("[a-z0-9][a-z0-9-]*")) {
            throw new IllegalArgumentException("clusterName: " + clusterName + " (expected: [a-z0-9][a-z0-9-]*)");
        }
        this.clusterName = clusterName;
    }

    public String clusterName() {
        return clusterName;
    }

    /** What {@code GET /} answers as {@code name}. */
    public String nodeName() {
        return clusterName + "-node";
    }

    /** {@code 127.0.0.1:<http port>}. */
    public String address() {
        return host() + ":" + port();
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://" + address() + pathAndQuery);
    }

    /** The transport port, picked once and kept across restarts (single-node: nothing else connects to it). */
    public synchronized int transportPort() {
        if (transportPort == 0) {
            throw new IllegalStateException("opensearch-" + clusterName + " has not been started");
        }
        return transportPort;
    }

    /** Sends {@code method pathAndQuery} straight to the node with a JSON body (null for none). */
    public HttpResponse<String> send(String method, String pathAndQuery, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(pathAndQuery)).timeout(REQUEST_TIMEOUT);
        if (json == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + uri(pathAndQuery) + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + method + " " + pathAndQuery, e);
        }
    }

    /** Like {@link #send}, but throws unless the status is 2xx; returns the body. */
    public String expectOk(String method, String pathAndQuery, String json) {
        HttpResponse<String> response = send(method, pathAndQuery, json);
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + pathAndQuery + " on " + clusterName + ": " + response.statusCode()
                    + " " + response.body());
        }
        return response.body();
    }

    /** {@code green}, {@code yellow} or {@code red}, from {@code GET /_cluster/health}. */
    public String health() {
        String body = expectOk("GET", "/_cluster/health", null);
        Matcher m = STATUS.matcher(body);
        if (!m.find()) {
            throw new IllegalStateException("no status in " + body);
        }
        return m.group(1);
    }

    /** Refreshes {@code index} and returns its document count (0 if it does not exist). */
    public long count(String index) {
        HttpResponse<String> refreshed = send("POST", "/" + index + "/_refresh", null);
        if (refreshed.statusCode() == 404) {
            return 0;
        }
        String body = expectOk("GET", "/" + index + "/_count", null);
        Matcher m = Pattern.compile("\"count\"\\s*:\\s*(\\d+)").matcher(body);
        if (!m.find()) {
            throw new IllegalStateException("no count in " + body);
        }
        return Long.parseLong(m.group(1));
    }

    @Override
    public String toString() {
        return "OpenSearch " + clusterName + (isRunning() ? " on " + address() : " (down)");
    }

    @Override
    protected void prepare(Path dir) {
        transportPort = LoopbackPorts.free();
    }

    @Override
    protected List<String> command(Path dir, int port) {
        List<String> cmd = new ArrayList<>(List.of(java().toString(), "-Xms256m", "-Xmx" + HEAP, "-XX:+UseSerialGC",
                "-Djava.awt.headless=true", "-cp", classpath(), MAIN_CLASS));
        cmd.addAll(List.of(clusterName, String.valueOf(port), String.valueOf(transportPort), dir.resolve("opensearch").toString(),
                MAX_CONTENT_LENGTH));
        return cmd;
    }

    @Override
    protected void probe() {
        HttpRequest request = HttpRequest.newBuilder(uri("/_cluster/health")).timeout(Duration.ofSeconds(2)).build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Matcher m = STATUS.matcher(response.body());
        if (response.statusCode() != 200 || !m.find() || m.group(1).equals("red")) {
            throw new IllegalStateException("not green or yellow yet: " + response.statusCode() + " " + response.body());
        }
    }

    private static Path java() {
        if (!Files.isExecutable(JAVA)) {
            throw new IllegalStateException("no java executable at " + JAVA + " (java.home of the test JVM): OpenSearch runs in"
                    + " a child JVM started with it");
        }
        return JAVA;
    }

    /**
     * The location of OpenSearchMain (the jar or classes directory that holds the classpath resource) followed by
     * every jar the resource lists; fails naming what is missing.
     */
    static String classpath() {
        URL url = OpenSearchNode.class.getClassLoader().getResource(CLASSPATH_RESOURCE);
        if (url == null) {
            throw new IllegalStateException(CLASSPATH_RESOURCE + " is not on the test classpath: build proxy-core with the"
                    + " reactor (./mvnw -pl proxy-core -am verify), which builds the test-opensearch-node module first and"
                    + " writes the OpenSearch runner's classpath into it");
        }
        Path mainLocation = mainLocation(url);
        String listed;
        try (InputStream in = url.openStream()) {
            listed = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + url, e);
        }
        List<String> entries = Arrays.stream(listed.split(":")).filter(s -> !s.isBlank()).toList();
        List<String> missing = entries.stream().filter(e -> !Files.isRegularFile(Path.of(e))).toList();
        if (entries.isEmpty() || !missing.isEmpty()) {
            throw new IllegalStateException(url + " lists " + entries.size() + " jars, " + missing.size() + " of them missing "
                    + missing.stream().limit(5).toList() + (missing.size() > 5 ? " ..." : "")
                    + ": rebuild with the reactor (./mvnw -pl proxy-core -am verify) to resolve the OpenSearch runner again");
        }
        return mainLocation + ":" + String.join(":", entries);
    }

    private static Path mainLocation(URL url) {
        try {
            if (url.getProtocol().equals("jar")) {
                String spec = url.getPath(); // file:/.../test-opensearch-node-x.jar!/dev/wharf/...
                return Path.of(new URI(spec.substring(0, spec.indexOf("!/"))));
            }
            if (url.getProtocol().equals("file")) {
                Path resource = Path.of(url.toURI());
                Path root = resource;
                for (int i = 0; i < Path.of(CLASSPATH_RESOURCE).getNameCount(); i++) {
                    root = root.getParent();
                }
                return root;
            }
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate " + url, e);
        }
        throw new IllegalStateException(CLASSPATH_RESOURCE + " at " + url + " (expected: in a jar or a directory)");
    }
}
