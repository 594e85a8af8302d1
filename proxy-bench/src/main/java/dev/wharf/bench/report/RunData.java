package dev.wharf.bench.report;

import dev.wharf.bench.model.Result;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Results indexed by (scenario, target, metric), remembering the order the run produced them in,
 * so the Markdown tables and the charts look values up the same way.
 */
final class RunData {
    static final String DIRECT = "direct";
    static final String HAPROXY = "haproxy";

    /** Baseline first, then the reference proxy; unknown targets follow in the order they appeared. */
    private static final List<String> TARGET_ORDER =
            List.of(DIRECT, "wharf", HAPROXY, "haproxy-splice", "nginx", "socat");

    private record Key(String scenario, String target, String metric) {
    }

    private final Map<Key, Result> byKey = new LinkedHashMap<>();
    private final Map<String, Set<String>> metricsByScenario = new LinkedHashMap<>();
    private final List<String> targets;

    RunData(List<Result> results) {
        Set<String> seenTargets = new LinkedHashSet<>();
        for (Result r : results) {
            byKey.put(new Key(r.scenario(), r.target(), r.metric()), r);
            metricsByScenario.computeIfAbsent(r.scenario(), s -> new LinkedHashSet<>()).add(r.metric());
            seenTargets.add(r.target());
        }
        targets = ordered(seenTargets);
    }

    /** Sorts target names into the canonical order; the sort is stable, so unknowns keep theirs. */
    static List<String> ordered(Collection<String> names) {
        List<String> sorted = new ArrayList<>(names);
        sorted.sort(Comparator.comparingInt(t -> {
            int i = TARGET_ORDER.indexOf(t);
            return i < 0 ? TARGET_ORDER.size() : i;
        }));
        return sorted;
    }

    List<String> scenarios() {
        return List.copyOf(metricsByScenario.keySet());
    }

    List<String> metrics(String scenario) {
        return List.copyOf(metricsByScenario.getOrDefault(scenario, Set.of()));
    }

    /** Every target with at least one result, in canonical order. */
    List<String> targets() {
        return targets;
    }

    Optional<Result> get(String scenario, String target, String metric) {
        return Optional.ofNullable(byKey.get(new Key(scenario, target, metric)));
    }

    /** The median, or NaN when absent, so ratio arithmetic degrades to "no value" instead of failing. */
    double median(String scenario, String target, String metric) {
        return get(scenario, target, metric).map(Result::median).orElse(Double.NaN);
    }
}
