package dev.wharf.bench.load;

import dev.wharf.bench.scenario.RunContext;

/** How many connections (or workers) a scenario runs: one number for real runs, one for the smoke test. */
record ConnectionCount(int full, int smoke) {
    ConnectionCount {
        if (full < 1 || smoke < 1) {
            throw new IllegalArgumentException("connections must be positive: " + full + ", " + smoke);
        }
    }

    int in(RunContext context) {
        return context.smoke() ? smoke : full;
    }
}
