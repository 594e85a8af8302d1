package dev.wharf.bench.load;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.target.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Collects one scenario run's measurements for one target, plus the small helpers they share. */
final class Samples {
    static final double MIB = 1024.0 * 1024.0;

    private final String target;
    private final List<Measurement> measurements = new ArrayList<>();

    Samples(Target target) {
        this.target = target.name();
    }

    Samples add(String scenario, String metric, String unit, double value) {
        measurements.add(new Measurement(scenario, target, metric, unit, value));
        return this;
    }

    List<Measurement> list() {
        return List.copyOf(measurements);
    }

    /** "64B", "4KiB": the suffix of per-size scenario names. */
    static String sizeLabel(int bytes) {
        return bytes % 1024 == 0 ? bytes / 1024 + "KiB" : bytes + "B";
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }

    static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }

    /** Sleeps until {@link System#nanoTime()} reaches {@code deadlineNanos}. */
    static void sleepUntil(long deadlineNanos) throws InterruptedException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }
}
