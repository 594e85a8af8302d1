package dev.wharf.bench.model;

import java.util.List;

/** All rounds' samples of one (scenario, target, metric), with their median and range. */
public record Result(String scenario, String target, String metric, String unit,
                     double median, double min, double max, List<Double> samples) {
    public Result {
        samples = List.copyOf(samples);
    }
}
