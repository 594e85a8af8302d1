package dev.wharf.bench.target;

import java.util.function.ToIntFunction;

/**
 * A target with no process of its own, so no CPU or memory to report: the direct connection to
 * the upstreams (the baseline every proxy is compared to), or, for calibration and tests, a
 * single port that stands for every upstream.
 */
public record PortTarget(String name, ToIntFunction<Upstream> ports) implements Target {
    public static final String DIRECT = "direct";

    /** Every upstream at {@code port}. */
    public PortTarget(String name, int port) {
        this(name, upstream -> port);
    }

    /** Straight to the upstreams; nothing to stop, they belong to whoever started them. */
    public static PortTarget direct(Upstreams upstreams) {
        return new PortTarget(DIRECT, upstreams::port);
    }

    @Override
    public int port(Upstream upstream) {
        return ports.applyAsInt(upstream);
    }

    @Override
    public double cpuSeconds() {
        return 0;
    }

    @Override
    public long memoryBytes() {
        return 0;
    }

    @Override
    public long directMemoryBytes() {
        return -1;
    }

    @Override
    public void close() {
    }
}
