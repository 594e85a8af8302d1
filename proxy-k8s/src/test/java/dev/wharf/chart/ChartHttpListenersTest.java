package dev.wharf.chart;

import static dev.wharf.chart.RenderedChart.RELEASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.config.ConfigParser;
import dev.wharf.config.HealthCheck;
import dev.wharf.config.HttpSettings;
import dev.wharf.config.ListenerConfig;
import dev.wharf.config.Protocol;
import dev.wharf.config.WharfConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** protocol http listeners: the http sections as Wharf parses them, and the default OpenSearch listener. */
class ChartHttpListenersTest {
    private static final String OPENSEARCH_NOT_RED = "\"status\"\\s*:\\s*\"(green|yellow)\"";

    private static final RenderedChart DEFAULTS = RenderedChart.defaults();

    @TempDir
    Path dir;

    @Test
    void defaultOpenSearchListenerIsHttpAndChecksTheClusterIsNotRed() throws Exception {
        // when: Wharf parses what the default values render
        WharfConfig config = ConfigParser.parse(DEFAULTS.wharfConfig(), "rendered");

        // then: opensearch balances requests, with reference.conf's http settings (the chart sets none)
        ListenerConfig opensearch = config.listeners().get("opensearch");
        assertEquals(Protocol.HTTP, opensearch.protocol());
        assertEquals(referenceHttp(), opensearch.http());
        assertFalse(DEFAULTS.wharfConfig().contains("http {"), "no http value is set, so none is rendered");

        // and: a check passes on 200 from /_cluster/health on the endpoint's own port, and a body that is not red
        HealthCheck check = opensearch.upstream().healthCheck();
        assertEquals(HealthCheck.Type.HTTP, check.type());
        assertEquals("GET", check.method());
        assertEquals("/_cluster/health", check.path());
        assertEquals(0, check.port(), "0: the endpoint's own port, 9200");
        assertEquals(0, opensearch.upstream().endpoints().get(0).checkPort(), "no check port either");
        assertEquals(List.of(200), check.expectStatus());

        // and: the regular expression survived YAML and HOCON escaping
        assertEquals(OPENSEARCH_NOT_RED, check.expectBody());
        Pattern notRed = Pattern.compile(check.expectBody());
        assertTrue(notRed.matcher(healthBody("green")).find());
        assertTrue(notRed.matcher(healthBody("yellow")).find());
        assertFalse(notRed.matcher(healthBody("red")).find());
    }

    @Test
    void everyHttpValueRendersAsWharfParsesItAndListenersInheritKeyByKey() throws Exception {
        // given: every http value in config.defaults, and a listener overriding some of them with a real
        // credentials file in a "Secret" mount (Wharf checks that authorization-file is readable when it parses)
        Path secret = Files.createDirectories(dir.resolve("opensearch"));
        Path auth = Files.writeString(secret.resolve("auth"), "wharf:s3cret");
        Path values = writeValues("""
                secretMounts:
                  - {name: opensearch-auth, mountPath: "%s"}
                config:
                  defaults:
                    http:
                      hostHeader: search.internal
                      retryMethods: [POST, PATCH]
                      authorizationFile: ""
                      responseTimeout: 90s
                      maxInitialLine: 4KiB
                      maxHeaderSize: 65536
                      maxHeaders: 64
                      poolIdleTimeout: 2m
                      maxIdlePerEndpoint: 0
                listeners:
                  opensearch:
                    http:
                      hostHeader: ""
                      retryMethods: []
                      authorizationFile: "%s"
                      maxHeaderSize: 1MiB
                      maxIdlePerEndpoint: 32
                  logs:
                    port: 19300
                    protocol: http
                    upstream:
                      endpoints: ["172.19.0.81:9200"]
                """.formatted(secret, auth));
        RenderedChart chart = RenderedChart.render(List.of(values));

        // when
        WharfConfig config = ConfigParser.parse(chart.wharfConfig(), "rendered");

        // then: a listener without an http section gets config.defaults.http whole
        HttpSettings defaults = new HttpSettings("search.internal", List.of("POST", "PATCH"), null,
                Duration.ofSeconds(90), 4096, 65536, 64, Duration.ofMinutes(2), 0);
        assertEquals(defaults, config.listeners().get("logs").http());

        // and: one with a section overrides only the keys it sets ("" and [] included)
        assertEquals(new HttpSettings("", List.of(), auth.toString(), Duration.ofSeconds(90), 4096, 1 << 20, 64,
                Duration.ofMinutes(2), 32), config.listeners().get("opensearch").http());

        // and: config.defaults.http is in the base config, not in the watched table
        String base = chart.get(ConfigMap.class, RELEASE + "-base").getData().get("wharf.conf");
        assertTrue(base.contains("retry-methods = [\"POST\",\"PATCH\"]"), base);
    }

