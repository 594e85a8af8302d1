package dev.wharf.bench.target;

/**
 * A target with no process of its own: every upstream is reached at one port, and there is no
 * CPU or memory to report. For calibrating against a bare upstream, and for tests.
 */
public record PortTarget(String name, int port) implements Target {
    @Override
    public int port(Upstream upstream) {
        return port;
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
