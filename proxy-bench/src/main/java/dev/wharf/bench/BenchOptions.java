package dev.wharf.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * How a run is made.
 *
 * @param smoke      the CI smoke test: every scenario for about a second, minimal sizes
 * @param scenarios  the scenario names to run (as {@code Scenario.name()}); empty for all
 * @param wharfConf  HOCON appended to the config Wharf is run with (to measure a setting)
 */
public record BenchOptions(boolean quick, boolean smoke, Path out, List<String> targets, List<String> scenarios,
                           int rounds, Path wharfJar, String wharfConf) {
    public BenchOptions {
        targets = List.copyOf(targets);
        scenarios = List.copyOf(scenarios);
    }
}