    @Test
    void anAuthorizationFileMustBeAKeyOfAMountedSecretLikeAPasswordFile() throws IOException {
        // given: one Secret mounted, and files outside it in config.defaults, a listener and a health check
        String message = renderFails("""
                secretMounts:
                  - {name: opensearch-auth, mountPath: /etc/wharf-secrets/opensearch}
                config:
                  defaults:
                    http: {authorizationFile: /etc/wharf-secrets/other/auth}
                listeners:
                  opensearch:
                    http: {authorizationFile: /etc/wharf-secrets/opensearch/../opensearch/auth}
                    upstream:
                      healthCheck: {passwordFile: /etc/wharf-secrets/other/password}
                """);

        // then: the same rule, and the same words, for both kinds of file
        String expected = " is not a key of a mounted Secret (expected: <mountPath>/<key> of a secretMounts entry;"
                + " mounted at: /etc/wharf-secrets/opensearch)";
        assertContains(message, "3 problem(s) in the values:");
        assertContains(message, "config.defaults.http.authorizationFile: \"/etc/wharf-secrets/other/auth\"" + expected);
        assertContains(message, "listeners.opensearch.http.authorizationFile:"
                + " \"/etc/wharf-secrets/opensearch/../opensearch/auth\"" + expected);
        assertContains(message, "listeners.opensearch.upstream.healthCheck.passwordFile:"
                + " \"/etc/wharf-secrets/other/password\"" + expected);

        // and: with nothing mounted
        message = renderFails("""
                listeners:
                  opensearch:
                    http: {authorizationFile: /etc/wharf-secrets/opensearch/auth}
                """);
        assertContains(message, "listeners.opensearch.http.authorizationFile: \"/etc/wharf-secrets/opensearch/auth\""
                + " is not a key of a mounted Secret (expected: <mountPath>/<key> of a secretMounts entry;"
                + " no Secret is mounted)");

        // and: a key of the mounted Secret renders
        Path ok = writeValues("""
                secretMounts:
                  - {name: opensearch-auth, mountPath: /etc/wharf-secrets/opensearch}
                listeners:
                  opensearch:
                    http: {authorizationFile: /etc/wharf-secrets/opensearch/auth}
                """);
        assertTrue(RenderedChart.render(List.of(ok)).wharfConfig()
                .contains("authorization-file = \"/etc/wharf-secrets/opensearch/auth\""));
    }

    @Test
    void anHttpSectionOnAListenerOfAnotherProtocolFailsTheRenderNamingIt() throws IOException {
        String message = renderFails("""
                listeners:
                  postgres:
                    http: {maxHeaders: 10}
                  kafka:
                    http: {}
                  opensearch:
                    protocol: tcp
                    http: {hostHeader: search.internal}
                """);
        assertContains(message, "3 problem(s) in the values:");
        assertContains(message, "listeners.postgres.http: set, but only protocol http reads it"
                + " (expected: protocol: http, or no http; this listener's protocol is tcp)");
        assertContains(message, "listeners.kafka.http: set, but only protocol http reads it"
                + " (expected: protocol: http, or no http; this listener's protocol is kafka)");
        assertContains(message, "listeners.opensearch.http: set, but only protocol http reads it");
    }

