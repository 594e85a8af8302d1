package dev.wharf.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wharf.it.Clients;
import dev.wharf.it.PrometheusText;
import dev.wharf.it.TestUpstream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shaded jar run as a user runs it: {@code java -jar wharf.jar ...}, one child process per test. */
class WharfJarIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration EXIT = Duration.ofSeconds(15);
    private static final Duration SOON = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    // ---- config files

    private static String admin(int port) {
        return "wharf.admin { host = \"127.0.0.1\", port = " + port + " }\n";
    }

    private static String listener(String name, int port, String extra, String upstream) {
        return "wharf.listeners." + name + " { port = " + port + ", host = \"127.0.0.1\", allow = [\"127.0.0.0/8\"], "
                + extra + " upstream.endpoints = [\"" + upstream + "\"] }\n";
    }

    private Path config(String name, String hocon) throws IOException {
        return Files.writeString(dir.resolve(name), hocon);
    }

    /** Replaces the file in one step, as editors and ConfigMap updates do, so no half-written file is read. */
    private static void rewrite(Path file, String hocon) throws IOException {
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, hocon);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    // ---- clients

    private static String exchange(Socket socket, String line) throws IOException {
        socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        return readLine(socket);
    }

    private static String readLine(Socket socket) throws IOException {
        StringBuilder text = new StringBuilder();
        InputStream in = socket.getInputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("EOF after \"" + text + "\"");
            }
            text.append((char) b);
        }
        return text.toString();
    }

    /** Per connection: reads one line, waits {@code delayMillis}, answers "reply to LINE" and closes. */
    private static TestUpstream slowReplies(long delayMillis, CountDownLatch requestsSeen) throws IOException {
        return TestUpstream.start(socket -> {
            String request = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            requestsSeen.countDown();
            Thread.sleep(delayMillis);
            OutputStream out = socket.getOutputStream();
            out.write(("reply to " + request + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        });
    }

    /**
     * {@code n} distinct ports nothing listens on. Call it after starting the upstreams, whose own
     * ephemeral ports could otherwise be one of these.
     */
    private static int[] freePorts(int n) throws IOException {
        Set<Integer> ports = new LinkedHashSet<>();
        while (ports.size() < n) {
            ports.add(Clients.freePort());
        }
        return ports.stream().mapToInt(Integer::intValue).toArray();
    }

    private static double metric(WharfProcess wharf, String name, String... labels) {
        return PrometheusText.value(wharf.adminGet("/metrics").body(), name, labels);
    }

    /** The key-values of a text-format access-log line ("session closed k=v k=v ..."). */
    private static Map<String, String> keyValues(String line) {
        Map<String, String> kv = new LinkedHashMap<>();
        String rest = line.substring(line.indexOf("session closed") + "session closed".length()).trim();
        for (String pair : rest.split(" ")) {
            int eq = pair.indexOf('=');
            kv.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return kv;
    }

    private static Pattern accessLogOf(Socket client) {
        return Pattern.compile("session closed .*source=127\\.0\\.0\\.1:" + client.getLocalPort() + " ");
    }

    // ---- tests

    @Test
    void withoutArgumentsItServesTheBuiltInDefault() throws Exception {
        // given the default ports are free on this machine
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("postgres", 15432);
        ports.put("redis", 16379);
        ports.put("kafka", 19092);
        ports.put("opensearch", 19200);
        List<String> taken = new ArrayList<>();
        for (int port : List.of(9901, 15432, 16379, 19092, 19200)) {
            try (ServerSocket probe = new ServerSocket()) {
                probe.bind(new InetSocketAddress("0.0.0.0", port));
            } catch (IOException e) {
                taken.add(String.valueOf(port));
            }
        }
        if (!taken.isEmpty()) {
            fail("the built-in default needs ports 9901, 15432, 16379, 19092 and 19200, but something on this machine"
                    + " already listens on " + String.join(", ", taken));
        }
        // when wharf.jar runs without arguments
        try (WharfProcess wharf = WharfProcess.start(9901).awaitReady()) {
            // then stdout holds log lines only
            List<String> lines = wharf.stdoutLines();
            Pattern logLine = Pattern.compile("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\S* (INFO|WARN|ERROR) ");
            for (String line : lines) {
                assertTrue(logLine.matcher(line).find(), "not a log line: \"" + line + "\"" + wharf.describe());
            }
            // and one "listening on" line per listener
            for (var listener : ports.entrySet()) {
                long count = lines.stream()
                        .filter(l -> l.contains(" - listening on 0.0.0.0:" + listener.getValue() + " ")
                                && l.contains("listener=" + listener.getKey() + " "))
                        .count();
                assertEquals(1, count, "\"listening on\" lines for " + listener.getKey() + wharf.describe());
            }
            // and each listener accepts connections
            for (int port : ports.values()) {
                try (Socket client = Clients.connect(port)) {
                    assertTrue(client.isConnected());
                }
            }
            // and /config shows the first generation with the four listeners
            HttpResponse<String> response = wharf.adminGet("/config");
            assertEquals(200, response.statusCode());
            JsonNode config = JSON.readTree(response.body());
            assertEquals(1, config.get("generation").asInt(), response.body());
            assertEquals("built-in default", config.get("source").asText(), response.body());
            Set<String> names = new TreeSet<>();
            config.get("wharf").get("listeners").fieldNames().forEachRemaining(names::add);
            assertEquals(new TreeSet<>(ports.keySet()), names, response.body());
            assertEquals(15432, config.get("wharf").get("listeners").get("postgres").get("port").asInt());

            // when it gets SIGTERM
            wharf.sigterm();
            // then it stops cleanly
            assertEquals(0, wharf.exitCode(EXIT), wharf.describe());
            wharf.awaitLine(Pattern.compile(" - wharf stopped"), SOON);
        }
    }

    @Test
    void sigtermKeepsAcceptingForTheShutdownDelayAndLetsSessionsFinish() throws Exception {
        CountDownLatch requests = new CountDownLatch(1);
        // given a listener with a generous drain timeout in front of an upstream that answers after ~2 s
        try (TestUpstream upstream = slowReplies(2000, requests)) {
            int[] ports = freePorts(2);
            int adminPort = ports[0];
            int port = ports[1];
            Path conf = config("wharf.conf", admin(adminPort) + "wharf.shutdown-delay = 1s\n"
                    + listener("slow", port, "drain-timeout = 10s,", upstream.address()));
            try (WharfProcess wharf = WharfProcess.start(adminPort, "--config", conf.toString()).awaitReady();
                 Socket inFlight = Clients.connect(port)) {
                // and a session whose request is with the upstream
                inFlight.getOutputStream().write("first\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(requests.await(10, TimeUnit.SECONDS), "the upstream never got the request" + wharf.describe());

                // when Wharf gets SIGTERM
                wharf.sigterm();

                // then it reports not ready
                wharf.await("GET /readyz to answer 503", SOON, () -> {
                    int status = wharf.adminStatus("/readyz");
                    if (status == -1) {
                        throw new AssertionError("the admin server went away before /readyz answered 503"
                                + wharf.describe());
                    }
                    return status == 503;
                });
                // and, within the shutdown delay, still accepts and relays a new connection
                try (Socket late = Clients.connect(port)) {
                    assertEquals("reply to second", exchange(late, "second"), wharf.describe());
                }
                // and the in-flight session gets its whole reply, then EOF
                assertEquals("reply to first", readLine(inFlight), wharf.describe());
                assertEquals(-1, inFlight.getInputStream().read());
                inFlight.close();
                // and Wharf exits cleanly
                assertEquals(0, wharf.exitCode(EXIT), wharf.describe());
                // and the access log has the in-flight session
                Map<String, String> access = keyValues(wharf.awaitLine(accessLogOf(inFlight), SOON));
                assertEquals("slow", access.get("listener"), access.toString());
                assertEquals(upstream.address(), access.get("upstream"), access.toString());
                assertEquals("6", access.get("bytes_to_upstream"), access.toString());
                assertEquals(String.valueOf("reply to first\n".length()), access.get("bytes_to_client"),
                        access.toString());
                assertEquals("upstream_closed", access.get("reason"), access.toString());
                assertTrue(access.get("duration_ms").matches("\\d+"), access.toString());
            }
        }
    }

    @Test
    void sessionsStillOpenAtTheDrainTimeoutAreClosed() throws Exception {
        CountDownLatch requests = new CountDownLatch(1);
        // given an upstream that never answers, behind a listener with a 1 s drain timeout
        try (TestUpstream silent = TestUpstream.start(socket -> {
                 InputStream in = socket.getInputStream();
                 in.read();
                 requests.countDown();
                 in.transferTo(OutputStream.nullOutputStream());
             })) {
            int[] ports = freePorts(2);
            int adminPort = ports[0];
            int port = ports[1];
            Path conf = config("wharf.conf", admin(adminPort) + "wharf.shutdown-delay = 0s\n"
                    + listener("stuck", port, "drain-timeout = 1s,", silent.address()));
            try (WharfProcess wharf = WharfProcess.start(adminPort, "--config", conf.toString()).awaitReady();
                 Socket client = Clients.connect(port)) {
                client.getOutputStream().write("hello?\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(requests.await(10, TimeUnit.SECONDS), "the upstream never got the request" + wharf.describe());

                // when Wharf gets SIGTERM
                wharf.sigterm();

                // then the session is closed by Wharf, without a reply
                assertTrue(Clients.closedByPeer(client), wharf.describe());
                // and Wharf exits cleanly
                assertEquals(0, wharf.exitCode(EXIT), wharf.describe());
                // and the access log says the shutdown ended the session
                Map<String, String> access = keyValues(wharf.awaitLine(accessLogOf(client), SOON));
                assertEquals("stuck", access.get("listener"), access.toString());
                assertEquals("7", access.get("bytes_to_upstream"), access.toString());
                assertEquals("0", access.get("bytes_to_client"), access.toString());
                assertEquals("shutdown", access.get("reason"), access.toString());
            }
        }
    }

    @Test
    void jsonLogsAreOneObjectPerLine() throws Exception {
        try (TestUpstream echo = TestUpstream.echo()) {
            int[] ports = freePorts(2);
            int adminPort = ports[0];
            int port = ports[1];
            Path conf = config("wharf.conf", admin(adminPort) + "wharf.shutdown-delay = 0s\n"
                    + listener("echo", port, "", echo.address()));
            // given Wharf logging JSON
            try (WharfProcess wharf = WharfProcess.start(adminPort, Map.of("WHARF_LOG_FORMAT", "json"),
                    "--config", conf.toString()).awaitReady()) {
                // when a session relays and closes
                int clientPort;
                try (Socket client = Clients.connect(port)) {
                    clientPort = client.getLocalPort();
                    assertEquals("ping", exchange(client, "ping"));
                }
                wharf.awaitLine(Pattern.compile("session closed"), SOON);
                // and Wharf stops
                wharf.sigterm();
                assertEquals(0, wharf.exitCode(EXIT), wharf.describe());

                // then every line of stdout is a JSON object
                List<JsonNode> events = new ArrayList<>();
                for (String line : wharf.stdoutLines()) {
                    JsonNode event;
                    try {
                        event = JSON.readTree(line);
                    } catch (IOException e) {
                        throw new AssertionError("not JSON: \"" + line + "\"" + wharf.describe(), e);
                    }
                    assertTrue(event != null && event.isObject(), "not a JSON object: \"" + line + "\"" + wharf.describe());
                    events.add(event);
                }
                assertTrue(events.stream().anyMatch(e -> e.path("formattedMessage").asText().equals("wharf stopped")),
                        wharf.describe());
                // and the access-log event carries the session's key-values, as logback's JsonEncoder lays them
                // out: "kvpList": [{"listener": "echo"}, {"source": "..."}, ...], each value a string
                JsonNode access = events.stream()
                        .filter(e -> e.path("loggerName").asText().equals("wharf.access"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no wharf.access event" + wharf.describe()));
                assertEquals("INFO", access.path("level").asText());
                assertEquals("session closed", access.path("formattedMessage").asText());
                Map<String, String> kv = new HashMap<>();
                assertTrue(access.path("kvpList").isArray(), access.toString());
                for (JsonNode pair : access.get("kvpList")) {
                    assertEquals(1, pair.size(), access.toString());
                    pair.properties().forEach(f -> kv.put(f.getKey(), f.getValue().asText()));
                }
                assertEquals(Set.of("listener", "source", "upstream", "bytes_to_upstream", "bytes_to_client",
                        "duration_ms", "reason"), kv.keySet(), access.toString());
                assertEquals("echo", kv.get("listener"));
                assertEquals("127.0.0.1:" + clientPort, kv.get("source"));
                assertEquals(echo.address(), kv.get("upstream"));
                assertEquals("5", kv.get("bytes_to_upstream"));
                assertEquals("5", kv.get("bytes_to_client"));
                assertTrue(kv.get("duration_ms").matches("\\d+"), access.toString());
                assertEquals("client_closed", kv.get("reason"));
            }
        }
    }

    @Test
    void anUnknownLogFormatIsRefused() throws Exception {
        // when
        try (WharfProcess wharf = WharfProcess.start(Clients.freePort(), Map.of("WHARF_LOG_FORMAT", "xml"))) {
            // then
            assertEquals(2, wharf.exitCode(EXIT), wharf.describe());
            assertTrue(wharf.stderr().contains("WHARF_LOG_FORMAT=xml (expected: text or json)"), wharf.describe());
        }
    }

    @Test
    void checkThroughTheJarPrintsTheReportAndNothingElse() throws Exception {
        // given a valid file and one whose errors make Wharf's classes log while they are checked
        Path valid = config("valid.conf", listener("pg", 25432, "", "127.0.0.1:5432"));
        Path invalid = config("invalid.conf", listener("pg", 70000, "allow = [\"10.0.0.0/33\"],", "127.0.0.1:5432"));
        // when each is checked
        try (WharfProcess ok = WharfProcess.start(0, "--check", valid.toString());
             WharfProcess bad = WharfProcess.start(0, "--check", invalid.toString())) {
            // then the valid one passes with a one-line report on stdout
            assertEquals(0, ok.exitCode(EXIT), ok.describe());
            assertEquals(valid + ": valid, 1 listener(s): pg\n", ok.stdout(), ok.describe());
            assertEquals("", ok.stderr(), ok.describe());
            // and the invalid one fails with its errors on stderr, and nothing on stdout
            assertEquals(1, bad.exitCode(EXIT), bad.describe());
            assertEquals(invalid + ": 2 error(s)\n"
                    + "  wharf.listeners.pg.port: 70000 (expected: 1-65535)\n"
                    + "  wharf.listeners.pg.allow[0]: \"10.0.0.0/33\" is not a CIDR block (prefix expected: 0-32)\n",
                    bad.stderr(), bad.describe());
            assertEquals("", bad.stdout(), bad.describe());
        }
    }

    @Test
    void anInvalidConfigStopsTheStartWithEveryError() throws Exception {
        // given
        int adminPort = Clients.freePort();
        Path conf = config("bad.conf", admin(adminPort) + """
                wharf.listeners.pg {
                  port = 70000
                  allow = ["127.0.0.1", "10.0.0.0/33"]
                  colour = blue
                  upstream.endpoints = ["127.0.0.1:5432"]
                }
                """);
        // when
        try (WharfProcess wharf = WharfProcess.start(adminPort, "--config", conf.toString())) {
            // then
            assertEquals(1, wharf.exitCode(EXIT), wharf.describe());
            String err = wharf.stderr();
            assertTrue(err.contains(conf + ": 3 error(s)"), wharf.describe());
            assertTrue(err.contains("  wharf.listeners.pg.port: 70000 (expected: 1-65535)"), wharf.describe());
            assertTrue(err.contains("  wharf.listeners.pg.allow[1]: \"10.0.0.0/33\""), wharf.describe());
            assertTrue(err.contains("  wharf.listeners.pg.colour: unknown key"), wharf.describe());
        }
    }

    @Test
    void aListenerPortInUseStopsTheStart() throws Exception {
        // given another program listening on the port
        try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = squatter.getLocalPort();
            int adminPort = Clients.freePort();
            Path conf = config("wharf.conf", admin(adminPort) + listener("busy", port, "", "127.0.0.1:5432"));
            // when
            try (WharfProcess wharf = WharfProcess.start(adminPort, "--config", conf.toString())) {
                // then
                assertEquals(1, wharf.exitCode(EXIT), wharf.describe());
                assertTrue(wharf.stderr().contains("  wharf.listeners.busy.port: cannot listen on 127.0.0.1:" + port),
                        wharf.describe());
            }
        }
    }

    @Test
    void editsToTheConfigFileApplyLiveAndBadOnesAreRejected() throws Exception {
        try (TestUpstream echo = TestUpstream.echo()) {
            int[] ports = freePorts(3);
            int adminPort = ports[0];
            int portA = ports[1];
            int portB = ports[2];
            String good = admin(adminPort) + listener("a", portA, "", echo.address());
            Path conf = config("wharf.conf", good);
            // given Wharf serving the file, with a live session
            try (WharfProcess wharf = WharfProcess.start(adminPort, "--config", conf.toString()).awaitReady();
                 Socket live = Clients.connect(portA)) {
                assertEquals("one", exchange(live, "one"));

                // when the file gets a bad CIDR
                rewrite(conf, good.replace("\"127.0.0.0/8\"", "\"127.0.0.0/8\", \"10.0.0.0/33\""));
                // then the update is rejected, and the config in force keeps serving
                wharf.await("a rejected reload", SOON,
                        () -> metric(wharf, "wharf_config_reloads_total", "outcome", "rejected") == 1.0);
                assertEquals(1.0, metric(wharf, "wharf_config_generation"));
                wharf.awaitLine(Pattern.compile("config rejected: wharf\\.listeners\\.a\\.allow\\[1\\]: \"10\\.0\\.0\\.0/33\""),
                        SOON);
                assertEquals("two", exchange(live, "two"), wharf.describe());
                try (Socket fresh = Clients.connect(portA)) {
                    assertEquals("three", exchange(fresh, "three"), wharf.describe());
                }
                assertTrue(wharf.alive());

                // when a valid change adds a listener
                rewrite(conf, good + listener("b", portB, "", echo.address()));
                // then it is applied: a new generation, the new listener relays, the live session goes on
                wharf.await("generation 2", SOON, () -> metric(wharf, "wharf_config_generation") == 2.0);
                try (Socket viaB = Clients.connect(portB)) {
                    assertEquals("four", exchange(viaB, "four"), wharf.describe());
                }
                assertEquals("five", exchange(live, "five"), wharf.describe());
                assertEquals(1.0, metric(wharf, "wharf_config_reloads_total", "outcome", "rejected"));
                assertEquals(2, JSON.readTree(wharf.adminGet("/config").body()).get("generation").asInt());
            }
        }
    }

    @Test
    void aConfigMapStyleSymlinkSwapIsApplied() throws Exception {
        try (TestUpstream echo = TestUpstream.echo()) {
            int[] ports = freePorts(3);
            int adminPort = ports[0];
            int portA = ports[1];
            int portB = ports[2];
            // given a directory laid out as Kubernetes mounts a ConfigMap: wharf.conf -> ..data/wharf.conf,
            // ..data -> ..v1
            String first = admin(adminPort) + listener("a", portA, "", echo.address());
            Path mount = Files.createDirectory(dir.resolve("mount"));
            Files.createDirectory(mount.resolve("..v1"));
            Files.writeString(mount.resolve("..v1/wharf.conf"), first);
            Files.createSymbolicLink(mount.resolve("..data"), Path.of("..v1"));
            Path conf = Files.createSymbolicLink(mount.resolve("wharf.conf"), Path.of("..data/wharf.conf"));
            try (WharfProcess wharf = WharfProcess.start(adminPort, "--config", conf.toString()).awaitReady()) {
                // when the kubelet writes ..v2 and swaps the ..data link to it in one rename
                Files.createDirectory(mount.resolve("..v2"));
                Files.writeString(mount.resolve("..v2/wharf.conf"), first + listener("b", portB, "", echo.address()));
                Files.createSymbolicLink(mount.resolve("..data_tmp"), Path.of("..v2"));
                Files.move(mount.resolve("..data_tmp"), mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                // then the new config is applied
                wharf.await("generation 2", SOON, () -> metric(wharf, "wharf_config_generation") == 2.0);
                try (Socket viaB = Clients.connect(portB); Socket viaA = Clients.connect(portA)) {
                    assertEquals("b", exchange(viaB, "b"), wharf.describe());
                    assertEquals("a", exchange(viaA, "a"), wharf.describe());
                }
            }
        }
    }
}
