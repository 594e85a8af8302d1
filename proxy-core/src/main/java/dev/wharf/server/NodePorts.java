package dev.wharf.server;

import dev.wharf.config.ConfigException;
import dev.wharf.config.Endpoint;
import dev.wharf.config.KafkaSettings;
import dev.wharf.config.RedisClusterSettings;
import dev.wharf.protocol.NodeRoutes;
import dev.wharf.protocol.ProxyAddress;
import dev.wharf.protocol.kafka.KafkaMetadataProbe;
import dev.wharf.relay.ListenerState;
import dev.wharf.upstream.EndpointState;
import dev.wharf.upstream.UpstreamPool;
import dev.wharf.upstream.UpstreamWorkers;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node ports of a protocol listener: one proxy port per upstream node (a Kafka broker, a
 * Redis Cluster node), each relaying to that node only, with the listener's allow list, limits
 * and protocol mode. Which port a node gets follows from the config alone (broker-port-base +
 * node id; the node-ports map), so every replica given the same config hands out the same
 * addresses; only redis-cluster's dynamic-ports depend on the order nodes are met.
 *
 * <p>A port is bound before {@link #route} reports it, so no client is ever told an address that
 * is not served yet. Kafka brokers are also found ahead of clients: every metadata-refresh Wharf
 * asks the cluster for its brokers. Ports of nodes that have not been seen for release-after are
 * released (configured node-ports never are); their open sessions go on.
 *
 * <p>Binding blocks, so it runs on the upstream worker threads, never on an event loop.
 */
final class NodePorts implements NodeRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(NodePorts.class);
    private static final Duration LONGEST_SWEEP = Duration.ofSeconds(30);

    /** One bound node port; {@code pinned} for a configured one, which is never released. */
    static final class NodePort {
        final String node;
        final int port;
        final UpstreamPool pool;
        final Channel socket;
        final boolean pinned;
        /** When a reply or the metadata refresh last named the node (System.nanoTime). */
        private volatile long lastSeen = System.nanoTime();

        NodePort(String node, int port, UpstreamPool pool, Channel socket, boolean pinned) {
            this.node = node;
            this.port = port;
            this.pool = pool;
            this.socket = socket;
            this.pinned = pinned;
        }

        Endpoint target() {
            return pool.config().endpoints().get(0);
        }

        void seen() {
            lastSeen = System.nanoTime();
        }

        int sessions() {
            return pool.endpoints().stream().mapToInt(EndpointState::active).sum();
        }
    }

    private final ListenerState listener;
    private final UpstreamWorkers workers;
    private final EventLoopGroup group;
    private final Transport transport;
    private final Map<String, NodePort> ports = new ConcurrentHashMap<>();
    private final List<ScheduledFuture<?>> tasks = new ArrayList<>();
    /** When the last metadata refresh answered (System.nanoTime), 0 before the first: Kafka only. */
    private volatile long lastRefreshNanos;
    private volatile boolean running;

    /** The listener's protocol section, fixed for these ports' life (a change rebinds the listener): one of them is null. */
    private final KafkaSettings kafka;
    private final RedisClusterSettings redis;
    private final String advertisedHost;
    private final Duration releaseAfter;

    NodePorts(ListenerState listener, UpstreamWorkers workers, EventLoopGroup group, Transport transport) {
        this.listener = listener;
        this.workers = workers;
        this.group = group;
        this.transport = transport;
        this.kafka = listener.config().kafka();
        this.redis = listener.config().redisCluster();
        this.advertisedHost = kafka != null ? kafka.advertisedHost() : redis.advertisedHost();
        this.releaseAfter = kafka != null ? kafka.releaseAfter() : redis.releaseAfter();
    }

    /**
     * Binds the configured node ports and starts the metadata refresh and the release sweep.
     * Blocks; throws when a configured port cannot be bound (nothing stays bound then).
     */
    synchronized void start() throws ConfigException {
        running = true;
        if (redis != null) {
            for (Map.Entry<Endpoint, Integer> entry : redis.nodePorts().entrySet()) {
                String node = entry.getKey().address();
                try {
                    bind(node, entry.getKey(), entry.getValue(), true,
                            "wharf.listeners." + listener.name() + ".redis-cluster.node-ports.\"" + node + "\"");
                } catch (ConfigException e) {
                    stop();
                    throw e;
                }
            }
        }
        if (kafka != null) {
            tasks.add(workers.every(this::refreshKafkaBrokers, kafka.metadataRefresh()));
        }
        Duration sweep = releaseAfter.compareTo(LONGEST_SWEEP) < 0 ? releaseAfter : LONGEST_SWEEP;
        tasks.add(workers.every(this::releaseAbsentNodes, sweep.isZero() ? Duration.ofSeconds(1) : sweep));
    }

    /** Unbinds every node port and stops the refresh; sessions go on. Blocks. */
    synchronized void stop() {
        running = false;
        tasks.forEach(t -> t.cancel(false));
        tasks.clear();
        ports.values().forEach(this::release);
        ports.clear();
    }

    /** The node ports bound now, by port. */
    List<NodePort> view() {
        return ports.values().stream().sorted(Comparator.comparingInt((NodePort p) -> p.port)).toList();
    }

    @Override
    public CompletableFuture<ProxyAddress> route(String node, String host, int port) {
        NodePort bound = ports.get(node);
        if (bound != null && bound.target().host().equals(host) && bound.target().port() == port) {
            bound.seen();
            return CompletableFuture.completedFuture(advertised(bound.port));
        }
        // NodeRoutes' promise, kept here rather than by every caller: never an exceptional completion.
        try {
            return CompletableFuture.supplyAsync(() -> ensure(node, host, port), workers.executor())
                    .exceptionally(e -> unrouted(node, e));
        } catch (RuntimeException rejected) { // the workers are shutting down
            return CompletableFuture.completedFuture(unrouted(node, rejected));
        }
    }

    private ProxyAddress unrouted(String node, Throwable cause) {
        LOG.atError().addKeyValue("listener", listener.name()).addKeyValue("node", node)
                .log("cannot route node {}; clients are told its own address", node, cause);
        return null;
    }

    private ProxyAddress advertised(int port) {
        return new ProxyAddress(advertisedHost, port);
    }

    /** Binds (or re-points) the node's port; null when it has none. Runs on a worker thread. */
    private synchronized ProxyAddress ensure(String node, String host, int port) {
        if (!running) {
            return null;
        }
        Endpoint target;
        try {
            target = new Endpoint(host, port, 0);
        } catch (IllegalArgumentException e) {
            LOG.warn("listener {}: node {} has an unusable address {}:{} ({}); its address is passed on as it is",
                    listener.name(), node, host, port, e.getMessage());
            return null;
        }
        NodePort bound = ports.get(node);
        if (bound != null) {
            if (!bound.target().equals(target)) {
                LOG.atInfo().addKeyValue("listener", listener.name()).addKeyValue("node", node)
                        .log("node {} moved from {} to {}; proxy port {} follows it", node, bound.target(), target,
                                bound.port);
                bound.pool.moveNode(target);
            }
            bound.seen();
            return advertised(bound.port);
        }
        int nodePort = portFor(node);
        if (nodePort < 0) {
            return null;
        }
        try {
            return advertised(bind(node, target, nodePort, false, "wharf.listeners." + listener.name()).port);
        } catch (ConfigException e) {
            LOG.atError().addKeyValue("listener", listener.name()).addKeyValue("node", node)
                    .log("cannot bind the proxy port of node {} ({}): {}; clients are told its own address",
                            node, target, e.errors().get(0).message());
            return null;
        }
    }

    /** The port the config gives {@code node}, or -1 (logged) when it gives none. */
    private int portFor(String node) {
        if (kafka != null) {
            int id = Integer.parseInt(node);
            int port = kafka.portOf(id);
            if (port < 0) {
                LOG.error("listener {}: broker {} is above kafka.max-node-id ({}), so it has no proxy port and clients"
                        + " are told its own address; raise max-node-id", listener.name(), id, kafka.maxNodeId());
            }
            return port;
        }
        RedisClusterSettings.PortRange range = redis.dynamicPorts();
        if (range != null) {
            for (int port = range.first(); port <= range.last(); port++) {
                int candidate = port;
                if (ports.values().stream().noneMatch(p -> p.port == candidate)) {
                    LOG.warn("listener {}: node {} is not in redis-cluster.node-ports; it gets dynamic port {}, which"
                            + " another replica may give another node: add it to node-ports", listener.name(), node, port);
                    return port;
                }
            }
        }
        LOG.error("listener {}: node {} is not in redis-cluster.node-ports{}, so clients are told its own address;"
                + " add it to node-ports", listener.name(), node, range == null ? "" : " and dynamic-ports " + range + " are all taken");
        return -1;
    }

    /** Binds {@code port} for {@code node}; {@code path} names the setting that asked for it, in the error. */
    private NodePort bind(String node, Endpoint target, int port, boolean pinned, String path) throws ConfigException {
        UpstreamPool pool = UpstreamPool.forNode(listener.name(), target, listener.config().upstream(), listener.metrics(), workers);
        Channel socket;
        try {
            socket = Listener.bindSocket(listener.forNode(pool), port, path, group, transport);
        } catch (ConfigException e) {
            pool.close();
            throw e;
        }
        NodePort bound = new NodePort(node, port, pool, socket, pinned);
        ports.put(node, bound);
        LOG.atInfo().addKeyValue("listener", listener.name()).addKeyValue("node", node).addKeyValue("port", port)
                .log("node port {} bound for node {} at {}", port, node, target);
        return bound;
    }

    private void release(NodePort port) {
        port.socket.close().awaitUninterruptibly();
        port.pool.close();
    }

    /** Asks the cluster for its brokers through the listener's upstream, and routes each one. */
    private void refreshKafkaBrokers() {
        Duration timeout = listener.config().connectTimeout();
        for (EndpointState candidate : listener.pool().candidates()) {
            try {
                List<KafkaMetadataProbe.Broker> brokers = KafkaMetadataProbe.brokers(candidate.resolved(), timeout);
                brokers.forEach(b -> ensure(String.valueOf(b.nodeId()), b.host(), b.port()));
                lastRefreshNanos = System.nanoTime();
                return;
            } catch (Exception e) {
                LOG.atWarn().addKeyValue("listener", listener.name()).addKeyValue("upstream", candidate.id())
                        .log("kafka metadata refresh through {} failed: {}", candidate.id(), e.getMessage());
            }
        }
    }

    /**
     * Releases ports of nodes not seen for release-after. For Kafka, only once a refresh has
     * answered since then: a cluster that cannot be reached is not a cluster without brokers.
     */
    private synchronized void releaseAbsentNodes() {
        long releaseAfterNanos = releaseAfter.toNanos();
        long reference = kafka != null ? lastRefreshNanos : System.nanoTime();
        if (!running || reference == 0) {
            return;
        }
        for (NodePort port : List.copyOf(ports.values())) {
            if (!port.pinned && reference - port.lastSeen > releaseAfterNanos) {
                ports.remove(port.node);
                release(port);
                LOG.atInfo().addKeyValue("listener", listener.name()).addKeyValue("node", port.node)
                        .addKeyValue("port", port.port)
                        .log("node {} not seen for {}: proxy port {} released ({} open session(s) go on)", port.node,
                                releaseAfter, port.port, port.sessions());
            }
        }
    }
}
