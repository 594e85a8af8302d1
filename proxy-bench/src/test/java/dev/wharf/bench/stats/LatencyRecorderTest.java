package dev.wharf.bench.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyRecorderTest {
    private static final long US = 1_000;
    private static final long MS = 1_000_000;

    /** HdrHistogram at 3 significant digits (and 0.5 µs steps at the bottom) answers within this. */
    private static void assertNear(double expectedMicros, double actualMicros) {
        double tolerance = expectedMicros * 0.002 + 0.6;
        assertEquals(expectedMicros, actualMicros, tolerance,
                () -> "expected about " + expectedMicros + " µs, got " + actualMicros);
    }

    @Test
    void percentilesOfAUniformDistribution() {
        // 1 µs, 2 µs, ..., 10000 µs, once each: the p-th percentile is p% of 10000 µs.
        LatencyRecorder r = new LatencyRecorder();
        long t = 5_000_000_000L;
        for (int i = 1; i <= 10_000; i++) {
            r.recordClosedLoop(t, t + i * US);
        }
        assertEquals(10_000, r.count());
        assertNear(5_000, r.p50Micros());
        assertNear(9_900, r.p99Micros());
        assertNear(9_990, r.p999Micros());
        assertNear(10_000, r.maxMicros());
        assertNear(5_000.5, r.meanMicros());
    }

    @Test
    void percentilesOfATwoValueDistribution() {
        // 990 requests at 30 µs and 10 at 2 ms: p50 and p99 are 30 µs, p99.9 is 2 ms.
        LatencyRecorder r = new LatencyRecorder();
        for (int i = 0; i < 990; i++) {
            r.recordClosedLoop(0, 30 * US);
        }
        for (int i = 0; i < 10; i++) {
            r.recordClosedLoop(0, 2 * MS);
        }
        assertNear(30, r.p50Micros());
        assertNear(30, r.p99Micros());
        assertNear(2_000, r.p999Micros());
    }

    @Test
    void mergingPerConnectionRecordersKeepsEveryValue() {
        LatencyRecorder a = new LatencyRecorder();
        LatencyRecorder b = new LatencyRecorder();
        for (int i = 1; i <= 500; i++) {
            a.recordClosedLoop(0, i * US);          // 1..500 µs
            b.recordClosedLoop(0, (500 + i) * US);  // 501..1000 µs
        }
        LatencyRecorder all = LatencyRecorder.merged(List.of(a, b));
        assertEquals(1_000, all.count());
        assertNear(500, all.p50Micros());
        assertNear(990, all.p99Micros());
        assertEquals(500, a.count(), "merging leaves the parts alone");
    }

    @Test
    void valuesBeyondSixtySecondsAreClampedNotLost() {
        LatencyRecorder r = new LatencyRecorder();
        r.recordOpenLoop(0, 120_000 * MS);
        assertEquals(1, r.count());
        assertTrue(r.maxMicros() >= 59_000_000, "clamped to the 60 s ceiling: " + r.maxMicros());
    }

    /**
     * Coordinated omission. One connection, a request due every 1 ms (t_i = i ms, i = 0..999), a
     * server that answers in 0.1 ms one request at a time, except request 100, which stalls 500 ms
     * (answered at 600 ms). Requests 101.. queue behind it: request k is answered at
     * max(t_k, answer_{k-1}) + 0.1 ms, which is 590 + 0.1k ms until the queue drains (k = 655).
     *
     * <p>From the intended send time, request k (101..655) waited 590 - 0.9k ms: 556 slow requests
     * (100..655) spread linearly from 500 ms down to 0.5 ms, 444 at 0.1 ms. The 99th percentile
     * is the 990th smallest of 1000 values, the 11th largest: k = 110, 590 - 99 = 491 ms. The
     * median is the 500th smallest, the 56th of the slow ones counted from the fastest: k = 600,
     * 590 - 540 = 50 ms.
     *
     * <p>A naive recorder measures from when each request actually went out, which for the queued
     * ones is the moment the previous answer arrived: 0.1 ms each. Only the stalled request itself
     * is slow, 1 in 1000, so its p99 and even p99.9 (the 999th smallest) say 0.1 ms.
     */
    @Test
    void theOpenLoopRecorderSeesTheStallThatTheNaiveOneHides() {
        long interval = 1 * MS;
        long service = 100 * US;
        LatencyRecorder openLoop = new LatencyRecorder();
        LatencyRecorder naive = new LatencyRecorder();
        long previousAnswer = Long.MIN_VALUE;
        for (int i = 0; i < 1000; i++) {
            long intended = i * interval;
            long actualSend = Math.max(intended, previousAnswer); // queued behind the previous answer
            long answer = i == 100 ? intended + 500 * MS : actualSend + service;
            openLoop.recordOpenLoop(intended, answer);
            naive.recordClosedLoop(actualSend, answer);
            previousAnswer = answer;
        }

        assertNear(491_000, openLoop.p99Micros());
        assertNear(50_000, openLoop.p50Micros());
        assertNear(500_000, openLoop.maxMicros());

        assertNear(100, naive.p50Micros());
        assertNear(100, naive.p99Micros());
        assertNear(100, naive.p999Micros());
        assertNear(500_000, naive.maxMicros()); // the stall is only in the max
    }
}
