package dev.wharf.bench.scenario;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.target.Target;
import java.util.List;

/**
 * One kind of load, run against one target for one round. It returns every metric it measured,
 * with {@link Measurement#scenario()} set to {@link #name()} (or a name derived from it, such as
 * "bulk-8-download") and {@link Measurement#target()} set to {@code target.name()}.
 */
public interface Scenario {
    /** Short stable name, e.g. "bulk", "rr-closed", "rr-open", "conn-rate", "idle", "redis-benchmark". */
    String name();

    List<Measurement> run(Target target, RunContext context) throws Exception;
}
