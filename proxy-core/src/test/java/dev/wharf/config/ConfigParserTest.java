package dev.wharf.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.access.AllowList;
import dev.wharf.access.CidrBlock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigParserTest {
    private static final String ORIGIN = "test.conf";
    /** wharf.defaults.health-check as reference.conf sets it. */
    private static final HealthCheck REFERENCE_CHECK = new HealthCheck(HealthCheck.Type.NONE, Duration.ofSeconds(2),
            Duration.ZERO, Duration.ofSeconds(1), 2, 2, Duration.ZERO, 0, "GET", "/", List.of(200), "", HealthCheck.Role.ANY, "",
            "postgres", null);

    /** An upstream with reference.conf's settings apart from its endpoints and balance. */
    private static UpstreamConfig upstream(List<Endpoint> endpoints, Balance balance) {
        return new UpstreamConfig(endpoints, balance, REFERENCE_CHECK, OnUnhealthy.KEEP, 3, Duration.ofSeconds(10),
                Duration.ofSeconds(30));
    }
    private static final String LISTENER_KEYS = "port, host, protocol, allow, connect-timeout, idle-timeout,"
            + " drain-timeout, max-connections, max-connections-per-source, splice, proxy-protocol, trusted-proxies,"
            + " upstream, kafka, redis-cluster, http";

    // ---- valid configs

    @Test
    void fullConfigIsReadIntoRecordsWithDefaultsInheritedAndOverridden() throws ConfigException {
        // given
        String hocon = """
                wharf {
                  admin { host = "127.0.0.1", port = 9000 }
                  runtime { transport = io-uring, event-loops = 3 }
                  kubernetes.namespaces = ["apps", "gateway"]
                  shutdown-delay = 0s
                  defaults {
                    host = "10.0.0.1"
                    connect-timeout = 2s
                    idle-timeout = 10m
                    drain-timeout = 0s
                    max-connections = 500
                    max-connections-per-source = 20
                    allow = ["10.244.0.0/16"]
                    balance = least-connections
                    splice = off
                    proxy-protocol = optional
                    trusted-proxies = ["10.0.0.5"]
                  }
                  listeners {
                    redis {
                      port = 16379
                      upstream.endpoints = ["redis.example:6379"]
                    }
                    pg {
                      port = 15432
                      host = "::"
                      protocol = tcp
                      allow = ["10.0.0.0/8", "::1"]
                      connect-timeout = 500ms
                      idle-timeout = 2h
                      drain-timeout = 1m
                      max-connections = 100
                      max-connections-per-source = 5
                      splice = true
                      proxy-protocol = required
                      trusted-proxies = ["10.1.0.0/16", "::1"]
                      upstream {
                        endpoints = [
                          "127.0.0.1:5432",
                          "[::1]:5433",
                          "db.example:5434",
                          { address = "10.0.0.5:5435", check-port = 8008 },
                          { address = "[2001:db8::7]:5436" }
                        ]
                        balance = first-healthy
                      }
                    }
                  }
                }
                """;

        // when
        WharfConfig config = ConfigParser.parse(hocon, ORIGIN);

        // then
        ListenerConfig pg = new ListenerConfig("pg", "::", 15432, Protocol.TCP, allow("10.0.0.0/8", "::1"),
                upstream(List.of(
                        new Endpoint("127.0.0.1", 5432, 0),
                        new Endpoint("::1", 5433, 0),
                        new Endpoint("db.example", 5434, 0),
                        new Endpoint("10.0.0.5", 5435, 8008),
                        new Endpoint("2001:db8::7", 5436, 0)), Balance.FIRST_HEALTHY),
                Duration.ofMillis(500), Duration.ofHours(2), Duration.ofMinutes(1), 100, 5, true,
                ProxyProtocol.REQUIRED, allow("10.1.0.0/16", "::1"), null, null, null);
        ListenerConfig redis = new ListenerConfig("redis", "10.0.0.1", 16379, Protocol.TCP, allow("10.244.0.0/16"),
                upstream(List.of(new Endpoint("redis.example", 6379, 0)), Balance.LEAST_CONNECTIONS),
                Duration.ofSeconds(2), Duration.ofMinutes(10), Duration.ZERO, 500, 20, false,
                ProxyProtocol.OPTIONAL, allow("10.0.0.5"), null, null, null);
        assertEquals(new WharfConfig(new AdminConfig("127.0.0.1", 9000),
                new RuntimeConfig(TransportChoice.IO_URING, 3), new KubernetesConfig(List.of("apps", "gateway")),
                Duration.ZERO,
                Map.of("pg", pg, "redis", redis)), config);
        assertEquals(List.of("pg", "redis"), List.copyOf(config.listeners().keySet()));
        assertEquals(List.of("10.0.0.0/8", "::1"), config.listeners().get("pg").allow().asStrings());
    }

    @Test
    void omittedSettingsComeFromReferenceConf() throws ConfigException {
        // given
        String hocon = """
                wharf.listeners.pg { port = 15432, upstream.endpoints = ["127.0.0.1:5432"] }
                """;

        // when
        WharfConfig config = ConfigParser.parse(hocon, ORIGIN);

        // then
        assertEquals(new AdminConfig("0.0.0.0", 9901), config.admin());
        assertEquals(Duration.ofSeconds(5), config.shutdownDelay());
        assertEquals(new ListenerConfig("pg", "0.0.0.0", 15432, Protocol.TCP, AllowList.NOBODY,
                upstream(List.of(new Endpoint("127.0.0.1", 5432, 0)), Balance.ROUND_ROBIN),
                Duration.ofSeconds(5), Duration.ofHours(1), Duration.ofSeconds(30), 10000, 0, true,
                ProxyProtocol.OFF, AllowList.NOBODY, null, null, null),
                config.listeners().get("pg"));
    }

    @Test
    void emptyConfigHasNoListeners() throws ConfigException {
        // when
        WharfConfig config = ConfigParser.parse("", ORIGIN);

        // then
        assertEquals(Map.of(), config.listeners());
    }

    @Test
    void builtInDefaultForwardsFourLocalServicesToLoopbackOnly() {
        // when
        WharfConfig config = ConfigParser.builtInDefault();

        // then
        assertEquals(new AdminConfig("0.0.0.0", 9901), config.admin());
        assertEquals(List.of("kafka", "opensearch", "postgres", "redis"), List.copyOf(config.listeners().keySet()));
        assertLaptopListener(config.listeners().get("postgres"), 15432, "127.0.0.1:5432");
        assertLaptopListener(config.listeners().get("redis"), 16379, "127.0.0.1:6379");
        assertLaptopListener(config.listeners().get("kafka"), 19092, "127.0.0.1:9092");
        assertLaptopListener(config.listeners().get("opensearch"), 19200, "127.0.0.1:9200");
    }

    private static void assertLaptopListener(ListenerConfig listener, int port, String upstream) {
        assertEquals(port, listener.port(), listener.name());
        assertEquals(Protocol.TCP, listener.protocol(), listener.name());
        assertEquals(List.of(upstream), listener.upstream().endpoints().stream().map(Endpoint::address).toList());
        assertEquals(List.of("127.0.0.0/8", "::1/128"), listener.allow().asStrings(), listener.name());
    }

    @Test
    void parseFileFollowsSymbolicLinks(@TempDir Path dir) throws IOException, ConfigException {
        // given
        Path file = Files.writeString(dir.resolve("wharf.conf"),
                "wharf.listeners.pg { port = 15432, upstream.endpoints = [\"127.0.0.1:5432\"] }");
        Path link = Files.createSymbolicLink(dir.resolve("current.conf"), file);

        // when
        WharfConfig config = ConfigParser.parseFile(link);

        // then
        assertEquals(15432, config.listeners().get("pg").port());
    }

    @Test
    void parseFileNamesTheFileInSyntaxErrors(@TempDir Path dir) throws IOException {
        // given
        Path file = Files.writeString(dir.resolve("wharf.conf"), "wharf {\n  admin.port = }\n");

        // when
        List<ConfigError> errors = assertThrows(ConfigException.class, () -> ConfigParser.parseFile(file)).errors();

        // then
        assertEquals(1, errors.size());
        assertEquals("wharf", errors.get(0).path());
        assertTrue(errors.get(0).message().startsWith(file + ": 2: Expecting a value but got wrong token: '}'"),
                errors.get(0).message());
    }

    @Test
    void missingFileIsAnErrorAtItsPath(@TempDir Path dir) {
        // given
        Path file = dir.resolve("nope.conf");

        // when
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parseFile(file));

        // then
        assertEquals(List.of(new ConfigError(file.toString(), "cannot read: no such file")), e.errors());
    }

    // ---- invalid configs: every error at its path, with what was expected

    @Test
    void syntaxErrorKeepsTypesafesMessageWithTheLine() {
        // given
        String hocon = """
                wharf {
                  listeners {
                    pg { port = 15432
                  }
                }
                """;

        // when
        List<ConfigError> errors = assertThrows(ConfigException.class, () -> ConfigParser.parse(hocon, ORIGIN))
                .errors();

        // then
        assertEquals(1, errors.size());
        assertEquals("wharf", errors.get(0).path());
        assertTrue(errors.get(0).message().startsWith("test.conf: 6: "), errors.get(0).message());
    }

    @Test
    void environmentVariablesAreNotSubstituted() {
        // when
        List<String> errors = errorsOf("wharf.admin.host = ${HOME}");

        // then
        assertEquals(List.of("wharf: test.conf: 1: Could not resolve substitution to a value: ${HOME}"), errors);
    }

    @Test
    void unknownKeysAreErrorsAtEveryLevel() {
        // given
        String hocon = """
                akka.loglevel = DEBUG
                wharf {
                  uptime = 1
                  admin { prot = 9901 }
                  defaults { max-conections = 5 }
                  listeners.pg {
                    port = 15432
                    uptream = 1
                    upstream {
                      endpoints = [{ address = "127.0.0.1:5432", checkport = 8008 }]
                      balanse = round-robin
                    }
                  }
                }
                """;

        // when
        List<String> errors = errorsOf(hocon);

        // then
        assertEquals(List.of(
                "akka: unknown key (expected one of: wharf)",
                "wharf.uptime: unknown key (expected one of: admin, runtime, kubernetes, shutdown-delay, defaults,"
                        + " listeners)",
                "wharf.admin.prot: unknown key (expected one of: host, port)",
                "wharf.defaults.max-conections: unknown key (expected one of: host, connect-timeout, idle-timeout,"
                        + " drain-timeout, max-connections, max-connections-per-source, allow, balance, health-check,"
                        + " on-unhealthy, eject-after, eject-for, resolve-interval, splice, proxy-protocol,"
                        + " trusted-proxies, kafka, redis-cluster, http)",
                "wharf.listeners.pg.uptream: unknown key (expected one of: " + LISTENER_KEYS + ")",
                "wharf.listeners.pg.upstream.balanse: unknown key (expected one of: endpoints, balance, health-check,"
                        + " on-unhealthy, eject-after, eject-for, resolve-interval)",
                "wharf.listeners.pg.upstream.endpoints[0].checkport: unknown key (expected one of: address,"
                        + " check-port)"), errors);
    }

    @Test
    void badCidrBlocksAreReportedPerEntry() {
        // when
        List<String> errors = errorsOf(pg("allow = [\"10.0.0.0/8\", \"10.0.0.0/33\", \"localhost\"]"));

        // then
        assertEquals(List.of(
                "wharf.listeners.pg.allow[1]: \"10.0.0.0/33\" is not a CIDR block (prefix expected: 0-32)",
                "wharf.listeners.pg.allow[2]: \"localhost\" is not a CIDR block (expected: an IP address,"
                        + " optionally with /prefix)"), errors);
    }

    @Test
    void listenerPortMustBeBetween1And65535() {
        // given
        String hocon = """
                wharf.listeners {
                  a { port = 0, upstream.endpoints = ["127.0.0.1:1"] }
                  b { port = 70000, upstream.endpoints = ["127.0.0.1:1"] }
                }
                """;

        // when
        List<String> errors = errorsOf(hocon);

        // then
        assertEquals(List.of(
                "wharf.listeners.a.port: 0 (expected: 1-65535)",
                "wharf.listeners.b.port: 70000 (expected: 1-65535)"), errors);
    }

    @Test
    void adminPortMayBeZeroButNotOutOfRange() throws ConfigException {
        // when
        int ephemeral = ConfigParser.parse("wharf.admin.port = 0", ORIGIN).admin().port();
        List<String> errors = errorsOf("wharf.admin.port = 70000");

        // then
        assertEquals(0, ephemeral);
        assertEquals(List.of("wharf.admin.port: 70000 (expected: 0-65535)"), errors);
    }

    @Test
    void samePortOnOverlappingHostsIsReportedOnTheLaterListener() {
        // given
        String hocon = """
                wharf.listeners {
                  a { port = 15432, host = "127.0.0.1", upstream.endpoints = ["127.0.0.1:1"] }
                  b { port = 15432, host = "127.0.0.1", upstream.endpoints = ["127.0.0.1:1"] }
                  c { port = 15432, host = "::", upstream.endpoints = ["127.0.0.1:1"] }
                }
                """;

        // when
        List<String> errors = errorsOf(hocon);

        // then
        assertEquals(List.of(
                "wharf.listeners.b.port: 15432 is already used by listener \"a\"",
                "wharf.listeners.c.port: 15432 is already used by listener \"a\""), errors);
    }

    @Test
    void samePortOnDistinctHostsIsAllowed() throws ConfigException {
        // given
        String hocon = """
                wharf.listeners {
                  a { port = 15432, host = "127.0.0.1", upstream.endpoints = ["127.0.0.1:1"] }
                  b { port = 15432, host = "10.0.0.1", upstream.endpoints = ["127.0.0.1:1"] }
                }
                """;

        // when
        WharfConfig config = ConfigParser.parse(hocon, ORIGIN);

        // then
        assertEquals(2, config.listeners().size());
    }

    @Test
    void listenerOnTheAdminPortIsAnError() {
        // when
        List<String> errors = errorsOf(pg("port = 9901, host = \"127.0.0.1\""));

        // then
        assertEquals(List.of("wharf.listeners.pg.port: 9901 is already used by the admin server (wharf.admin.port)"),
                errors);
    }

    @Test
    void badDurationsNameTheirPath() {
        // given
        String hocon = """
                wharf.shutdown-delay = -1s
                wharf.defaults.idle-timeout = 5 parsecs
                """ + pg("connect-timeout = 0s, drain-timeout = [1]");

        // when
        List<String> errors = errorsOf(hocon);

        // then
        assertEquals(List.of(
                "wharf.shutdown-delay: \"-1s\" (expected: >= 0)",
                "wharf.defaults.idle-timeout: \"5 parsecs\" is not a duration (expected: a duration such as 500ms,"
                        + " 30s, 5m, 1h)",
                "wharf.listeners.pg.connect-timeout: \"0s\" (expected: > 0)",
                "wharf.listeners.pg.drain-timeout: [1] is not a duration (expected: a duration such as 500ms, 30s,"
                        + " 5m, 1h)"), errors);
    }

    @Test
    void namespacesToWatchMustBeNamespaceNames() {
        List<String> errors = errorsOf("wharf.kubernetes.namespaces = [\"apps\", \"Bad_One\", 7]");
        assertEquals(List.of(
                "wharf.kubernetes.namespaces[1]: \"Bad_One\" is not a namespace name (expected: lowercase letters,"
                        + " digits and '-', at most 63)",
                "wharf.kubernetes.namespaces[2]: 7 is not a string (expected: a namespace name)"), errors);
    }

    @Test
    void wrongTypesSayWhatWasExpected() {
        // when
        List<String> errors = errorsOf(pg("port = \"abc\", allow = \"10.0.0.0/8\", host = 42, max-connections = 1.5,"
                + " splice = maybe"));

        // then
        assertEquals(List.of(
                "wharf.listeners.pg.port: \"abc\" is not an integer (expected: 1-65535)",
                "wharf.listeners.pg.host: 42 is not a string (expected: an IP address or a host name)",
                "wharf.listeners.pg.allow: \"10.0.0.0/8\" is not a list (expected: a list of CIDR blocks such as"
                        + " [\"10.244.0.0/16\", \"::1\"])",
                "wharf.listeners.pg.max-connections: 1.5 is not an integer (expected: >= 1)",
                "wharf.listeners.pg.splice: \"maybe\" is not a boolean (expected: true or false)"), errors);
    }

    @Test
    void proxyProtocolSettingsAreCheckedAtTheirPaths() {
        // when
        List<String> errors = errorsOf("wharf.defaults.trusted-proxies = \"10.0.0.5\"\n"
                + pg("proxy-protocol = on, trusted-proxies = [\"10.0.0.0/33\", 7]"));

        // then
        assertEquals(List.of(
                "wharf.defaults.trusted-proxies: \"10.0.0.5\" is not a list (expected: a list of CIDR blocks such as"
                        + " [\"10.244.0.0/16\", \"::1\"])",
                "wharf.listeners.pg.proxy-protocol: \"on\" is not a proxy-protocol setting (expected one of: off,"
                        + " optional, required)",
                "wharf.listeners.pg.trusted-proxies[0]: \"10.0.0.0/33\" is not a CIDR block (prefix expected: 0-32)",
                "wharf.listeners.pg.trusted-proxies[1]: 7 is not a string (expected: a CIDR block such as"
                        + " \"10.244.0.0/16\")"), errors);
    }

    @Test
    void requiredProxyProtocolWithoutTrustedProxiesIsRejectedWhereverItIsSet() {
        // given proxy-protocol = required set on one listener, and inherited from wharf.defaults by another
        String expected = ": empty, but proxy-protocol = required admits only trusted proxies (expected: the CIDR"
                + " blocks of the proxies that send PROXY headers, such as [\"10.0.0.5\"])";

        // when
        List<String> errors = errorsOf(pg("proxy-protocol = required") + """
                wharf.defaults.proxy-protocol = required
                wharf.listeners.other { port = 15433, upstream.endpoints = ["127.0.0.1:5432"] }
                wharf.listeners.fine { port = 15434, upstream.endpoints = ["127.0.0.1:5432"], trusted-proxies = ["10.0.0.5"] }
                """);

        // then nobody could ever connect to those two: each is an error at its own trusted-proxies
        assertEquals(List.of(
                "wharf.listeners.other.trusted-proxies" + expected,
                "wharf.listeners.pg.trusted-proxies" + expected), errors);
    }

    @Test
    void optionalProxyProtocolMayTrustNobody() throws ConfigException {
        // when
        WharfConfig config = ConfigParser.parse(pg("proxy-protocol = optional"), ORIGIN);

        // then every header is refused, and connections without one pass as before
        assertEquals(ProxyProtocol.OPTIONAL, config.listeners().get("pg").proxyProtocol());
        assertEquals(AllowList.NOBODY, config.listeners().get("pg").trustedProxies());
    }

    @Test
    void limitsMustBeInRange() {
        // when
        List<String> errors = errorsOf("wharf.defaults { max-connections = 0, max-connections-per-source = -1 }");

        // then
        assertEquals(List.of(
                "wharf.defaults.max-connections: 0 (expected: >= 1)",
                "wharf.defaults.max-connections-per-source: -1 (expected: >= 0)"), errors);
    }

    @Test
    void malformedEndpointsAreReportedPerEntry() {
        // given
        String endpoints = """
                upstream.endpoints = [
                  "db.example",
                  "db.example:70000",
                  "::1:5432",
                  "[::1]",
                  ":5432",
                  "db.example:abc",
                  5432,
                  { check-port = 0 }
                ]
                """;

        // when
        List<String> errors = errorsOf(pg(endpoints));

        // then
        String at = "wharf.listeners.pg.upstream.endpoints";
        assertEquals(List.of(
                at + "[0]: \"db.example\": port: missing (expected: host:port, IPv6 as [addr]:port)",
                at + "[1]: \"db.example:70000\": port: 70000 (expected: 1-65535)",
                at + "[2]: \"::1:5432\": IPv6 address without brackets (expected: [addr]:port)",
                at + "[3]: \"[::1]\": port: missing (expected: [addr]:port)",
                at + "[4]: \":5432\": host: empty (expected: an IP address or a DNS name)",
                at + "[5]: \"db.example:abc\": port: \"abc\" (expected: 1-65535)",
                at + "[6]: 5432 is not an endpoint (expected: \"host:port\" or { address = \"host:port\","
                        + " check-port = 8008 })",
                at + "[7].address: missing (expected: host:port, IPv6 as [addr]:port)",
                at + "[7].check-port: 0 (expected: 1-65535)"), errors);
    }

    @Test
    void unknownProtocolListsTheAcceptedOnes() {
        // when
        List<String> errors = errorsOf(pg("protocol = udp"));

        // then
        assertEquals(List.of("wharf.listeners.pg.protocol: \"udp\" is not a protocol (expected one of: tcp, http, kafka, redis-cluster)"), errors);
    }

    @Test
    void runtimeSettingsAreChecked() {
        // when
        List<String> errors = errorsOf("wharf.runtime { transport = dpdk, event-loops = -1 }\n");

        // then
        assertEquals(List.of(
                "wharf.runtime.transport: \"dpdk\" is not a transport (expected one of: auto, epoll, io-uring, nio)",
                "wharf.runtime.event-loops: -1 (expected: 0-1024)"), errors);
    }

    @Test
    void unknownBalanceListsTheAcceptedOnes() {
        // when
        List<String> errors = errorsOf("wharf.defaults.balance = random\n" + pg("upstream.balance = fastest"));

        // then
        String expected = " (expected one of: round-robin, least-connections, first-healthy)";
        assertEquals(List.of(
                "wharf.defaults.balance: \"random\" is not a balance" + expected,
                "wharf.listeners.pg.upstream.balance: \"fastest\" is not a balance" + expected), errors);
    }

    @Test
    void listenerNamesMustBeDnsLabels() {
        // given
        String tooLong = "a".repeat(64);
        String body = " { port = %d, upstream.endpoints = [\"127.0.0.1:1\"] }\n";
        String hocon = "wharf.listeners {\n"
                + "\"Postgres\"" + body.formatted(1)
                + "\"-pg\"" + body.formatted(2)
                + "\"pg.main\"" + body.formatted(3)
                + tooLong + body.formatted(4)
                + "\"" + "b".repeat(63) + "\"" + body.formatted(5)
                + "}";

        // when
        List<String> errors = errorsOf(hocon);

        // then
        String expected = " is not a valid listener name (expected: lowercase letters, digits and '-', starting"
                + " and ending with a letter or digit, at most 63 characters)";
        assertEquals(List.of(
                "wharf.listeners.-pg: \"-pg\"" + expected,
                "wharf.listeners.Postgres: \"Postgres\"" + expected,
                "wharf.listeners." + tooLong + ": \"" + tooLong + "\"" + expected,
                "wharf.listeners.\"pg.main\": \"pg.main\"" + expected), errors);
    }

    @Test
    void portAndUpstreamAreRequired() {
        // when
        List<String> errors = errorsOf("wharf.listeners.pg { host = \"127.0.0.1\" }");

        // then
        assertEquals(List.of(
                "wharf.listeners.pg.port: missing (expected: 1-65535)",
                "wharf.listeners.pg.upstream: missing (expected: { endpoints = [\"host:port\", ...] })"), errors);
    }

    @Test
    void endpointsAreRequiredAndNotEmpty() {
        // given
        String hocon = """
                wharf.listeners {
                  a { port = 1, upstream {} }
                  b { port = 2, upstream.endpoints = [] }
                }
                """;

        // when
        List<String> errors = errorsOf(hocon);

        // then
        assertEquals(List.of(
                "wharf.listeners.a.upstream.endpoints: missing (expected: at least one host:port)",
                "wharf.listeners.b.upstream.endpoints: empty (expected: at least one host:port)"), errors);
    }

    @Test
    void everyErrorInAFileIsReportedAtOnce() {
        // given
        String hocon = """
                wharf {
                  admin.port = -1
                  defaults.allow = ["10.0.0.0/8", "hello"]
                  listeners {
                    a { port = 15432, upstream.endpoints = ["db:5432"] }
                    b { port = 15432, protocol = udp, upstream.endpoints = ["db"] }
                    c { port = 70000, idle-timeout = forever, uptream {} }
                  }
                }
                """;

        // when
        List<String> errors = errorsOf(hocon);

        // then
        assertEquals(List.of(
                "wharf.admin.port: -1 (expected: 0-65535)",
                "wharf.defaults.allow[1]: \"hello\" is not a CIDR block (expected: an IP address, optionally with"
                        + " /prefix)",
                "wharf.listeners.b.protocol: \"udp\" is not a protocol (expected one of: tcp, http, kafka, redis-cluster)",
                "wharf.listeners.b.upstream.endpoints[0]: \"db\": port: missing (expected: host:port, IPv6 as"
                        + " [addr]:port)",
                "wharf.listeners.c.uptream: unknown key (expected one of: " + LISTENER_KEYS + ")",
                "wharf.listeners.c.port: 70000 (expected: 1-65535)",
                "wharf.listeners.c.upstream: missing (expected: { endpoints = [\"host:port\", ...] })",
                "wharf.listeners.c.idle-timeout: \"forever\" is not a duration (expected: a duration such as 500ms,"
                        + " 30s, 5m, 1h)",
                "wharf.listeners.b.port: 15432 is already used by listener \"a\""), errors);
    }

    @Test
    void aListenersHealthCheckIsReadOverTheDefaultOneKeyByKey(@TempDir Path dir) throws Exception {
        // given
        Path password = Files.writeString(dir.resolve("password"), "s3cret\n");
        String hocon = "wharf.defaults { health-check { interval = 5s, fall = 4 }, on-unhealthy = close-sessions }\n"
                + pg("""
                upstream {
                  balance = first-healthy
                  health-check { type = postgres, role = primary, user = wharf, password-file = "%s", fall = 1 }
                  eject-after = 0
                  resolve-interval = 5s
                }
                """.formatted(password));

        // when
        UpstreamConfig upstream = ConfigParser.parse(hocon, ORIGIN).listeners().get("pg").upstream();

        // then
        assertEquals(new HealthCheck(HealthCheck.Type.POSTGRES, Duration.ofSeconds(5), Duration.ZERO,
                Duration.ofSeconds(1), 2, 1,
                Duration.ZERO, 0, "GET", "/", List.of(200), "", HealthCheck.Role.PRIMARY, "wharf", "postgres",
                password.toString()), upstream.healthCheck());
        assertEquals(OnUnhealthy.CLOSE_SESSIONS, upstream.onUnhealthy());
        assertEquals(0, upstream.ejectAfter());
        assertEquals(Duration.ofSeconds(5), upstream.resolveInterval());
        assertEquals(List.of(200, 204), ConfigParser.parse(pg("upstream.health-check.expect-status = [200, 204]"),
                ORIGIN).listeners().get("pg").upstream().healthCheck().expectStatus());
    }

    @Test
    void badHealthCheckSettingsAreReportedPerKey() {
        // given
        String check = """
                upstream.health-check {
                  type = icmp, interval = 0s, rise = 0, fall = 101, jitter = -1s, port = 70000, method = get,
                  path = "primary", expect-status = [200, 99], expect-body = "(", role = master,
                  password-file = "/no/such/file"
                }
                upstream.on-unhealthy = shutdown-sessions
                upstream.eject-after = -1
                """;

        // when
        List<String> errors = errorsOf(pg(check));

        // then
        String at = "wharf.listeners.pg.upstream.";
        assertEquals(List.of(
                at + "health-check.type: \"icmp\" is not a health-check type (expected one of: none, tcp, http, redis,"
                        + " postgres)",
                at + "health-check.interval: \"0s\" (expected: > 0)",
                at + "health-check.rise: 0 (expected: 1-100)",
                at + "health-check.fall: 101 (expected: 1-100)",
                at + "health-check.jitter: \"-1s\" (expected: >= 0)",
                at + "health-check.port: 70000 (expected: 0-65535)",
                at + "health-check.method: \"get\" (expected: an HTTP method such as GET)",
                at + "health-check.path: \"primary\" (expected: a path starting with '/', printable ASCII without"
                        + " spaces, at most 1024 characters)",
                at + "health-check.expect-status[1]: 99 (expected: 100-599)",
                at + "health-check.expect-body: \"(\" is not a regular expression: Unclosed group",
                at + "health-check.role: \"master\" is not a role (expected one of: any, primary, replica)",
                at + "health-check.password-file: \"/no/such/file\": no such file",
                at + "on-unhealthy: \"shutdown-sessions\" is not an on-unhealthy setting (expected one of: keep,"
                        + " close-sessions)",
                at + "eject-after: -1 (expected: 0-100)"), errors);
        assertEquals(List.of(at + "health-check.user: empty, but a postgres check logs in (expected: a user name"
                + " such as \"postgres\")"), errorsOf(pg("upstream.health-check.type = postgres")));
    }

    @Test
    void exceptionMessageListsOneErrorPerLine() {
        // when
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigParser.parse(pg("port = 0, protocol = udp"), ORIGIN));

        // then
        assertEquals("wharf.listeners.pg.port: 0 (expected: 1-65535)\n"
                + "wharf.listeners.pg.protocol: \"udp\" is not a protocol (expected one of: tcp, http, kafka, redis-cluster)", e.getMessage());
    }

    /** A valid listener "pg", changed by {@code overrides} (later keys win in HOCON). */
    @Test
    void kafkaListenerReadsItsSectionOverTheDefaults() throws ConfigException {
        // given
        String hocon = """
                wharf.defaults.kafka { max-node-id = 9 }
                wharf.listeners.kafka {
                  port = 19092, protocol = kafka, upstream.endpoints = ["10.0.0.70:9092"]
                  kafka { advertised-host = "wharf.default.svc", broker-port-base = 19100, max-frame-size = 8MiB }
                }
                """;

        // when
        ListenerConfig kafka = ConfigParser.parse(hocon, ORIGIN).listeners().get("kafka");

        // then
        assertEquals(Protocol.KAFKA, kafka.protocol());
        assertEquals(new KafkaSettings("wharf.default.svc", 19100, 9, Duration.ofSeconds(30), Duration.ofMinutes(5),
                8 << 20), kafka.kafka());
        assertEquals(19103, kafka.kafka().portOf(3));
        assertEquals(-1, kafka.kafka().portOf(10));
        assertNull(kafka.redisCluster());
    }

    @Test
    void redisClusterListenerReadsNodePortsAndDynamicRange() throws ConfigException {
        // given
        String hocon = """
                wharf.listeners.redis {
                  port = 16379, protocol = redis-cluster, upstream.endpoints = ["10.0.0.60:6379"]
                  redis-cluster {
                    advertised-host = "wharf.default.svc"
                    node-ports { "10.0.0.60:6379" = 16380, "redis-b.example:6379" = 16381 }
                    dynamic-ports = "17000-17009"
                  }
                }
                """;

        // when
        ListenerConfig redis = ConfigParser.parse(hocon, ORIGIN).listeners().get("redis");

        // then
        assertEquals(new RedisClusterSettings("wharf.default.svc",
                Map.of(new Endpoint("10.0.0.60", 6379, 0), 16380, new Endpoint("redis-b.example", 6379, 0), 16381),
                new RedisClusterSettings.PortRange(17000, 17009), Duration.ofMinutes(5), 16 << 20), redis.redisCluster());
        assertNull(redis.kafka());
    }

    @Test
    void protocolSectionsAreRequiredWithTheirProtocolAndRejectedWithOthers() {
        // when
        List<String> missing = errorsOf(pg("protocol = kafka"));
        List<String> misplaced = errorsOf(pg("redis-cluster { advertised-host = \"x\" }"));
        List<String> incomplete = errorsOf(pg("protocol = kafka, kafka { max-node-id = 5 }"));

        // then
        assertEquals(List.of("wharf.listeners.pg.kafka: missing (expected, with protocol = kafka: { advertised-host"
                + " = \"wharf.default.svc\", broker-port-base = 19100 })"), missing);
        assertEquals(List.of("wharf.listeners.pg.redis-cluster: only for protocol = redis-cluster (this listener's"
                + " protocol is tcp)"), misplaced);
        assertEquals(List.of(
                "wharf.listeners.pg.kafka.advertised-host: missing (expected: the host clients reach Wharf by, such as"
                        + " \"wharf.default.svc\")",
                "wharf.listeners.pg.kafka.broker-port-base: missing (expected: 1-65535; broker N gets port base + N)"),
                incomplete);
    }

    @Test
    void httpListenerTakesItsSectionFromTheDefaultsWhenAbsent() throws ConfigException {
        // given
        String hocon = """
                wharf.defaults.http { max-headers = 50 }
                wharf.listeners.search { port = 19200, protocol = http, upstream.endpoints = ["10.0.0.80:9200"] }
                """;

        // when
        ListenerConfig search = ConfigParser.parse(hocon, ORIGIN).listeners().get("search");

        // then
        assertEquals(Protocol.HTTP, search.protocol());
        assertEquals(new HttpSettings("", List.of(), null, Duration.ofSeconds(60), 8 << 10, 16 << 10, 50,
                Duration.ofSeconds(60), 256), search.http());
        assertNull(search.kafka());
    }

    @Test
    void httpListenerReadsItsSectionOverTheDefaults(@TempDir Path dir) throws IOException, ConfigException {
        // given
        Path auth = Files.writeString(dir.resolve("auth"), "admin:secret\n");
        String hocon = """
                wharf.defaults.http { pool-idle-timeout = 5s }
                wharf.listeners.search {
                  port = 19200, protocol = http, upstream.endpoints = ["10.0.0.80:9200"]
                  http {
                    host-header = "search.internal:9200", retry-methods = ["POST"], authorization-file = "%s"
                    response-timeout = 2s, max-initial-line = 4KiB, max-header-size = 32KiB, max-headers = 20
                    max-idle-per-endpoint = 0
                  }
                }
                """.formatted(auth);

        // when
        HttpSettings http = ConfigParser.parse(hocon, ORIGIN).listeners().get("search").http();

        // then
        assertEquals(new HttpSettings("search.internal:9200", List.of("POST"), auth.toString(), Duration.ofSeconds(2),
                4 << 10, 32 << 10, 20, Duration.ofSeconds(5), 0), http);
        assertTrue(http.retries("POST"));
        assertTrue(http.retries("DELETE"));
        assertTrue(!http.retries("PATCH") && !http.retries("get"));
    }

    @Test
    void httpSettingsAreCheckedAtTheirPaths() {
        // when
        List<String> errors = errorsOf(pg("""
                protocol = http, http {
                  host-header = "a b", retry-methods = ["post"], authorization-file = "/nonexistent/auth"
                  response-timeout = 0s, max-initial-line = 10, max-header-size = 2MiB, max-headers = 0
                  pool-idle-timeout = forever, max-idle-per-endpoint = -1, keep-alive = true
                }"""));

        // then
        assertEquals(List.of(
                "wharf.listeners.pg.http.keep-alive: unknown key (expected one of: host-header, retry-methods,"
                        + " authorization-file, response-timeout, max-initial-line, max-header-size, max-headers,"
                        + " pool-idle-timeout, max-idle-per-endpoint)",
                "wharf.listeners.pg.http.host-header: \"a b\" (expected: \"\" to keep the client's Host, or a host[:port]"
                        + " of printable ASCII without spaces)",
                "wharf.listeners.pg.http.retry-methods[0]: \"post\" (expected: an HTTP method in upper case, such as POST)",
                "wharf.listeners.pg.http.authorization-file: \"/nonexistent/auth\": no such file",
                "wharf.listeners.pg.http.response-timeout: \"0s\" (expected: > 0)",
                "wharf.listeners.pg.http.max-initial-line: 10 (expected: 1024 bytes to 1 MiB)",
                "wharf.listeners.pg.http.max-header-size: \"2MiB\" (expected: 1024 bytes to 1 MiB)",
                "wharf.listeners.pg.http.max-headers: 0 (expected: 1-10000)",
                "wharf.listeners.pg.http.pool-idle-timeout: \"forever\" is not a duration (expected: a duration such as"
                        + " 500ms, 30s, 5m, 1h)",
                "wharf.listeners.pg.http.max-idle-per-endpoint: -1 (expected: 0-10000)"), errors);
    }

    @Test
    void httpSectionIsAnErrorOnOtherProtocols() {
        // when
        List<String> errors = errorsOf(pg("http { max-headers = 10 }"));

        // then
        assertEquals(List.of("wharf.listeners.pg.http: only for protocol = http (this listener's protocol is tcp)"), errors);
    }

    @Test
    void nodePortsMayNotClashWithOtherListenersOrEachOther() {
        // given
        String hocon = """
                wharf.listeners.a { port = 19150, upstream.endpoints = ["127.0.0.1:1"] }
                wharf.listeners.kafka {
                  port = 19092, protocol = kafka, upstream.endpoints = ["10.0.0.70:9092"]
                  kafka { advertised-host = "h", broker-port-base = 19100 }
                }
                wharf.listeners.redis {
                  port = 16379, protocol = redis-cluster, upstream.endpoints = ["10.0.0.60:6379"]
                  redis-cluster {
                    advertised-host = "h"
                    node-ports { "10.0.0.60:6379" = 16379, "10.0.0.61:6379" = 19092 }
                    dynamic-ports = "19190-19210"
                  }
                }
                """;

        // when
        List<String> errors = errorsOf(hocon);

        // then
        assertEquals(List.of(
                "wharf.listeners.kafka.kafka.broker-port-base: 19100-19199 are already used by listener \"a\"",
                "wharf.listeners.redis.redis-cluster.node-ports.\"10.0.0.60:6379\": 16379 is already used by listener \"redis\"",
                "wharf.listeners.redis.redis-cluster.node-ports.\"10.0.0.61:6379\": 19092 is already used by listener \"kafka\"",
                "wharf.listeners.redis.redis-cluster.dynamic-ports: 19190-19210 are already used by the broker ports of"
                        + " listener \"kafka\" (19100-19199)"), errors);
    }

    @Test
    void badProtocolSettingsAreReportedAtTheirPaths() {
        // given
        String hocon = """
                wharf.listeners.kafka {
                  port = 19092, protocol = kafka, upstream.endpoints = ["10.0.0.70:9092"]
                  kafka { advertised-host = "", broker-port-base = 65500, max-frame-size = "lots", colour = blue }
                }
                wharf.listeners.redis {
                  port = 16379, protocol = redis-cluster, upstream.endpoints = ["10.0.0.60:6379"]
                  redis-cluster {
                    advertised-host = "h"
                    node-ports { "no-port" = 16380, "10.0.0.61:6379" = 70000 }
                    dynamic-ports = "17010-17000"
                    max-reply-size = 10
                  }
                }
                """;

        // when
        List<String> errors = errorsOf(hocon);

        // then
        assertEquals(List.of(
                "wharf.listeners.kafka.kafka.colour: unknown key (expected one of: advertised-host, broker-port-base,"
                        + " max-node-id, metadata-refresh, release-after, max-frame-size)",
                "wharf.listeners.kafka.kafka.advertised-host: empty (expected: an IP address or a host name)",
                "wharf.listeners.kafka.kafka.max-frame-size: \"lots\" is not a size (expected: bytes, or a size such"
                        + " as \"16MiB\")",
                "wharf.listeners.redis.redis-cluster.node-ports.\"10.0.0.61:6379\": 70000 (expected: 1-65535)",
                "wharf.listeners.redis.redis-cluster.node-ports.no-port: the key \"no-port\" is not a node address (expected:"
                        + " host:port as the cluster reports the node, e.g. in CLUSTER NODES)",
                "wharf.listeners.redis.redis-cluster.dynamic-ports: \"17010-17000\" is not a port range (expected:"
                        + " first-last within 1-65535, such as \"17000-17099\")",
                "wharf.listeners.redis.redis-cluster.max-reply-size: 10 (expected: 1024 bytes to 1024 MiB)"), errors);
    }

    private static String pg(String overrides) {
        return "wharf.listeners.pg {\n  port = 15432\n  upstream.endpoints = [\"127.0.0.1:5432\"]\n"
                + overrides + "\n}\n";
    }

    private static List<String> errorsOf(String hocon) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(hocon, ORIGIN));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    private static AllowList allow(String... blocks) {
        return new AllowList(Arrays.stream(blocks).map(CidrBlock::parse).toList());
    }
}
