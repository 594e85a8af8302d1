package dev.wharf.bench.target;

/** No proxy: scenarios connect straight to the upstreams. The baseline every proxy is compared to. */
public final class DirectTarget implements Target {
    public static final String NAME = "direct";

    private final Upstreams upstreams;

    public DirectTarget(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int port(Upstream upstream) {
        return upstreams.port(upstream);
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

    /** Nothing to stop: the upstreams belong to whoever started them. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return NAME;
    }
}
