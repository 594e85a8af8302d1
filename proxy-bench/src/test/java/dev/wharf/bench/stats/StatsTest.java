package dev.wharf.bench.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.model.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {

    private static Measurement m(String scenario, String target, String metric, String unit, double value) {
        return new Measurement(scenario, target, metric, unit, value);
    }

    @Test
    void medianOfAnOddCountIsTheMiddleValue() {
        List<Result> results = Stats.aggregate(List.of(
                m("bulk-1-upload", "wharf", "throughput", "Gbit/s", 9.0),
                m("bulk-1-upload", "wharf", "throughput", "Gbit/s", 3.0),
                m("bulk-1-upload", "wharf", "throughput", "Gbit/s", 5.0)));
        assertEquals(1, results.size());
        Result r = results.get(0);
        assertEquals(5.0, r.median());
        assertEquals(3.0, r.min());
        assertEquals(9.0, r.max());
        assertEquals(List.of(9.0, 3.0, 5.0), r.samples(), "samples stay in measured order");
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheTwoMiddleValues() {
        List<Result> results = Stats.aggregate(List.of(
                m("rr-closed-64B", "direct", "p99", "µs", 40.0),
                m("rr-closed-64B", "direct", "p99", "µs", 10.0),
                m("rr-closed-64B", "direct", "p99", "µs", 100.0),
                m("rr-closed-64B", "direct", "p99", "µs", 20.0)));
        Result r = results.get(0);
        assertEquals(30.0, r.median()); // sorted 10 20 40 100: (20 + 40) / 2
        assertEquals(10.0, r.min());
        assertEquals(100.0, r.max());
    }

    @Test
    void aSingleSampleIsItsOwnMedianMinAndMax() {
        Result r = Stats.aggregate(List.of(m("idle", "nginx", "memory-per-conn", "bytes", 1234.5))).get(0);
        assertEquals(1234.5, r.median());
        assertEquals(1234.5, r.min());
        assertEquals(1234.5, r.max());
    }

    @Test
    void groupsByScenarioTargetMetricAndUnitInFirstSeenOrder() {
        List<Result> results = Stats.aggregate(List.of(
                m("conn-rate", "wharf", "rate", "conn/s", 100),
                m("conn-rate", "haproxy", "rate", "conn/s", 200),
                m("conn-rate", "wharf", "errors", "count", 0),
                m("conn-rate", "wharf", "rate", "conn/s", 300),    // round 2
                m("conn-rate", "haproxy", "rate", "conn/s", 400),
                m("conn-rate", "wharf", "errors", "count", 1),
                m("conn-rate", "wharf", "rate", "req/s", 7),        // same metric, other unit: its own group
                m("idle", "wharf", "rate", "conn/s", 9)));          // other scenario: its own group
        assertEquals(5, results.size());

        assertEquals(List.of("wharf rate conn/s conn-rate", "haproxy rate conn/s conn-rate",
                        "wharf errors count conn-rate", "wharf rate req/s conn-rate", "wharf rate conn/s idle"),
                results.stream().map(r -> r.target() + " " + r.metric() + " " + r.unit() + " " + r.scenario()).toList());
        assertEquals(List.of(100.0, 300.0), results.get(0).samples());
        assertEquals(200.0, results.get(0).median());
        assertEquals(List.of(200.0, 400.0), results.get(1).samples());
        assertEquals(300.0, results.get(1).median());
        assertEquals(0.5, results.get(2).median());
        assertEquals(0.0, results.get(2).min());
        assertEquals(1.0, results.get(2).max());
        assertEquals(List.of(7.0), results.get(3).samples());
    }

    @Test
    void noMeasurementsGiveNoResults() {
        assertTrue(Stats.aggregate(List.of()).isEmpty());
        assertTrue(Double.isNaN(Stats.median(List.of())));
    }
}
