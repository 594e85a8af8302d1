package dev.wharf.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * How a run is made.
 *
 * @param smoke the CI smoke test: every scenario for about a second, minimal sizes
 */
public record BenchOptions(boolean quick, boolean smoke, Path out, List<String> targets, int rounds, Path wharfJar) {
    public BenchOptions {
        targets = List.copyOf(targets);
    }
}
