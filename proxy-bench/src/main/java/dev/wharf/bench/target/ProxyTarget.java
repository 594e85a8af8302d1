package dev.wharf.bench.target;

import dev.wharf.bench.proc.ManagedProcess;
import dev.wharf.bench.proc.ProcStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A target that is a proxy running in child processes: one listening port per upstream, CPU and
 * memory summed over its process trees. Subclasses only generate their config and command line.
 */
public abstract class ProxyTarget implements Target {
    /** How long a proxy may take to listen (a JVM with a pre-touched heap takes a second or two). */
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
    private static final int PORT_ATTEMPTS = 3;

    private final String name;
    private final Map<Upstream, Integer> ports;
    private final List<ManagedProcess> processes;
    private double cpuSecondsSeen;

    protected ProxyTarget(String name, Map<Upstream, Integer> ports, List<ManagedProcess> processes) {
        this.name = name;
        this.ports = Map.copyOf(ports);
        this.processes = List.copyOf(processes);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int port(Upstream upstream) {
        Integer port = ports.get(upstream);
        if (port == null) {
            throw new IllegalArgumentException(name + " does not relay to " + upstream + " (it was not started)");
        }
        return port;
    }

    @Override
    public synchronized double cpuSeconds() {
        // CPU time only grows, but a sum over a process tree can dip for an instant: a child that
        // exits leaves the tree before its parent has reaped it into its own children's time.
        cpuSecondsSeen = Math.max(cpuSecondsSeen, usage().cpuSeconds());
        return cpuSecondsSeen;
    }

    @Override
    public long memoryBytes() {
        return ProcStats.pssBytes(pids());
    }

    /** Not reported by this proxy. */
    @Override
    public long directMemoryBytes() {
        return -1;
    }

    /** CPU, memory and number of the proxy's processes right now. */
    public ProcStats.Usage usage() {
        return ProcStats.ofTrees(pids());
    }

    private List<Long> pids() {
        return processes.stream().map(ManagedProcess::pid).toList();
    }

    /** Whether every process of the proxy still runs: a dead proxy makes a run's numbers meaningless. */
    public boolean isAlive() {
        return processes.stream().allMatch(ManagedProcess::isAlive);
    }

    /** The proxy's launched processes (their logs, pids). */
    public List<ManagedProcess> processes() {
        return processes;
    }

    /** Stops every process of the proxy and waits until they and their children are gone. */
    @Override
    public void close() {
        closeAll(processes);
    }

    @Override
    public String toString() {
        return name + " " + ports + " " + processes;
    }

    // ---- for subclasses' launchers

    /**
     * Runs {@code attempt} (which picks fresh ports each time), again if a port it picked was taken
     * before the proxy bound it. Checked exceptions become {@link IllegalStateException}s.
     */
    static <T> T launch(String name, ManagedProcess.Attempt<T> attempt) {
        try {
            return ManagedProcess.retryOnPortClash(PORT_ATTEMPTS, attempt);
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name + ": interrupted while starting", e);
        } catch (Exception e) {
            throw new IllegalStateException(name + " failed to start: " + e, e);
        }
    }

    /** A free listening port for each upstream, in the order of {@link Upstream}. */
    static Map<Upstream, Integer> freePorts(Set<Upstream> upstreams) {
        Map<Upstream, Integer> ports = new EnumMap<>(Upstream.class);
        for (Upstream u : upstreams) {
            int port;
            do {
                port = ManagedProcess.freePort();
            } while (ports.containsValue(port));
            ports.put(u, port);
        }
        return ports;
    }

    /** {@code workDir/name}, created. */
    static Path directory(Path workDir, String name) {
        try {
            return Files.createDirectories(workDir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + workDir.resolve(name), e);
        }
    }

    static Path write(Path file, String text) {
        try {
            return Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** The listener name of an upstream in generated configs: echo, redis, postgres. */
    static String listenerName(Upstream upstream) {
        return upstream.name().toLowerCase(java.util.Locale.ROOT);
    }

    static void closeAll(List<ManagedProcess> processes) {
        RuntimeException first = null;
        for (ManagedProcess p : processes) {
            try {
                p.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
