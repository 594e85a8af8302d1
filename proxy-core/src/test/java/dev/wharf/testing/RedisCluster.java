package dev.wharf.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A real Redis Cluster for integration tests: six {@link RedisClusterNode}s, three masters with one
 * replica each, made with {@code redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes}.
 *
 * <pre>{@code
 * @RegisterExtension @Order(1) static final NetworkTopology TOPOLOGY = new NetworkTopology();
 * @RegisterExtension @Order(2) static final RedisCluster REDIS = new RedisCluster(TOPOLOGY::upstream);
 * }</pre>
 *
 * <p>At {@link Placement#LOOPBACK} the nodes take free ports on 127.0.0.1; in a namespace of their own
 * (a {@link NetworkTopology}'s {@code upstream()}) node {@code i} listens on {@code 7000+i}, its bus on
 * {@code 17000+i}. Everything this fixture does to the nodes goes through {@code redis-cli} run where they
 * run, so it works where the test JVM cannot reach them. {@link #start()} returns once the cluster is
 * {@link #awaitHealthy healthy}; {@link #close()} kills every node and deletes their directories.
 */
public final class RedisCluster extends ClassScoped {

    public static final int SIZE = 6;
    public static final int SLOTS = 16384;
    /** Node {@code i}'s port in a namespace of its own: {@code FIRST_PORT + i - 1}. */
    public static final int FIRST_PORT = 7001;

    private static final Duration CREATE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(100);

    private final Supplier<Placement> placement;
    private volatile List<RedisClusterNode> nodes = List.of();

    /** On 127.0.0.1. */
    public RedisCluster() {
        this(() -> Placement.LOOPBACK);
    }

    /**
     * At the placement {@code where} supplies when the cluster starts: a topology's namespaces and
     * addresses exist only once it has started, after this field was initialized.
     */
    public RedisCluster(Supplier<Placement> where) {
        this.placement = where;
    }

    // ---- lifecycle ----

    /** Starts the six nodes, creates the cluster and waits until it is healthy. Does nothing if started. */
    @Override
    public synchronized void start() {
        if (!nodes.isEmpty()) {
            return;
        }
        startOrClose(() -> {
            Placement where = placement.get();
            nodes = IntStream.rangeClosed(1, SIZE)
                    .mapToObj(i -> new RedisClusterNode("node" + i, where, where.inTestNamespace() ? 0 : FIRST_PORT + i - 1))
                    .toList();
            for (RedisClusterNode node : nodes) {
                node.start();
            }
            List<String> create = new ArrayList<>(List.of(
                    ChildProcess.findBinary("redis-cli", "redis-tools", List.of()).toString(), "--cluster", "create"));
            nodes.forEach(n -> create.add(n.address()));
            create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
            where.run(create, CREATE_TIMEOUT);
            awaitHealthy(START_TIMEOUT);
        });
    }

    /** Kills every node and deletes their directories. Safe to call twice. */
    @Override
    public synchronized void close() {
        try {
            ChildProcess.closeAll(nodes);
        } finally {
            nodes = List.of();
        }
    }

    // ---- nodes and roles ----

    /** Every node, {@code node1} to {@code node6}, running or not. */
    public List<RedisClusterNode> nodes() {
        List<RedisClusterNode> all = nodes;
        if (all.isEmpty()) {
            throw new IllegalStateException("the Redis cluster has not been started");
        }
        return all;
    }

    /** Every node's {@code host:port}, as the cluster reports them. */
    public List<String> addresses() {
        return nodes().stream().map(RedisClusterNode::address).toList();
    }

    /** The node at {@code address} ({@code host:port}, as in {@code CLUSTER NODES} or a {@code -MOVED} redirect). */
    public RedisClusterNode node(String address) {
        return nodes().stream().filter(n -> n.address().equals(address)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node at " + address + " (expected one of " + addresses() + ")"));
    }

    /**
     * The masters as a running node reports them now (a master flagged {@code fail} is left out), in node
     * order. After a failover or a kill, {@link #awaitHealthy} first: views converge over gossip.
     */
    public List<RedisClusterNode> masters() {
        return view().stream()
                .filter(l -> l.is("master") && !l.is("fail"))
                .map(l -> node(l.address()))
                .sorted(Comparator.comparing(RedisClusterNode::name))
                .toList();
    }

    /** The replica of {@code master} as a running node reports it now; throws if it has none. */
    public RedisClusterNode replicaOf(RedisClusterNode master) {
        String masterId = master.id();
        return view().stream()
                .filter(l -> l.is("slave") && !l.is("fail") && l.masterId().equals(masterId))
                .map(l -> node(l.address()))
                .min(Comparator.comparing(RedisClusterNode::name))
                .orElseThrow(() -> new IllegalStateException("no replica of " + master + " in\n" + clusterNodes()));
    }

    /** The master that serves {@code slot} as a running node reports it now. */
    public RedisClusterNode masterOf(int slot) {
        if (slot < 0 || slot >= SLOTS) {
            throw new IllegalArgumentException("slot: " + slot + " (expected: 0-" + (SLOTS - 1) + ")");
        }
        return view().stream()
                .filter(l -> l.is("master") && l.serves(slot))
                .map(l -> node(l.address()))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no master serves slot " + slot + " in\n" + clusterNodes()));
    }

    /** {@code CLUSTER NODES} as the first running node reports it. */
    public String clusterNodes() {
        return firstRunning().cli("CLUSTER", "NODES");
    }

    // ---- commands and faults ----

    /** {@code redis-cli} on {@code node}; see {@link RedisClusterNode#cli}. */
    public String cli(RedisClusterNode node, String... args) {
        return node.cli(args);
    }

    /** {@code kill -9} of {@code node}: it stops at once, and the cluster notices after the node timeout (5 s). */
    public void kill(RedisClusterNode node) {
        node.kill();
    }

    /** Starts a killed or stopped node again (same ports, same id) and waits until the cluster is healthy. */
    public void restart(RedisClusterNode node) {
        node.start();
        awaitHealthy(START_TIMEOUT);
    }

    /**
     * Waits until every running node reports {@code cluster_state:ok} with all 16384 slots ok and all six
     * nodes known, every running replica's link to its master is up, every slot's master is a running
     * node, and all running nodes agree on which master serves which slots.
     */
    public void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String problem;
            try {
                problem = problem();
            } catch (IllegalStateException e) {
                problem = e.getMessage();
            }
            if (problem == null) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Redis cluster not healthy within " + timeout + ": " + problem + diagnostics());
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    // ---- internals ----

    /** Why the cluster is not healthy, or null if it is. */
    private String problem() {
        List<RedisClusterNode> running = nodes().stream().filter(ChildProcess::isRunning).toList();
        Map<String, String> slotMaps = new TreeMap<>();
        for (RedisClusterNode n : running) {
            String info = n.cli("CLUSTER", "INFO");
            for (String expected : List.of("cluster_state:ok", "cluster_slots_ok:" + SLOTS, "cluster_known_nodes:" + SIZE)) {
                if (info.lines().noneMatch(expected::equals)) {
                    return n + ": CLUSTER INFO has no " + expected;
                }
            }
            List<NodeLine> view = NodeLine.parse(n.cli("CLUSTER", "NODES"));
            NodeLine me = view.stream().filter(l -> l.is("myself")).findFirst()
                    .orElseThrow(() -> new IllegalStateException(n + ": CLUSTER NODES has no myself line"));
            if (me.is("slave") && n.cli("INFO", "replication").lines().noneMatch("master_link_status:up"::equals)) {
                return n + ": replica whose master link is not up";
            }
            for (NodeLine owner : view) {
                if (owner.is("master") && !owner.slots().isEmpty() && !node(owner.address()).isRunning()) {
                    return n + " sees " + owner.address() + ", which is down, still serving slots " + owner.slots();
                }
            }
            slotMaps.put(n.name(), view.stream()
                    .filter(l -> l.is("master") && !l.slots().isEmpty())
                    .sorted(Comparator.comparing(NodeLine::address))
                    .map(l -> l.address() + " " + l.slots())
                    .collect(Collectors.joining(", ")));
        }
        if (Set.copyOf(slotMaps.values()).size() > 1) {
            return "the nodes disagree on the masters' slots: " + slotMaps;
        }
        return null;
    }

    private List<NodeLine> view() {
        return NodeLine.parse(clusterNodes());
    }

    private RedisClusterNode firstRunning() {
        return nodes().stream().filter(ChildProcess::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("no node of the Redis cluster is running"));
    }

    private String diagnostics() {
        StringBuilder sb = new StringBuilder();
        for (RedisClusterNode n : nodes) {
            sb.append("\n--- ").append(n).append(n.isRunning() ? "" : " (down)");
        }
        Optional<RedisClusterNode> any = nodes.stream().filter(ChildProcess::isRunning).findFirst();
        if (any.isPresent()) {
            try {
                sb.append("\n--- CLUSTER NODES from ").append(any.get().name()).append(" ---\n").append(any.get().cli("CLUSTER", "NODES"));
            } catch (RuntimeException e) {
                sb.append("\n(CLUSTER NODES failed: ").append(e.getMessage()).append(')');
            }
        }
        return sb.toString();
    }

    /**
     * One line of {@code CLUSTER NODES}: {@code id host:port@bus[,hostname] flags master-id ping pong epoch
     * link-state slot...}; slot tokens are single slots or ranges, {@code [...]} tokens (migrations) are skipped.
     */
    private record NodeLine(String id, String address, Set<String> flags, String masterId, List<String> slots) {

        static List<NodeLine> parse(String clusterNodes) {
            return clusterNodes.lines().map(String::trim).filter(l -> !l.isEmpty()).map(NodeLine::parseLine).toList();
        }

        static NodeLine parseLine(String line) {
            String[] f = line.split(" ");
            if (f.length < 8) {
                throw new IllegalStateException("not a CLUSTER NODES line: \"" + line + "\"");
            }
            String address = f[1].split("[@,]")[0];
            List<String> slots = Arrays.stream(f, 8, f.length).filter(s -> !s.startsWith("[")).toList();
            return new NodeLine(f[0], address, Set.of(f[2].split(",")), f[3], slots);
        }

        boolean is(String flag) {
            return flags.contains(flag);
        }

        boolean serves(int slot) {
            for (String s : slots) {
                int dash = s.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? s : s.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(s.substring(dash + 1));
                if (slot >= from && slot <= to) {
                    return true;
                }
            }
            return false;
        }
    }
}
