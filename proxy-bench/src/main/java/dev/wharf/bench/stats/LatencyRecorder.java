package dev.wharf.bench.stats;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A latency histogram (HdrHistogram, 1 µs to 60 s at 3 significant digits) fed with
 * {@link System#nanoTime()} stamps. Not thread-safe: keep one per connection (each connection
 * lives on one event loop) and {@link #merge} them when the run is over.
 *
 * <p>The two record methods differ in which start time the caller passes, and that difference is
 * the whole point. A closed loop sends a request only when the previous answer arrived, so
 * measuring from the actual send is right for it, but it hides stalls: while the target stalls,
 * requests that should have been sent are not, and are never measured ("coordinated omission").
 * An open loop has a schedule; a request that could only be sent late because an earlier one
 * stalled waited from the moment it was due, so its latency is measured from its
 * <em>intended</em> send time (as wrk2 does).
 */
public final class LatencyRecorder {
    private static final long LOWEST_NANOS = TimeUnit.MICROSECONDS.toNanos(1);
    private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);

    /*
     * Values in nanoseconds with 1 µs as the lowest discernible value: steps of 0.5 µs up to about
     * 1 ms (a loopback round trip of 30 µs is not rounded to whole microseconds), 3 significant
     * digits beyond. About 150 KB per recorder.
     */
    private final Histogram histogram = new Histogram(LOWEST_NANOS, HIGHEST_NANOS, 3);

    /** A closed-loop request: sent at {@code startNanos}, fully answered at {@code endNanos}. */
    public void recordClosedLoop(long startNanos, long endNanos) {
        record(endNanos - startNanos);
    }

    /**
     * An open-loop request that the schedule meant to send at {@code intendedStartNanos}, however
     * late it actually went out, fully answered at {@code endNanos}.
     */
    public void recordOpenLoop(long intendedStartNanos, long endNanos) {
        record(endNanos - intendedStartNanos);
    }

    private void record(long nanos) {
        // A clock step can make nanos negative only in theory; beyond 60 s the value is clamped.
        histogram.recordValue(Math.min(Math.max(nanos, 0), HIGHEST_NANOS));
    }

    /** Adds every value {@code other} recorded to this one. */
    public LatencyRecorder merge(LatencyRecorder other) {
        histogram.add(other.histogram);
        return this;
    }

    /** A new recorder holding the values of all {@code recorders}. */
    public static LatencyRecorder merged(Collection<LatencyRecorder> recorders) {
        LatencyRecorder all = new LatencyRecorder();
        recorders.forEach(all::merge);
        return all;
    }

    public void reset() {
        histogram.reset();
    }

    public long count() {
        return histogram.getTotalCount();
    }

    /** The value at {@code percentile} (0..100) in microseconds; 0 if nothing was recorded. */
    public double percentileMicros(double percentile) {
        return histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    public double p50Micros() {
        return percentileMicros(50);
    }

    public double p99Micros() {
        return percentileMicros(99);
    }

    public double p999Micros() {
        return percentileMicros(99.9);
    }

    public double maxMicros() {
        return histogram.getMaxValue() / 1000.0;
    }

    public double meanMicros() {
        return histogram.getMean() / 1000.0;
    }

    @Override
    public String toString() {
        return String.format("LatencyRecorder[n=%d p50=%.1fus p99=%.1fus p99.9=%.1fus max=%.1fus]",
                count(), p50Micros(), p99Micros(), p999Micros(), maxMicros());
    }
}
