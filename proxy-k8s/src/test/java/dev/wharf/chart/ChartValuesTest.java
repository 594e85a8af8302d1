package dev.wharf.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad values fail the render with a message that names them: the schema for types, validateValues for relations. */
class ChartValuesTest {
    @TempDir
    Path dir;

    @Test
    void schemaRejectsAWrongType() throws IOException {
        String message = renderFails("replicaCount: two\n");
        assertContains(message, "at '/replicaCount': got string, want integer");
    }

    @Test
    void schemaRejectsAnUnknownKeyAtTheTopAndInsideAListener() throws IOException {
        String message = renderFails("""
                replicas: 3
                listeners:
                  postgres:
                    upstreams: ["10.0.0.1:5432"]
                """);
        assertContains(message, "additional properties 'replicas' not allowed");
        assertContains(message, "at '/listeners/postgres': additional properties 'upstreams' not allowed");
    }

    @Test
    void schemaRejectsNegativeAndOutOfRangePorts() throws IOException {
        String message = renderFails("""
                admin:
                  port: -1
                listeners:
                  redis:
                    port: 65536
                """);
        assertContains(message, "at '/admin/port': minimum: got -1, want 1");
        assertContains(message, "at '/listeners/redis/port': maximum: got 65,536, want 65,535");
    }

    @Test
    void schemaRejectsABadListenerNameAndAWritableRootFilesystem() throws IOException {
        String message = renderFails("""
                listeners:
                  Postgres_2:
                    port: 15433
                    upstream: {endpoints: ["10.0.0.1:5432"]}
                securityContext:
                  readOnlyRootFilesystem: false
                """);
        assertContains(message, "Postgres_2");
        assertContains(message, "at '/securityContext/readOnlyRootFilesystem'");
    }

    @Test
    void validateValuesReportsEveryProblemAtOnce() throws IOException {
        String message = renderFails("""
                terminationGracePeriodSeconds: 10
                listeners:
                  postgres:
                    port: 16379
                externalServices:
                  enabled: true
                  services:
                    mysql-external: mysql
                loadBalancer:
                  enabled: true
                  listeners: [postgres, mongo]
                  proxyProtocol: true
                """);
        assertContains(message, "6 problem(s) in the values:");
        assertContains(message, "terminationGracePeriodSeconds: 10 (expected: >= 45 = lifecycle.preStopSleepSeconds 5"
                + " + config.shutdownDelaySeconds 5 + the longest drain timeout 30 + 5 to exit)");
        assertContains(message, "listeners.redis.port: 16379 is already used by listeners.postgres.port");
        assertContains(message, "externalServices.services.mysql-external: listener \"mysql\" does not exist"
                + " (expected one of: kafka, opensearch, postgres, redis)");
        assertContains(message, "loadBalancer.sourceRanges: empty");
        assertContains(message, "loadBalancer.listeners[1]: listener \"mongo\" does not exist");
        assertContains(message, "loadBalancer.trustedProxies: empty");
    }

    @Test
    void aListenersLongerDrainRaisesTheGracePeriodFloor() throws IOException {
        String message = renderFails("""
                listeners:
                  kafka:
                    drainTimeoutSeconds: 120
                """);
        assertContains(message, "terminationGracePeriodSeconds: 45 (expected: >= 135 =");

        // when the grace period follows, the same drain renders
        Path values = Files.writeString(dir.resolve("ok.yaml"), """
                terminationGracePeriodSeconds: 135
                listeners:
                  kafka:
                    drainTimeoutSeconds: 120
                """);
        RenderedChart chart = RenderedChart.render(List.of(values));
        assertEquals(135, chart.get(Deployment.class, RenderedChart.RELEASE)
                .getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds());
        assertTrue(chart.wharfConfig().contains("drain-timeout = 120s"));
    }

    @Test
    void aPortClashWithTheAdminPortIsReported() throws IOException {
        String message = renderFails("admin:\n  port: 19200\n");
        assertContains(message, "listeners.opensearch.port: 19200 is already used by admin.port");
    }

    private String renderFails(String values) throws IOException {
        Path file = Files.writeString(Files.createTempFile(dir, "values", ".yaml"), values);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RenderedChart.render(List.of(file)));
        return e.getMessage();
    }

    private static void assertContains(String message, String expected) {
        assertTrue(message.contains(expected), () -> "expected <" + expected + "> in:\n" + message);
    }
}
