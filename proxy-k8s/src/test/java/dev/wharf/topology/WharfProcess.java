package dev.wharf.topology;

import dev.wharf.testing.ChildProcess;
import dev.wharf.testing.NetworkTopology;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real application, {@code java -Xmx256m -jar target/wharf.jar --no-kubernetes --config FILE}, run in
 * proxy namespace Wi of a {@link NetworkTopology}: the one bridge between the test JVM and the upstream
 * namespace. (The CLI itself, exit codes and stderr, is {@code dev.wharf.app.WharfJarIT}'s subject.)
 *
 * <pre>{@code
 * try (WharfProcess wharf = WharfProcess.start(TOPOLOGY, 1, """
 *         wharf.listeners.redis { host = "%s", port = 16379, allow = ["%s"], upstream.endpoints = ["%s:7001"] }
 *         """.formatted(TOPOLOGY.proxyHost(1), TOPOLOGY.rootHost(1), TOPOLOGY.upstreamHost()))) {
 *     // connect to TOPOLOGY.proxyHost(1):16379 from the test JVM
 * }
 * }</pre>
 *
 * <p>The config file is {@code wharf.shutdown-delay = 0s} (so a stop does not wait 5 s; the test's text may
 * set it again), then the test's HOCON, then {@code wharf.admin} on {@link NetworkTopology#proxyHost} port
 * {@value #ADMIN_PORT}, last so that it wins: the fixture owns the admin server, which the test JVM reaches
 * for {@code /readyz} (the start waits for 200) and {@link #metrics()}. The log is the process's stdout and
 * stderr ({@link #log()}, {@link #logTail}); {@link #kill()} is SIGKILL, {@link #stop()} SIGTERM and a wait.
 */
public final class WharfProcess extends ChildProcess {

    public static final int ADMIN_PORT = 9901;

    /** {@code proxy-k8s/target/wharf.jar}, which {@code package} builds before failsafe runs the integration tests. */
    public static final Path JAR = Path.of(System.getProperty("basedir", "."), "target", "wharf.jar").toAbsolutePath();

    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String config;

    /** Not started yet: {@link #start()} it, or use {@link #start(NetworkTopology, int, String)}. */
    public WharfProcess(NetworkTopology topology, int proxy, String config) {
        super("wharf-w" + proxy, topology.proxy(proxy), ADMIN_PORT);
        this.config = config;
    }

    /** Starts Wharf in proxy namespace {@code proxy} with {@code config} and waits until {@code /readyz} answers 200. */
    public static WharfProcess start(NetworkTopology topology, int proxy, String config) {
        WharfProcess wharf = new WharfProcess(topology, proxy, config);
        wharf.start();
        return wharf;
    }

    @Override
    public synchronized void start() {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run `./mvnw package` first (in a full"
                    + " `./mvnw verify` the package phase builds it before the integration tests)");
        }
        super.start();
    }

    // ---- admin server ----

    /** {@code http://W:9901}, the admin server as the test JVM reaches it. */
    public String adminUrl() {
        return "http://" + host() + ":" + port();
    }

    /** GET {@code path} from the admin server; throws if it cannot be reached. */
    public HttpResponse<String> get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(adminUrl() + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + adminUrl() + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during GET " + adminUrl() + path, e);
        }
    }

    /** The Prometheus text of {@code GET /metrics}. */
    public String metrics() {
        HttpResponse<String> response = get("/metrics");
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET /metrics answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    /** Stops each (null: never started), then fails if any reported a leaked buffer; closes them all. */
    public static void stopAll(WharfProcess... replicas) {
        AssertionError failure = null;
        for (WharfProcess replica : replicas) {
            if (replica == null) {
                continue;
            }
            try {
                replica.stop();
                replica.assertNoLeaks();
            } catch (AssertionError e) {
                failure = failure == null ? e : failure;
            } finally {
                replica.close();
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static final Pattern NODE_PORT = Pattern.compile("\"node\" : \"([^\"]+)\",\\s*\"port\" : (\\d+)");

    /** Node to proxy port of every node port bound now, as {@code /upstreams} lists them. */
    public Map<String, String> nodePorts() {
        Map<String, String> ports = new TreeMap<>();
        Matcher m = NODE_PORT.matcher(get("/upstreams").body());
        while (m.find()) {
            ports.put(m.group(1), m.group(2));
        }
        return ports;
    }

    /** Fails if Netty reported a leaked buffer in this Wharf's log. */
    public void assertNoLeaks() {
        String log = log();
        int leak = log.indexOf("LEAK:");
        if (leak >= 0) {
            throw new AssertionError("Wharf in " + placement() + " leaked buffers:\n"
                    + log.substring(leak, Math.min(log.length(), leak + 4000)));
        }
    }

    // ---- ChildProcess ----

    @Override
    protected List<String> command(Path dir, int port) {
        Path file = dir.resolve("wharf.conf");
        String text = "wharf.shutdown-delay = 0s\n"
                + config + "\n"
                + "wharf.admin { host = \"" + host() + "\", port = " + port + " }\n";
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // The leak detector at its strictest, as in every test JVM: assertNoLeaks() reads its reports.
        return List.of(JAVA.toString(), "-Xmx256m", "-Dio.netty.leakDetection.level=paranoid", "-jar", JAR.toString(),
                "--no-kubernetes", "--config", file.toString());
    }

    @Override
    protected void probe() {
        int status = get("/readyz").statusCode();
        if (status != 200) {
            throw new IllegalStateException("GET /readyz answered " + status);
        }
    }
}
