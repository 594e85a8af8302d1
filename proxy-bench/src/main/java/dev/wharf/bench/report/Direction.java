package dev.wharf.bench.report;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which way a metric improves. Ratios alone say "more" or "less"; this says whether that is good,
 * so the report can put an arrow next to each metric and only credit a target for real wins.
 */
enum Direction {
    HIGHER("↑"), LOWER("↓"), NEUTRAL("");

    private static final Set<String> HIGHER_METRICS =
            Set.of("throughput", "rate", "achieved-rate", "SET", "GET", "tps");
    private static final Set<String> LOWER_METRICS =
            Set.of("cpu-per-GB", "memory-per-conn", "direct-per-conn");
    /** Latency percentiles: p50, p99, p99.9, ... */
    private static final Pattern PERCENTILE = Pattern.compile("p\\d+(\\.\\d+)?");

    final String arrow;

    Direction(String arrow) {
        this.arrow = arrow;
    }

    /** Unknown metrics are neutral: better to claim nothing than to claim a wrong win. */
    static Direction of(String metric) {
        if (HIGHER_METRICS.contains(metric)) {
            return HIGHER;
        }
        if (LOWER_METRICS.contains(metric) || PERCENTILE.matcher(metric).matches()) {
            return LOWER;
        }
        return NEUTRAL;
    }

    /** Whether {@code candidate} is strictly better than {@code reference}; never for neutral metrics. */
    boolean beats(double candidate, double reference) {
        return switch (this) {
            case HIGHER -> candidate > reference;
            case LOWER -> candidate < reference;
            case NEUTRAL -> false;
        };
    }
}
