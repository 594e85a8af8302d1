package dev.wharf.bench.target;

import dev.wharf.bench.proc.ManagedProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wharf itself: {@code java <jvmArgs> -D... -jar wharf.jar --config wharf.conf}, one listener per
 * upstream, admin HTTP server on its own port (readiness is {@code GET /readyz} = 200, direct
 * memory comes from {@code GET /metrics}).
 */
public final class WharfTarget extends ProxyTarget {
    public static final String NAME = "wharf";
    /** Where {@code ./mvnw package} puts the jar, relative to the project's top directory. */
    public static final Path DEFAULT_JAR = Path.of("proxy-k8s", "target", "wharf.jar");

    private static final Logger LOG = LoggerFactory.getLogger(WharfTarget.class);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static final String CONFIG = """
            # Written by the Wharf benchmark harness.
            wharf {
              admin { host = "127.0.0.1", port = ${adminPort} }
              # Stop at once on SIGTERM: nothing to hand over between benchmark runs.
              shutdown-delay = 0s
              defaults {
                allow = ["127.0.0.0/8"]
                # The fd limit (20000), not this, is what bounds connections here.
                max-connections = 20000
                # Like the peers' 1h timeouts: the idle-connections scenario must not be cut off.
                idle-timeout = 1h
                # Sessions still open when a target is closed are cut at once, not waited for.
                drain-timeout = 0s
              }
              listeners {
            ${listeners}  }
            }
            """;
    private static final String LISTENER = """
                ${name} { host = "127.0.0.1", port = ${port}, upstream.endpoints = ["127.0.0.1:${upstreamPort}"] }
            """;

    /**
     * The same logging as the jar's own logback.xml, except that the per-session access log
     * ({@code wharf.access}) is off: the peers run without one (haproxy {@code no log}, nginx's
     * stream module logs no sessions by default), and writing a line per connection would be
     * measured in the connection-rate scenario.
     */
    private static final String LOGBACK_WITHOUT_ACCESS_LOG = """
            <configuration>
              <statusListener class="ch.qos.logback.core.status.NopStatusListener"/>
              <appender name="text" class="ch.qos.logback.core.ConsoleAppender">
                <encoder>
                  <pattern>%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg %kvp{NONE}%n%ex</pattern>
                </encoder>
              </appender>
              <logger name="io.netty" level="WARN"/>
              <logger name="io.micrometer" level="WARN"/>
              <logger name="wharf.access" level="WARN"/>
              <root level="INFO">
                <appender-ref ref="text"/>
              </root>
            </configuration>
            """;

    /**
     * How Wharf is run.
     *
     * @param jar              wharf.jar
     * @param java             the java executable (default: the one running the bench)
     * @param jvmArgs          JVM options before {@code -jar}
     * @param systemProperties passed as {@code -Dkey=value} (Netty's event loop, allocator and
     *                         io_uring switches are system properties)
     * @param env              added to the environment
     * @param accessLog        keep Wharf's per-session access log (off by default, see above)
     * @param extraConfig      HOCON appended to the generated config, e.g. {@code wharf.runtime.event-loops = 1}
     */
    public record Options(Path jar, Path java, List<String> jvmArgs, Map<String, String> systemProperties,
                          Map<String, String> env, boolean accessLog, String extraConfig) {
        public static final List<String> DEFAULT_JVM_ARGS = List.of("-Xms256m", "-Xmx512m", "-XX:+AlwaysPreTouch");

        public Options {
            jvmArgs = List.copyOf(jvmArgs);
            systemProperties = Map.copyOf(systemProperties);
            env = Map.copyOf(env);
        }

        /** {@link #defaultJar()}, this JVM's java, {@link #DEFAULT_JVM_ARGS}, no extra properties or env. */
        public static Options defaults() {
            return new Options(defaultJar(), Path.of(System.getProperty("java.home"), "bin", "java"),
                    DEFAULT_JVM_ARGS, Map.of(), Map.of(), false, "");
        }

        public Options withJar(Path jar) {
            return new Options(jar, java, jvmArgs, systemProperties, env, accessLog, extraConfig);
        }

        public Options withJava(Path java) {
            return new Options(jar, java, jvmArgs, systemProperties, env, accessLog, extraConfig);
        }

        public Options withJvmArgs(List<String> args) {
            return new Options(jar, java, args, systemProperties, env, accessLog, extraConfig);
        }

        public Options withSystemProperties(Map<String, String> properties) {
            return new Options(jar, java, jvmArgs, properties, env, accessLog, extraConfig);
        }

        public Options withEnv(Map<String, String> environment) {
            return new Options(jar, java, jvmArgs, systemProperties, environment, accessLog, extraConfig);
        }

        public Options withAccessLog(boolean on) {
            return new Options(jar, java, jvmArgs, systemProperties, env, on, extraConfig);
        }

        public Options withExtraConfig(String hocon) {
            return new Options(jar, java, jvmArgs, systemProperties, env, accessLog, hocon);
        }
    }

