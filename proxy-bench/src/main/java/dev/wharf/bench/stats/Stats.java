package dev.wharf.bench.stats;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.model.Result;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns the samples of every round into one {@link Result} per (scenario, target, metric, unit). */
public final class Stats {
    private Stats() {
    }

    private record Key(String scenario, String target, String metric, String unit) {
    }

    /**
     * Groups {@code measurements} by (scenario, target, metric, unit), in the order each group is
     * first seen, and summarises each group by its median, min and max; the samples are kept in
     * the order they were measured.
     */
    public static List<Result> aggregate(List<Measurement> measurements) {
        Map<Key, List<Double>> groups = new LinkedHashMap<>();
        for (Measurement m : measurements) {
            groups.computeIfAbsent(new Key(m.scenario(), m.target(), m.metric(), m.unit()), k -> new ArrayList<>())
                    .add(m.value());
        }
        List<Result> results = new ArrayList<>(groups.size());
        groups.forEach((k, samples) -> results.add(new Result(k.scenario(), k.target(), k.metric(), k.unit(),
                median(samples), min(samples), max(samples), samples)));
        return results;
    }

    /** The middle value; for an even count, the mean of the two middle values. NaN for no values. */
    public static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
