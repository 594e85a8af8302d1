package dev.wharf.bench.scenario;

import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.Map;

/**
 * What every scenario may use in a run.
 *
 * @param measureFor   how long one scenario measures against one target (after its warm-up)
 * @param warmUp       how long it runs first without recording
 * @param quick        the short run (--quick) or the CI smoke test: scenarios scale their sizes down
 * @param smoke        the CI smoke test: each scenario runs about a second, sizes minimal
 * @param group        the load generator's event loops (shared, created once per run)
 * @param openLoopRate for each open-loop message size in bytes, the request rate (req/s) to offer:
 *                     50% of what the direct connection reached in the calibration
 */
public record RunContext(Duration measureFor, Duration warmUp, boolean quick, boolean smoke,
                         EventLoopGroup group, Map<Integer, Double> openLoopRate) {
    public RunContext {
        openLoopRate = Map.copyOf(openLoopRate);
    }
}
