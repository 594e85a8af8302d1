package dev.wharf.bench.model;

/**
 * One sample: what {@code scenario} measured against {@code target} in one round, e.g.
 * ("bulk-1-upload", "wharf", "throughput", "Gbit/s", 9.7).
 */
public record Measurement(String scenario, String target, String metric, String unit, double value) {
}
