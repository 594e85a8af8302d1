package dev.wharf.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.config.TestConfigs;
import dev.wharf.config.UpstreamConfig;
import dev.wharf.metrics.WharfMetrics;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class UpstreamPoolTest {
    private final WharfMetrics registry = new WharfMetrics();
    /** What the fake DNS answers, by name; a missing name does not resolve. */
    private final Map<String, List<InetAddress>> dns = new ConcurrentHashMap<>();
    private final UpstreamWorkers workers = new UpstreamWorkers(host -> {
        List<InetAddress> addresses = dns.get(host);
        if (addresses == null) {
            throw new UnknownHostException(host);
        }
        return addresses;
    });
    private final List<UpstreamPool> pools = new ArrayList<>();

    @AfterEach
    void closeAll() {
        pools.forEach(UpstreamPool::close);
        workers.close();
        registry.close();
    }

    private UpstreamPool pool(String body) {
        UpstreamPool pool = UpstreamPool.create("pg", TestConfigs.upstream(body), registry.listener("pg"), workers);
        pools.add(pool);
        return pool;
    }

    private static String ports(String balance, int... ports) {
        return "balance = " + balance + ", endpoints = ["
                + Arrays.stream(ports).mapToObj(p -> "\"127.0.0.1:" + p + "\"").collect(Collectors.joining(", ")) + "]";
    }

    private static List<Integer> ports(List<EndpointState> states) {
        return states.stream().map(s -> s.resolved().getPort()).toList();
    }

    private static List<String> ids(List<EndpointState> states) {
        return states.stream().map(EndpointState::id).toList();
    }

    private static InetAddress ip(String literal) throws UnknownHostException {
        return InetAddress.getByName(literal);
    }

    @Test
    void roundRobinRotatesTheStartAndTriesAtMostThree() {
        UpstreamPool pool = pool(ports("round-robin", 1, 2, 3, 4));
        assertEquals(List.of(1, 2, 3), ports(pool.candidates()));
        assertEquals(List.of(2, 3, 4), ports(pool.candidates()));
        assertEquals(List.of(3, 4, 1), ports(pool.candidates()));
        assertEquals(List.of(4, 1, 2), ports(pool.candidates()));
    }

    @Test
    void leastConnectionsPrefersTheIdlest() {
        UpstreamPool pool = pool(ports("least-connections", 1, 2, 3));
        pool.endpoints().get(0).sessionOpened(down -> { });
        pool.endpoints().get(0).sessionOpened(down -> { });
        pool.endpoints().get(2).sessionOpened(down -> { });
        assertEquals(List.of(2, 3, 1), ports(pool.candidates()));
    }

    @Test
    void firstHealthyKeepsTheConfiguredOrder() {
        UpstreamPool pool = pool(ports("first-healthy", 3, 1, 2));
        assertEquals(List.of(3, 1, 2), ports(pool.candidates()));
        assertEquals(List.of(3, 1, 2), ports(pool.candidates()));
    }

    @Test
    void aNewTableKeepsTheStateOfEndpointsItKeepsAndStopsExportingTheOthers() {
        UpstreamPool pool = pool(ports("round-robin", 1, 2));
        EndpointState kept = pool.endpoints().get(1);
        kept.sessionOpened(down -> { });
        pool.update(TestConfigs.upstream(ports("round-robin", 2, 3)));
        assertSame(kept, pool.endpoints().get(0));
        assertEquals(1, pool.endpoints().get(0).active());
        String scrape = registry.scrape();
        assertFalse(scrape.contains("endpoint=\"127.0.0.1:1\""));
        assertTrue(scrape.contains("endpoint=\"127.0.0.1:2\""));
        assertTrue(scrape.contains("endpoint=\"127.0.0.1:3\""));
    }

    @Test
    void aNameThatNeverResolvedIsShownButNotACandidate() {
        UpstreamPool pool = pool("balance = first-healthy, endpoints = [\"db.example:5432\", \"127.0.0.1:5433\"]");
        assertEquals(List.of("db.example:5432", "127.0.0.1:5433"), ids(pool.endpoints()));
        assertNull(pool.endpoints().get(0).resolved());
        assertEquals(List.of(5433), ports(pool.candidates()));
        assertEquals(Map.of("db.example", "does not resolve"), pool.resolveErrors());
        assertTrue(registry.scrape().contains("wharf_upstream_healthy{endpoint=\"db.example:5432\",listener=\"pg\"} 0.0"));
    }

    @Test
    void everyAddressOfANameIsAnEndpointAndANewAnswerReplacesThemWithoutAReload() throws Exception {
        dns.put("db.example", List.of(ip("10.0.0.2"), ip("10.0.0.1")));
        UpstreamPool pool = pool("endpoints = [\"db.example:5432\"], resolve-interval = 50ms");
        assertEquals(List.of("db.example:5432/10.0.0.1", "db.example:5432/10.0.0.2"), ids(pool.endpoints()));
        EndpointState kept = pool.endpoints().get(1);

        // when the Docker host restarts with a new address
        dns.put("db.example", List.of(ip("10.0.0.2"), ip("10.0.0.3")));
        awaitIds(pool, List.of("db.example:5432/10.0.0.2", "db.example:5432/10.0.0.3"));

        // then the address it kept keeps its state, and the gone one is no longer exported
        assertSame(kept, pool.endpoints().get(0));
        assertFalse(registry.scrape().contains("10.0.0.1"));

        // when the name stops resolving, its last addresses stay in use
        dns.remove("db.example");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (pool.resolveErrors().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(Map.of("db.example", "does not resolve"), pool.resolveErrors());
        assertEquals(List.of("db.example:5432/10.0.0.2", "db.example:5432/10.0.0.3"), ids(pool.candidates()));
    }

    private static void awaitIds(UpstreamPool pool, List<String> expected) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!ids(pool.endpoints()).equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(expected, ids(pool.endpoints()));
    }

    @Test
    void consecutiveConnectFailuresEjectForLongerEachTimeUntilAConnectSucceeds() throws Exception {
        UpstreamPool pool = pool(ports("first-healthy", 1, 2) + ", eject-after = 3, eject-for = 200ms");
        EndpointState first = pool.endpoints().get(0);
        pool.connectFailed(first);
        pool.connectFailed(first);
        assertEquals(List.of(1, 2), ports(pool.candidates()));
        pool.connectFailed(first);
        assertEquals(List.of(2), ports(pool.candidates()), "ejected after the third failure in a row");
        pool.connectFailed(first);
        assertTrue(registry.scrape().contains("wharf_upstream_ejections_total{listener=\"pg\"} 1.0"),
                "a failure while ejected does not eject again");

        awaitCandidates(pool, List.of(1, 2), 1_000);
        pool.connectFailed(first);
        assertEquals(List.of(2), ports(pool.candidates()), "one failure right after its return ejects it again");
        Thread.sleep(250);
        assertEquals(List.of(2), ports(pool.candidates()), "the second ejection lasts twice as long (400 ms)");
        awaitCandidates(pool, List.of(1, 2), 1_000);

        first.connectSucceeded();
        pool.connectFailed(first);
        pool.connectFailed(first);
        assertEquals(List.of(1, 2), ports(pool.candidates()), "a good connect forgets the failures before it");
    }

    @Test
    void ejectAfterZeroNeverEjects() {
        UpstreamPool pool = pool(ports("first-healthy", 1, 2) + ", eject-after = 0");
        for (int i = 0; i < 10; i++) {
            pool.connectFailed(pool.endpoints().get(0));
        }
        assertEquals(List.of(1, 2), ports(pool.candidates()));
    }

    private static void awaitCandidates(UpstreamPool pool, List<Integer> expected, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!ports(pool.candidates()).equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(expected, ports(pool.candidates()));
    }

    @Test
    void anEndpointWithACheckGetsNoSessionsUntilItsFirstCheckPasses() throws Exception {
        // Port 1 on loopback refuses connections: the tcp check fails at once.
        UpstreamPool pool = pool(ports("first-healthy", 1) + ", health-check { type = tcp, interval = 1h }");
        EndpointState refused = pool.endpoints().get(0);
        pool.awaitFirstChecks(System.nanoTime() + 5_000_000_000L);
        assertEquals(EndpointState.Health.DOWN, refused.health());
        assertTrue(refused.lastCheck().contains("refused"), refused.lastCheck());
        assertEquals(List.of(), pool.candidates());
        UpstreamConfig unchecked = TestConfigs.upstream(ports("first-healthy", 1));
        pool.update(unchecked);
        assertEquals(List.of(1), ports(pool.candidates()), "without a check the endpoint is up again");
    }

    @Test
    void aDownEndpointIsCheckedAtTheDownInterval() throws Exception {
        // Port 1 refuses: down at once, then rechecked every 20 ms, not every hour.
        pool(ports("first-healthy", 1) + ", health-check { type = tcp, interval = 1h, down-interval = 20ms }");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (failedChecks() < 5 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(failedChecks() >= 5, "failed checks: " + failedChecks());
    }

    private double failedChecks() {
        var m = java.util.regex.Pattern.compile("wharf_health_checks_total\\{listener=\"pg\",result=\"failed\"} (\\S+)")
                .matcher(registry.scrape());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