    private final int adminPort;

    private WharfTarget(Map<Upstream, Integer> ports, ManagedProcess process, int adminPort) {
        super(NAME, ports, List.of(process));
        this.adminPort = adminPort;
    }

    /** Starts Wharf with {@link Options#defaults()}. */
    public static WharfTarget start(Upstreams upstreams, Path workDir) {
        return start(upstreams, workDir, Options.defaults());
    }

    /** Starts Wharf in {@code workDir/wharf} and waits until {@code /readyz} answers 200. */
    public static WharfTarget start(Upstreams upstreams, Path workDir, Options options) {
        Path jar = options.jar();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " not found: build it first with"
                    + " `./mvnw -B package -DskipTests` in the project's top directory (or pass its path)");
        }
        Path dir = directory(workDir, NAME);
        return launch(NAME, () -> {
            Map<Upstream, Integer> ports = freePorts(upstreams.started());
            int adminPort = ManagedProcess.freePort();
            Path config = write(dir.resolve("wharf.conf"), config(upstreams::port, ports, adminPort) + options.extraConfig() + "\n");
            List<String> cmd = new ArrayList<>(List.of(options.java().toString()));
            cmd.addAll(options.jvmArgs());
            if (!options.accessLog()) {
                Path logback = write(dir.resolve("logback.xml"), LOGBACK_WITHOUT_ACCESS_LOG);
                cmd.add("-Dlogback.configurationFile=" + logback);
            }
            options.systemProperties().forEach((k, v) -> cmd.add("-D" + k + "=" + v));
            cmd.addAll(List.of("-jar", jar.toAbsolutePath().toString(), "--config", config.toString()));
            ManagedProcess p = ManagedProcess.start(NAME, cmd, dir, options.env());
            p.await("GET /readyz on admin port " + adminPort + " to answer 200", STARTUP_TIMEOUT,
                    () -> get(adminPort, "/readyz").statusCode() == 200);
            p.awaitPorts(ports.values(), STARTUP_TIMEOUT);
            return new WharfTarget(ports, p, adminPort);
        });
    }

    /**
     * Wharf's jar: the system property {@code wharf.jar} if set, else {@link #DEFAULT_JAR} under the
     * working directory or its parent (the parent when running from a module, as tests do).
     */
    public static Path defaultJar() {
        String property = System.getProperty("wharf.jar");
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        return Stream.of(DEFAULT_JAR, Path.of("..").resolve(DEFAULT_JAR))
                .filter(Files::isRegularFile)
                .findFirst()
                .orElse(DEFAULT_JAR);
    }

    /** The admin HTTP server's port on 127.0.0.1. */
    public int adminPort() {
        return adminPort;
    }

    /**
     * The sum of the {@code netty_allocator_memory_used} samples with {@code memory_type="direct"}
     * from {@code GET /metrics}; -1 (and a warning) if the metrics cannot be read.
     */
    @Override
    public long directMemoryBytes() {
        try {
            HttpResponse<String> response = get(adminPort, "/metrics");
            if (response.statusCode() != 200) {
                LOG.warn("GET /metrics on wharf answered {}", response.statusCode());
                return -1;
            }
            return directMemory(response.body());
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot read wharf's /metrics: {}", e.toString());
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Parses Prometheus text: the sum of the direct {@code netty_allocator_memory_used} samples, -1 if none. */
    static long directMemory(String metrics) {
        double sum = 0;
        boolean found = false;
        for (String line : metrics.split("\n")) {
            if (line.startsWith("netty_allocator_memory_used{") && line.contains("memory_type=\"direct\"")) {
                // name{labels} value [timestamp]; label values may hold spaces, so split after the '}'.
                String[] rest = line.substring(line.lastIndexOf('}') + 1).trim().split("\\s+");
                sum += Double.parseDouble(rest[0]);
                found = true;
            }
        }
        return found ? (long) sum : -1;
    }

    static String config(ToIntFunction<Upstream> upstreamPort, Map<Upstream, Integer> ports, int adminPort) {
        String listeners = ports.entrySet().stream()
                .map(e -> Template.render(LISTENER, Map.of("name", listenerName(e.getKey()), "port", e.getValue(),
                        "upstreamPort", upstreamPort.applyAsInt(e.getKey()))))
                .collect(Collectors.joining());
        return Template.render(CONFIG, Map.of("adminPort", adminPort, "listeners", listeners));
    }

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
