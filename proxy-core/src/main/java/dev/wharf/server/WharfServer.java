package dev.wharf.server;

import dev.wharf.admin.AdminServer;
import dev.wharf.config.ConfigError;
import dev.wharf.config.ConfigException;
import dev.wharf.config.ListenerConfig;
import dev.wharf.config.WharfConfig;
import dev.wharf.metrics.WharfMetrics;
import dev.wharf.relay.CloseReason;
import dev.wharf.config.Protocol;
import dev.wharf.protocol.http.HttpFrontend;
import dev.wharf.protocol.kafka.KafkaCodec;
import dev.wharf.protocol.redis.RedisClusterCodec;
import dev.wharf.relay.ListenerState;
import dev.wharf.relay.SessionCodec;
import dev.wharf.relay.Splicer;
import dev.wharf.upstream.Resolver;
import dev.wharf.upstream.UpstreamPool;
import dev.wharf.upstream.UpstreamWorkers;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running gateway: the event loops, the listeners of the config in force, and the admin
 * server. {@link #apply} moves it from one config to the next touching only what changed, or
 * leaves it exactly as it was.
 */
public final class WharfServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WharfServer.class);

    private final WharfMetrics metrics = new WharfMetrics();
    private final UpstreamWorkers upstreamWorkers;
    private Transport transport;
    private EventLoopGroup relayGroup;
    private EventLoopGroup adminGroup;
    private final ExecutorService drainer = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "wharf-drain");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Listener> listeners = new TreeMap<>();
    /** Listeners removed by a reload whose sessions are still draining; each leaves when done. */
    private final Map<Listener, CompletableFuture<Void>> draining = new ConcurrentHashMap<>();
    private AdminServer admin;
    private volatile Applied current;
    private volatile boolean ready;
    private volatile boolean stopping;

    public WharfServer() {
        this(Resolver.SYSTEM);
    }

    /** A server whose upstream DNS names are looked up by {@code resolver}. */
    public WharfServer(Resolver resolver) {
        upstreamWorkers = new UpstreamWorkers(resolver);
    }

    /** The config in force, with where it came from. */
    public record Applied(WharfConfig config, long generation, String source, Instant appliedAt) {
    }

    /**
     * Starts the event loops {@code initial.runtime()} asks for, then binds the admin server and
     * every listener; fails if any cannot bind.
     */
    public synchronized void start(WharfConfig initial, String source) throws ConfigException {
        start(initial, source, true);
    }

    /**
     * Like {@link #start(WharfConfig, String)}, but with {@code readyNow = false} {@code /readyz}
     * answers 503 until {@link #markReady()}: for a source whose real config arrives later (the
     * Kubernetes one, which must list its ConfigMaps first).
     */
    public synchronized void start(WharfConfig initial, String source, boolean readyNow) throws ConfigException {
        transport = Transport.of(initial.runtime().transport());
        if (transport == Transport.EPOLL) {
            LOG.warn("wharf.runtime.transport = epoll: Netty 4.2.13-4.2.20 can close a half-closed connection while "
                    + "it still has bytes to deliver (the fd is dropped from epoll, the next write fails); prefer auto");
        }
        relayGroup = transport.newGroup(initial.runtime().eventLoopThreads(), "wharf-relay");
        adminGroup = transport.newGroup(1, "wharf-admin");
        admin = new AdminServer(this, metrics);
        admin.bind(adminGroup, transport, initial.admin());
        apply(initial, source);
        ready = readyNow;
        LOG.atInfo().addKeyValue("transport", transport.configName())
                .addKeyValue("event_loops", initial.runtime().eventLoopThreads())
                .addKeyValue("splice", spliceState())
                .addKeyValue("admin", admin.address())
                .log(readyNow ? "wharf ready" : "wharf started; not ready until its config source has synced");
    }

    /** Turns {@code /readyz} to 200 after a {@code start(..., false)}; a no-op when already ready. */
    public void markReady() {
        if (!ready) {
            ready = true;
            LOG.info("wharf ready");
        }
    }

    /** Whether listeners with {@code splice = true} can splice here, and if not, why not. */
    private String spliceState() {
        if (transport != Transport.IO_URING) {
            return "off (needs the io-uring transport)";
        }
        Throwable cause = Splicer.unavailabilityCause();
        return cause == null ? "available" : "off (" + cause.getMessage() + ")";
    }

    /**
     * Puts {@code next} in force. Listeners that did not change keep every session; changed ones
     * take the new settings for new sessions and close sessions that lost access; removed ones
     * stop accepting and drain. Throws, changing nothing, when a listener cannot bind; the caller
     * reports that through {@link #reject}.
     */
    public synchronized void apply(WharfConfig next, String source) throws ConfigException {
        if (stopping) {
            throw new ConfigException("wharf", "shutting down: the update was not applied");
        }
        Map<String, ListenerConfig> wanted = next.listeners();
        List<Listener> retiring = new ArrayList<>();
        Map<String, Listener> binding = new TreeMap<>();
        List<String> changed = new ArrayList<>();
        for (Listener old : listeners.values()) {
            ListenerConfig nextConfig = wanted.get(old.state.name());
            if (nextConfig == null || !nextConfig.sameSocket(old.state.config())) {
                retiring.add(old);
            }
        }
        for (ListenerConfig config : wanted.values()) {
            Listener old = listeners.get(config.name());
            if (old == null || retiring.contains(old)) {
                binding.put(config.name(), newListener(config));
            }
        }
        // A new listener's first sessions must not be refused only because its checks have not answered yet.
        awaitFirstChecks(binding.values().stream().map(l -> l.state.pool()).toList());
        // A retiring listener gives up its socket first, so its port can go to its successor.
        retiring.forEach(Listener::stopAccepting);
        try {
            for (Listener fresh : binding.values()) {
                fresh.bind(relayGroup, transport);
            }
        } catch (ConfigException e) {
            binding.values().forEach(l -> {
                l.stopAccepting();
                l.state.pool().close();
            });
            rebindAfterFailedApply(retiring);
            throw e;
        }
        List<UpstreamPool> updated = new ArrayList<>();
        for (ListenerConfig config : wanted.values()) {
            Listener old = listeners.get(config.name());
            if (old != null && !retiring.contains(old) && !config.equals(old.state.config())) {
                if (!config.upstream().equals(old.state.config().upstream())) {
                    old.state.pool().update(config.upstream());
                    updated.add(old.state.pool());
                }
                old.state.update(config);
                changed.add(config.name());
            }
        }
        awaitFirstChecks(updated);
        for (Listener old : retiring) {
            listeners.remove(old.state.name());
            Duration timeout = old.state.config().drainTimeout();
            CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> old.drain(timeout, CloseReason.DRAIN_TIMEOUT), drainer);
            draining.put(old, drained);
            drained.whenComplete((done, error) -> draining.remove(old, drained));
        }
        listeners.putAll(binding);
        WharfConfig previous = current == null ? null : current.config();
        long generation = current == null ? 1 : current.generation() + 1;
        current = new Applied(next, generation, source, Instant.now());
        metrics.configApplied(generation);
        List<String> added = new ArrayList<>();
        List<String> rebound = new ArrayList<>();
        binding.keySet().forEach(name -> (retiring.stream().anyMatch(r -> r.state.name().equals(name)) ? rebound : added).add(name));
        List<String> removed = retiring.stream().map(r -> r.state.name()).filter(n -> !binding.containsKey(n)).toList();
        LOG.atInfo().addKeyValue("generation", generation).addKeyValue("source", source)
                .addKeyValue("added", added).addKeyValue("rebound", rebound)
                .addKeyValue("removed", removed).addKeyValue("changed", changed)
                .log("config applied");
        if (previous != null && (!next.admin().equals(previous.admin()) || !next.runtime().equals(previous.runtime())
                || !next.kubernetes().equals(previous.kubernetes()))) {
            LOG.warn("wharf.admin, wharf.runtime or wharf.kubernetes changed: they take effect at the next restart");
        }
    }

    private Listener newListener(ListenerConfig config) {
        var listenerMetrics = metrics.listener(config.name());
        UpstreamPool pool = UpstreamPool.create(config.name(), config.upstream(), listenerMetrics, upstreamWorkers);
        ListenerState state = new ListenerState(config, pool, listenerMetrics, transport.channel());
        if (config.protocol() == Protocol.TCP) {
            return new Listener(state, null);
        }
        if (config.protocol() == Protocol.HTTP) {
            // Requests, not bytes: the front-end takes each admitted connection instead of a Session.
            state.frontend(new HttpFrontend());
            return new Listener(state, null);
        }
        NodePorts nodePorts = new NodePorts(state, upstreamWorkers, relayGroup, transport);
        state.codecs(codecs(state, nodePorts));
        return new Listener(state, nodePorts);
    }

    /** What each session of a node-port listener (kafka, redis-cluster) puts in front of the relay. */
    private static Supplier<SessionCodec> codecs(ListenerState state, NodePorts routes) {
        ListenerConfig config = state.config();
        if (config.protocol() == Protocol.KAFKA) {
            return () -> {
                KafkaCodec codec = new KafkaCodec(state.name(), config.kafka().maxFrameSize(), routes, state.metrics());
                return new SessionCodec(codec.requestHandler(), codec.responseHandler());
            };
        }
        return () -> {
            RedisClusterCodec codec = new RedisClusterCodec(state.name(), config.redisCluster().maxReplySize(), routes,
                    state.metrics());
            return new SessionCodec(codec.requestHandler(), codec.responseHandler());
        };
    }

    /** Waits, at most one check timeout, for the first verdict on every endpoint these pools have just gained. */
    private static void awaitFirstChecks(List<UpstreamPool> pools) {
        long longest = pools.stream().mapToLong(p -> p.config().healthCheck().timeout().toNanos()).max().orElse(0);
        long deadline = System.nanoTime() + longest + TimeUnit.MILLISECONDS.toNanos(250);
        pools.forEach(p -> p.awaitFirstChecks(deadline));
    }

    private void rebindAfterFailedApply(List<Listener> retiring) {
        for (Listener old : retiring) {
            try {
                old.bind(relayGroup, transport);
            } catch (ConfigException e) {
                LOG.error("listener {} lost its socket while a failed update was rolled back: {}", old.state.name(),
                        e.getMessage());
            }
        }
    }

    /** Records and logs an update that was not applied; the config in force stays. */
    public void reject(String source, ConfigException e) {
        metrics.configRejected();
        for (ConfigError error : e.errors()) {
            LOG.atError().addKeyValue("source", source).addKeyValue("path", error.path())
                    .log("config rejected: {}", error);
        }
        LOG.warn("config update from {} rejected with {} error(s); generation {} stays in force", source,
                e.errors().size(), current == null ? 0 : current.generation());
    }

    public Applied current() {
        return current;
    }

    public boolean ready() {
        return ready && !stopping;
    }

    public boolean alive() {
        return !relayGroup.isShuttingDown();
    }

    /** The live state of each listener, by name. */
    public synchronized Map<String, ListenerState> listeners() {
        Map<String, ListenerState> view = new TreeMap<>();
        listeners.forEach((name, l) -> view.put(name, l.state));
        return Collections.unmodifiableMap(view);
    }

    /** A node port of a protocol listener, as /upstreams shows it. */
    public record NodePortView(String node, int port, String upstream, boolean configured, int activeSessions) {
    }

    /** The node ports bound now, by listener (protocol listeners only). */
    public synchronized Map<String, List<NodePortView>> nodePorts() {
        Map<String, List<NodePortView>> view = new TreeMap<>();
        listeners.forEach((name, l) -> {
            if (l.nodePorts() != null) {
                view.put(name, l.nodePorts().view().stream().map(p -> new NodePortView(p.node, p.port,
                        p.target().address(), p.pinned, p.sessions())).toList());
            }
        });
        return Collections.unmodifiableMap(view);
    }

    /** The port a listener is bound to. */
    public synchronized int port(String listener) {
        return Objects.requireNonNull(listeners.get(listener), listener).boundPort();
    }

    public WharfMetrics metrics() {
        return metrics;
    }

    public int adminPort() {
        return admin.port();
    }

    /**
     * The graceful stop that SIGTERM asks for: not ready at once, keep accepting for the
     * shutdown delay (so load balancers can withdraw this replica), stop accepting, let sessions
     * drain for up to their listener's drain timeout, then close everything.
     */
    public void shutdownGracefully() {
        Duration delay;
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
            delay = current == null ? Duration.ZERO : current.config().shutdownDelay();
        }
        LOG.info("shutting down: not ready; accepting for {} more, then draining", delay);
        sleep(delay);
        List<CompletableFuture<Void>> waits;
        synchronized (this) {
            listeners.values().forEach(Listener::stopAccepting);
            waits = new ArrayList<>(draining.values());
            for (Listener l : listeners.values()) {
                Duration timeout = l.state.config().drainTimeout();
                waits.add(CompletableFuture.runAsync(() -> l.drain(timeout, CloseReason.SHUTDOWN), drainer));
            }
        }
        CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new)).join();
        close();
    }

    /** Closes everything now. */
    @Override
    public synchronized void close() {
        stopping = true;
        listeners.values().forEach(Listener::stopAccepting);
        listeners.values().forEach(l -> l.closeRemaining(CloseReason.SHUTDOWN));
        draining.keySet().forEach(l -> l.closeRemaining(CloseReason.SHUTDOWN));
        listeners.values().forEach(l -> l.state.pool().close());
        upstreamWorkers.close();
        if (admin != null) {
            admin.close();
        }
        // The groups are null when start() failed before creating them (a transport that does not load).
        for (EventLoopGroup group : new EventLoopGroup[] {relayGroup, adminGroup}) {
            if (group != null) {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            }
        }
        drainer.shutdownNow();
        metrics.close();
        LOG.info("wharf stopped");
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
