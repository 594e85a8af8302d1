package dev.wharf.bench.target;

/**
 * Something a scenario connects to: a direct connection to the upstreams, or a proxy process
 * relaying to them, one listening port per {@link Upstream}, all on 127.0.0.1.
 */
public interface Target extends AutoCloseable {
    /** Short, stable name used in results: direct, wharf, haproxy, haproxy-splice, nginx, socat. */
    String name();

    /** The port on 127.0.0.1 that reaches {@code upstream} through this target. */
    int port(Upstream upstream);

    /**
     * CPU seconds (user + system, including reaped children) the proxy has used so far; 0 for
     * the direct target.
     */
    double cpuSeconds();

    /**
     * Memory of the proxy's process tree in bytes, as proportional set size (PSS): a page shared
     * by several processes counts once in all, so forking proxies (socat) are not overstated; 0
     * for the direct target.
     */
    long memoryBytes();

    /**
     * The proxy's direct (off-heap) buffer memory in bytes where it reports it (Wharf's
     * {@code netty_allocator_memory_used{memory_type="direct"}}), else -1.
     */
    long directMemoryBytes();

    @Override
    void close();
}