    @Test
    void theDefaultOpenSearchListenerBecomesTcpAgainWithOneValue() throws Exception {
        // values.yaml shows its http section commented out, so there is none to remove
        Path values = writeValues("""
                listeners:
                  opensearch:
                    protocol: tcp
                """);
        WharfConfig config = ConfigParser.parse(RenderedChart.render(List.of(values)).wharfConfig(), "rendered");
        assertEquals(Protocol.TCP, config.listeners().get("opensearch").protocol());
        assertNull(config.listeners().get("opensearch").http());
    }

    @Test
    void requestHeadLimitsStayWithinWhatWharfAccepts() throws IOException {
        // a size with a unit is checked at render time, a number of bytes by the schema
        String message = renderFails("""
                config:
                  defaults:
                    http: {maxInitialLine: 2MiB}
                listeners:
                  opensearch:
                    http: {maxHeaderSize: 512B}
                """);
        assertContains(message, "2 problem(s) in the values:");
        assertContains(message, "config.defaults.http.maxInitialLine: \"2MiB\" is 2097152 bytes"
                + " (expected: 1 KiB to 1 MiB, such as \"16KiB\")");
        assertContains(message, "listeners.opensearch.http.maxHeaderSize: \"512B\" is 512 bytes"
                + " (expected: 1 KiB to 1 MiB, such as \"16KiB\")");

        message = renderFails("""
                listeners:
                  opensearch:
                    http:
                      maxInitialLine: 2097152
                      maxHeaders: 0
                      maxIdlePerEndpoint: -1
                      retryMethods: [post]
                      responseTimeout: 0s
                      hostHeader: "search internal"
                      authorizationFile: relative/auth
                      host-header: x
                """);
        String at = "at '/listeners/opensearch/http";
        assertContains(message, at + "/maxInitialLine'");
        assertContains(message, at + "/maxHeaders': minimum: got 0, want 1");
        assertContains(message, at + "/maxIdlePerEndpoint': minimum: got -1, want 0");
        assertContains(message, at + "/retryMethods/0': 'post' does not match pattern");
        assertContains(message, at + "/responseTimeout': '0s' does not match pattern");
        assertContains(message, at + "/hostHeader': 'search internal' does not match pattern");
        assertContains(message, at + "/authorizationFile': 'relative/auth' does not match pattern");
        assertContains(message, at + "': additional properties 'host-header' not allowed");
    }

    @Test
    void everyFeatureOnRendersTheHttpValuesAsWharfParsesThem() throws Exception {
        WharfConfig config = ConfigParser.parse(RenderedChart.allFeatures().wharfConfig(), "rendered");
        ListenerConfig opensearch = config.listeners().get("opensearch");
        assertEquals(new HttpSettings("opensearch.example.com:9200", List.of("POST"), null, Duration.ofMinutes(2),
                16 << 10, 64 << 10, 200, Duration.ofSeconds(90), 0), opensearch.http());
        assertEquals(OPENSEARCH_NOT_RED, opensearch.upstream().healthCheck().expectBody());
        assertEquals(Duration.ofSeconds(5), opensearch.upstream().healthCheck().interval(), "from config.defaults");
    }

    /** A cluster health answer as OpenSearch 2.x formats it, with this status. */
    private static String healthBody(String status) {
        return "{\"cluster_name\":\"opensearch\",\"status\" : \"" + status + "\",\"timed_out\":false,"
                + "\"number_of_nodes\":1,\"active_shards_percent_as_number\":100.0}";
    }

    /** An http listener with nothing set: reference.conf's wharf.defaults.http. */
    private static HttpSettings referenceHttp() throws Exception {
        return ConfigParser.parse("wharf.listeners.x { port = 1, protocol = http, upstream.endpoints = [\"h:1\"] }",
                "reference").listeners().get("x").http();
    }

    private String renderFails(String values) {
        Path file = writeValues(values);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RenderedChart.render(List.of(file)));
        return e.getMessage();
    }

    private Path writeValues(String yaml) {
        try {
            return Files.writeString(Files.createTempFile(dir, "values", ".yaml"), yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertContains(String message, String expected) {
        assertTrue(message.contains(expected), () -> "expected <" + expected + "> in:\n" + message);
    }
}
