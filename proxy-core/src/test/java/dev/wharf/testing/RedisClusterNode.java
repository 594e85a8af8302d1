package dev.wharf.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code redis-server} of a {@link RedisCluster}, cluster mode on, persistence off. {@link #port()} is
 * the client port, kept across {@link #kill()}/{@link #start()}; so is the cluster bus port and the node's
 * {@code nodes.conf}, so a restarted node rejoins the cluster under its old id.
 */
public final class RedisClusterNode extends ChildProcess {

    static final Duration CLI_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private int busPort;
    private boolean served; // once true, busPort is kept across restarts
    private volatile String id;

    /** {@code port} 0 picks free ports (client and bus), which only a placement in the test JVM's namespace can do. */
    RedisClusterNode(String name, Placement placement, int port) {
        super("redis-" + name, placement, port);
        this.name = name;
        // In a namespace of its own every port is free: the bus port sits 10000 above, as Redis' default.
        this.busPort = port == 0 ? 0 : port + 10000;
    }

    /** {@code node1} ... {@code node6}, in start order. */
    public String name() {
        return name;
    }

    /** {@code host:port}, as the cluster reports the node in {@code CLUSTER NODES} and {@code -MOVED} redirects. */
    public String address() {
        return host() + ":" + port();
    }

    /** The cluster bus port (gossip and failover votes). */
    public synchronized int busPort() {
        if (busPort == 0) {
            throw new IllegalStateException(name + " has not been started");
        }
        return busPort;
    }

    /** The node's cluster id ({@code CLUSTER MYID}); read once while it runs, then kept, so also known while it is down. */
    public String id() {
        String known = id;
        if (known == null) {
            known = cli("CLUSTER", "MYID").trim();
            if (!known.matches("[0-9a-f]{40}")) {
                throw new IllegalStateException(name + ": CLUSTER MYID answered \"" + known + "\"");
            }
            id = known;
        }
        return known;
    }

    /**
     * Runs {@code redis-cli -h HOST -p PORT ARGS...} where the node runs (so also inside a namespace the test
     * JVM cannot reach) and returns the reply as redis-cli prints it without a terminal, without the final
     * line break. An error reply is returned, not thrown ({@code ERR ...}, {@code MOVED 1234 host:port}); a
     * failed connection throws.
     */
    public String cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of(findBinary("redis-cli", "redis-tools", List.of()).toString(),
                "-h", host(), "-p", Integer.toString(port())));
        cmd.addAll(List.of(args));
        Placement.Completed done = placement().attempt(cmd, CLI_TIMEOUT);
        if (done.exitCode() != 0) {
            throw new IllegalStateException(name + ": redis-cli " + String.join(" ", args) + " exited with "
                    + done.exitCode() + ": " + done.output().strip());
        }
        return done.output().stripTrailing();
    }

    @Override
    public String toString() {
        try {
            return name + " " + address();
        } catch (IllegalStateException notStarted) {
            return name;
        }
    }

    @Override
    protected synchronized List<String> command(Path dir, int port) {
        if (!served && placement().inTestNamespace()) {
            busPort = LoopbackPorts.free();
        }
        return List.of(
                findBinary("redis-server", "redis-server", List.of()).toString(),
                "--port", Integer.toString(port),
                "--bind", host(),
                "--cluster-enabled", "yes",
                "--cluster-config-file", dir.resolve("nodes.conf").toString(),
                "--cluster-port", Integer.toString(busPort),
                // A dead master is replaced after about this long.
                "--cluster-node-timeout", "5000",
                // Replicas notice a lost master link in ~1 s, not 10 (KNOWN-GOOD: cluster healthy in 5-7 s, not 12-14).
                "--repl-ping-replica-period", "1",
                "--save", "",
                "--appendonly", "no",
                // Clients come from other addresses than the node's own (a proxy's namespace).
                "--protected-mode", "no",
                "--daemonize", "no",
                "--dir", dir.toString());
    }

    @Override
    protected void probe() {
        String pong = cli("PING");
        if (!"PONG".equals(pong)) {
            throw new IllegalStateException("PING answered " + pong);
        }
        synchronized (this) {
            served = true;
        }
    }
}
