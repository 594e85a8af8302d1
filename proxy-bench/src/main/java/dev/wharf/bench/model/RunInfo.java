package dev.wharf.bench.model;

import java.time.Instant;
import java.util.List;

/** Where and how a run was made, printed with its results so numbers are never quoted bare. */
public record RunInfo(Instant started, String machine, int cpus, String kernel, String java,
                      boolean quick, int rounds, List<String> targets, List<String> notes) {
    public RunInfo {
        targets = List.copyOf(targets);
        notes = List.copyOf(notes);
    }
}
