package dev.wharf.bench.realclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.target.PortTarget;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.target.Upstream;
import dev.wharf.bench.target.Upstreams;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** redis-benchmark and pgbench, smoke-sized, against real Redis and PostgreSQL servers. */
class RealClientsTest {
    private static final RunContext SMOKE = new RunContext(Duration.ofMillis(700), Duration.ofMillis(200), true, true,
            null, Map.of());

    @TempDir
    static Path work;
    static Upstreams upstreams;

    @BeforeAll
    static void startUpstreams() {
        upstreams = Upstreams.start(work, Upstreams.Options.defaults()
                .withUpstreams(EnumSet.of(Upstream.REDIS, Upstream.POSTGRES))
                .withPgbenchScale(1));
    }

    @AfterAll
    static void stopUpstreams() {
        if (upstreams != null) {
            upstreams.close();
        }
    }

    @Test
    void redisBenchmarkMeasuresSetAndGetWithAndWithoutPipelining() throws Exception {
        Target direct = PortTarget.direct(upstreams);
        List<Measurement> ms = new RedisBenchmark().run(direct, SMOKE);

        assertEquals(List.of("redis-benchmark-P16 SET", "redis-benchmark-P16 GET", "redis-benchmark-c50 SET",
                "redis-benchmark-c50 GET"), ms.stream().map(m -> m.scenario() + " " + m.metric()).toList());
        for (Measurement m : ms) {
            assertEquals("direct", m.target());
            assertEquals("kops/s", m.unit());
            assertTrue(m.value() > 0, m.toString());
        }
    }

    @Test
    void pgbenchMeasuresSelectOnlyTransactions() throws Exception {
        List<Measurement> ms = new Pgbench().run(PortTarget.direct(upstreams), SMOKE);

        assertEquals(1, ms.size());
        Measurement m = ms.get(0);
        assertEquals(List.of("pgbench", "direct", "tps", "tx/s"), List.of(m.scenario(), m.target(), m.metric(), m.unit()));
        assertTrue(m.value() > 100, m.toString());
    }

    @Test
    void aToolThatCannotConnectFailsWithItsOutput() {
        Target nowhere = new PortTarget("nowhere", 1); // nothing listens there
        IOException redis = assertThrows(IOException.class, () -> new RedisBenchmark().run(nowhere, SMOKE));
        assertTrue(redis.getMessage().startsWith("Redis does not answer PING through nowhere on port 1"), redis.getMessage());
        IOException pg = assertThrows(IOException.class, () -> new Pgbench().run(nowhere, SMOKE));
        assertTrue(pg.getMessage().contains("exited with status") && pg.getMessage().contains("connection"), pg.getMessage());
    }

    @Test
    void parsesTheToolsOutput() {
        assertEquals(Map.of("SET", 734753.88, "GET", 796178.31), RedisBenchmark.parse("""
                "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
                "SET","734753.88","0.824","0.312","0.831","1.111","1.271","2.151"
                "GET","796178.31","0.699","0.104","0.719","1.007","1.231","2.999"
                """));
        assertEquals(28956.217247, Pgbench.parse("""
                latency average = 0.276 ms
                initial connection time = 29.379 ms
                tps = 28956.217247 (without initial connection time)
                """));
        assertTrue(Double.isNaN(Pgbench.parse("pgbench: error: connection to server failed")));
    }
}
