package dev.wharf.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.wharf.config.Balance;
import dev.wharf.config.Endpoint;
import dev.wharf.config.UpstreamConfig;
import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.metrics.WharfMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

class UpstreamPoolTest {
    private final ListenerMetrics metrics = new WharfMetrics().listener("pg");

    private static UpstreamConfig config(Balance balance, int... ports) {
        return new UpstreamConfig(java.util.Arrays.stream(ports).mapToObj(p -> new Endpoint("127.0.0.1", p, 0)).toList(), balance);
    }

    private static List<Integer> ports(List<EndpointState> states) {
        return states.stream().map(s -> s.endpoint().port()).toList();
    }

    @Test
    void roundRobinRotatesTheStartAndTriesAtMostThree() {
        UpstreamPool pool = UpstreamPool.create(config(Balance.ROUND_ROBIN, 1, 2, 3, 4), null, metrics);
        assertEquals(List.of(1, 2, 3), ports(pool.candidates()));
        assertEquals(List.of(2, 3, 4), ports(pool.candidates()));
        assertEquals(List.of(3, 4, 1), ports(pool.candidates()));
        assertEquals(List.of(4, 1, 2), ports(pool.candidates()));
    }

    @Test
    void leastConnectionsPrefersTheIdlest() {
        UpstreamPool pool = UpstreamPool.create(config(Balance.LEAST_CONNECTIONS, 1, 2, 3), null, metrics);
        pool.endpoints().get(0).sessionOpened();
        pool.endpoints().get(0).sessionOpened();
        pool.endpoints().get(2).sessionOpened();
        assertEquals(List.of(2, 3, 1), ports(pool.candidates()));
    }

    @Test
    void firstHealthyKeepsTheConfiguredOrder() {
        UpstreamPool pool = UpstreamPool.create(config(Balance.FIRST_HEALTHY, 3, 1, 2), null, metrics);
        assertEquals(List.of(3, 1, 2), ports(pool.candidates()));
        assertEquals(List.of(3, 1, 2), ports(pool.candidates()));
    }

    @Test
    void aNewTableKeepsTheStateOfEndpointsItKeepsAndStopsExportingTheOthers() {
        WharfMetrics registry = new WharfMetrics();
        ListenerMetrics pg = registry.listener("pg");
        UpstreamPool first = UpstreamPool.create(config(Balance.ROUND_ROBIN, 1, 2), null, pg);
        first.endpoints().get(1).sessionOpened();
        UpstreamPool second = UpstreamPool.create(config(Balance.ROUND_ROBIN, 2, 3), first, pg);
        assertSame(first.endpoints().get(1), second.endpoints().get(0));
        assertEquals(1, second.endpoints().get(0).active());
        String scrape = registry.scrape();
        assertEquals(false, scrape.contains("endpoint=\"127.0.0.1:1\""));
        assertEquals(true, scrape.contains("endpoint=\"127.0.0.1:2\""));
        assertEquals(true, scrape.contains("endpoint=\"127.0.0.1:3\""));
    }

    @Test
    void anUnresolvableNameIsNotACandidate() {
        UpstreamConfig config = new UpstreamConfig(List.of(new Endpoint("no-such-host.invalid", 5432, 0),
                new Endpoint("127.0.0.1", 5432, 0)), Balance.FIRST_HEALTHY);
        UpstreamPool pool = UpstreamPool.create(config, null, metrics);
        assertEquals(List.of(5432), ports(pool.candidates()));
    }
}
