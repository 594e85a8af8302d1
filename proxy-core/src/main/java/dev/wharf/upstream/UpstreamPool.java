package dev.wharf.upstream;

import dev.wharf.config.Balance;
import dev.wharf.config.Endpoint;
import dev.wharf.config.HealthCheck;
import dev.wharf.config.OnUnhealthy;
import dev.wharf.config.UpstreamConfig;
import dev.wharf.metrics.ListenerMetrics;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener's upstream endpoints, kept for the listener's whole life: the members that DNS names
 * resolve to, their active health checks, passive ejection, and the balancing rule that orders
 * them for a new session. A reload hands it a new {@link UpstreamConfig} through {@link #update};
 * members whose address stays keep their state.
 */
public final class UpstreamPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamPool.class);
    /** Connect attempts per session, each on a different endpoint. */
    static final int MAX_ATTEMPTS = 3;

    private final String listener;
    private final ListenerMetrics metrics;
    private final UpstreamWorkers workers;
    private final AtomicInteger next = new AtomicInteger();
    private volatile UpstreamConfig config;
    private volatile List<EndpointState> members = List.of();
    // Guarded by this: the last addresses each DNS name resolved to, and why the last lookup failed.
    private final Map<String, List<InetAddress>> resolvedNames = new HashMap<>();
    private final Map<String, String> resolveErrors = new HashMap<>();
    private final Map<EndpointState, Checker> checkers = new HashMap<>();
    private ScheduledFuture<?> nextResolve;
    private boolean closed;
    /** Whether members export wharf_upstream_healthy (a node port's one-node pool does not: its node may be a listed endpoint too). */
    private final boolean gauges;

    private UpstreamPool(String listener, ListenerMetrics metrics, UpstreamWorkers workers, boolean gauges) {
        this.listener = listener;
        this.metrics = metrics;
        this.workers = workers;
        this.gauges = gauges;
    }

    /**
     * Builds the pool and starts its checks. Resolves DNS names, so call it off the event loops.
     */
    public static UpstreamPool create(String listener, UpstreamConfig config, ListenerMetrics metrics,
                                      UpstreamWorkers workers) {
        UpstreamPool pool = new UpstreamPool(listener, metrics, workers, true);
        pool.update(config);
        return pool;
    }

    /**
     * The pool behind one node port of a protocol listener: {@code node} only, no active check,
     * no ejection (a session for that node has nowhere else to go), no health gauge. Off the event loops.
     */
    public static UpstreamPool forNode(String listener, Endpoint node, UpstreamConfig listenerUpstream,
                                       ListenerMetrics metrics, UpstreamWorkers workers) {
        UpstreamPool pool = new UpstreamPool(listener, metrics, workers, false);
        pool.update(nodeConfig(node, listenerUpstream));
        return pool;
    }

    /** Points a node port's pool at the node's new address (a broker that moved). Off the event loops. */
    public void moveNode(Endpoint node) {
        update(nodeConfig(node, config));
    }

    private static UpstreamConfig nodeConfig(Endpoint node, UpstreamConfig base) {
        return new UpstreamConfig(List.of(node), Balance.FIRST_HEALTHY, base.healthCheck().withType(HealthCheck.Type.NONE),
                OnUnhealthy.KEEP, 0, base.ejectFor(), base.resolveInterval());
    }

    /**
     * Puts a new upstream table in force: members it keeps keep their state and sessions, new ones
     * start unchecked (no sessions until their first check answers) when there is an active check.
     * A changed check restarts every member's checks. Resolves new DNS names, so call it off the
     * event loops.
     */
    public synchronized void update(UpstreamConfig next) {
        if (closed) {
            return;
        }
        UpstreamConfig previous = config;
        config = next;
        List<String> names = names();
        names.stream().filter(name -> !resolvedNames.containsKey(name)).forEach(this::resolve);
        // Names the table no longer has are forgotten, with their errors.
        resolvedNames.keySet().retainAll(names);
        resolveErrors.keySet().retainAll(names);
        rebuild(previous == null || !previous.healthCheck().equals(next.healthCheck()));
        boolean intervalChanged = previous != null && !previous.resolveInterval().equals(next.resolveInterval());
        if (nextResolve == null || intervalChanged) {
            scheduleResolve();
        }
    }

    /** The DNS names among the endpoints, each once. */
    private List<String> names() {
        return config.endpoints().stream().filter(UpstreamPool::isName).map(Endpoint::host).distinct().toList();
    }

    private static boolean isName(Endpoint endpoint) {
        return !NetUtil.isValidIpV4Address(endpoint.host()) && !NetUtil.isValidIpV6Address(endpoint.host());
    }

    /** Looks {@code host} up; a failure keeps the addresses it had. Returns whether they changed. */
    private boolean resolve(String host) {
        List<InetAddress> addresses;
        try {
            addresses = workers.resolver().resolve(host).stream().distinct()
                    .sorted(Comparator.comparing(a -> Arrays.toString(a.getAddress()))).toList();
            if (addresses.isEmpty()) {
                throw new UnknownHostException(host + ": no addresses");
            }
        } catch (UnknownHostException | RuntimeException e) {
            String error = e instanceof UnknownHostException ? "does not resolve" : e.toString();
            if (!error.equals(resolveErrors.put(host, error))) {
                LOG.atWarn().addKeyValue("listener", listener).addKeyValue("host", host)
                        .log("cannot resolve {}: {}; keeping its addresses {}", host, error,
                                resolvedNames.getOrDefault(host, List.of()));
            }
            resolvedNames.putIfAbsent(host, List.of());
            return false;
        }
        resolveErrors.remove(host);
        List<InetAddress> old = resolvedNames.put(host, addresses);
        if (old != null && !old.equals(addresses)) {
            LOG.atInfo().addKeyValue("listener", listener).addKeyValue("host", host)
                    .log("{} now resolves to {} (was {})", host, addresses, old);
        }
        return old == null || !old.equals(addresses);
    }

    /** Re-resolves the names every resolve-interval; a table without names needs no lookups. */
    private void scheduleResolve() {
        if (nextResolve != null) {
            nextResolve.cancel(false);
        }
        nextResolve = names().isEmpty() ? null : workers.later(this::resolveAll, config.resolveInterval().toNanos());
    }

    private synchronized void resolveAll() {
        if (closed) {
            return;
        }
        boolean changed = false;
        for (String name : names()) {
            changed |= resolve(name);
        }
        if (changed) {
            rebuild(false);
        }
        scheduleResolve();
    }

    /** Makes {@link #members} match the config and the resolved names. */
    private void rebuild(boolean checkChanged) {
        HealthCheck check = config.healthCheck();
        boolean active = check.type() != HealthCheck.Type.NONE;
        Map<String, EndpointState> old = new LinkedHashMap<>();
        members.forEach(m -> old.put(m.id(), m));
        List<EndpointState> fresh = new ArrayList<>();
        for (Endpoint endpoint : config.endpoints()) {
            for (Map.Entry<String, InetSocketAddress> address : addresses(endpoint).entrySet()) {
                EndpointState member = old.remove(address.getKey());
                if (member == null) {
                    member = new EndpointState(endpoint, address.getValue(), address.getKey(),
                            active ? EndpointState.Health.UNKNOWN : EndpointState.Health.UP);
                    if (gauges) {
                        member.healthGauge = metrics.endpointHealth(member.id(), member::routable);
                    }
                    startChecks(member);
                } else if (checkChanged || !member.endpoint().equals(endpoint)) {
                    // A new check, or a new check-port for the same address.
                    member.endpoint(endpoint);
                    stopChecks(member);
                    if (active) {
                        startChecks(member);
                    } else {
                        member.unchecked();
                    }
                }
                fresh.add(member);
            }
        }
        old.values().forEach(m -> {
            stopChecks(m);
            m.retire();
        });
        members = List.copyOf(fresh);
    }

    /** The member ids and addresses of one configured endpoint; one placeholder while its name has no address yet. */
    private Map<String, InetSocketAddress> addresses(Endpoint endpoint) {
        Map<String, InetSocketAddress> out = new LinkedHashMap<>();
        if (!isName(endpoint)) {
            out.put(endpoint.address(), new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(endpoint.host()),
                    endpoint.port()));
            return out;
        }
        List<InetAddress> addresses = resolvedNames.getOrDefault(endpoint.host(), List.of());
        if (addresses.isEmpty()) {
            out.put(endpoint.address(), null);
        }
        for (InetAddress address : addresses) {
            out.put(endpoint.address() + "/" + address.getHostAddress(), new InetSocketAddress(address, endpoint.port()));
        }
        return out;
    }

    // ---- active checks

    private void startChecks(EndpointState member) {
        if (config.healthCheck().type() == HealthCheck.Type.NONE || member.resolved() == null) {
            return;
        }
        member.checkStarted();
        Checker checker = new Checker(member, config.healthCheck());
        checkers.put(member, checker);
        checker.schedule(0);
    }

    private void stopChecks(EndpointState member) {
        Checker checker = checkers.remove(member);
        if (checker != null) {
            checker.stop();
        }
    }

    /** One member's checks with one check config: each runs after the previous one has finished. */
    private final class Checker implements Runnable {
        private final EndpointState member;
        private final HealthCheck check;
        private final InetSocketAddress target;
        private volatile boolean stopped;
        private ScheduledFuture<?> scheduled;

        Checker(EndpointState member, HealthCheck check) {
            this.member = member;
            this.check = check;
            Endpoint endpoint = member.endpoint();
            int port = endpoint.checkPort() != 0 ? endpoint.checkPort() : check.port() != 0 ? check.port() : endpoint.port();
            this.target = new InetSocketAddress(member.resolved().getAddress(), port);
        }

        synchronized void schedule(long delayNanos) {
            if (!stopped) {
                scheduled = workers.later(this, delayNanos);
            }
        }

        synchronized void stop() {
            stopped = true;
            if (scheduled != null) {
                scheduled.cancel(false);
            }
        }

        @Override
        public void run() {
            if (stopped) {
                return;
            }
            long start = System.nanoTime();
            String failure = null;
            try {
                Probes.run(check, target, member.endpoint().host());
            } catch (Probes.CheckFailed e) {
                failure = e.getMessage();
            } catch (Exception e) {
                failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            }
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (failure == null && tookMillis > check.timeout().toMillis()) {
                failure = "took " + tookMillis + " ms, more than the " + check.timeout().toMillis() + " ms timeout";
            }
            if (stopped) {
                return;
            }
            String outcome = failure == null ? "passed in " + tookMillis + " ms" : failure;
            metrics.healthCheck(failure == null);
            EndpointState.Health changed = member.record(failure == null, outcome, check.rise(), check.fall());
            if (changed != null) {
                healthChanged(member, changed, outcome);
            }
            long jitter = check.jitter().isZero() ? 0 : ThreadLocalRandom.current().nextLong(check.jitter().toNanos() + 1);
            schedule(check.interval(member.health() == EndpointState.Health.UP).toNanos() + jitter);
        }
    }

    private void healthChanged(EndpointState member, EndpointState.Health health, String outcome) {
        boolean close = health == EndpointState.Health.DOWN && config.onUnhealthy() == OnUnhealthy.CLOSE_SESSIONS;
        var log = health == EndpointState.Health.UP ? LOG.atInfo() : LOG.atWarn();
        log.addKeyValue("listener", listener).addKeyValue("upstream", member.id())
                .addKeyValue("check", outcome).addKeyValue("sessions", member.active())
                .log("upstream {} is {}{}", member.id(), health == EndpointState.Health.UP ? "up" : "down",
                        close && member.active() > 0 ? "; closing its sessions" : "");
        if (close) {
            member.closeSessions();
        }
    }

    /** Waits until every checked member has its first verdict, or until {@code deadlineNanos} (a System.nanoTime). */
    public void awaitFirstChecks(long deadlineNanos) {
        while (members.stream().anyMatch(EndpointState::awaitingFirstResult)
                && System.nanoTime() - deadlineNanos < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ---- sessions

    public UpstreamConfig config() {
        return config;
    }

    public List<EndpointState> endpoints() {
        return members;
    }

    /** Why each DNS name that last failed to resolve did; empty when all resolved. */
    public synchronized Map<String, String> resolveErrors() {
        return Map.copyOf(resolveErrors);
    }

    /** The endpoints to try for a new session, best first, at most {@link #MAX_ATTEMPTS}; empty when none is routable. */
    public List<EndpointState> candidates() {
        List<EndpointState> usable = new ArrayList<>(members.size());
        for (EndpointState e : members) {
            if (e.routable()) {
                usable.add(e);
            }
        }
        Balance balance = config.balance();
        switch (balance) {
            case ROUND_ROBIN -> {
                if (!usable.isEmpty()) {
                    Collections.rotate(usable, -Math.floorMod(next.getAndIncrement(), usable.size()));
                }
            }
            case LEAST_CONNECTIONS -> usable.sort(Comparator.comparingInt(EndpointState::active));
            case FIRST_HEALTHY -> { }
        }
        return usable.size() > MAX_ATTEMPTS ? usable.subList(0, MAX_ATTEMPTS) : usable;
    }

    /** A session's connect to {@code member} failed: count it toward passive ejection. */
    public void connectFailed(EndpointState member) {
        UpstreamConfig current = config;
        Duration ejected = member.connectFailed(current.ejectAfter(), current.ejectFor());
        if (ejected != null) {
            metrics.ejected();
            LOG.atWarn().addKeyValue("listener", listener).addKeyValue("upstream", member.id())
                    .log("upstream {} ejected for {} after {} failed connects in a row", member.id(), ejected,
                            current.ejectAfter());
        }
    }

    /** Whether sessions on a member that is down must end now. */
    public boolean closesSessionsWhenDown() {
        return config.onUnhealthy() == OnUnhealthy.CLOSE_SESSIONS;
    }

    /** Stops the checks and DNS lookups and retires every member: the listener is gone. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (nextResolve != null) {
            nextResolve.cancel(false);
        }
        checkers.values().forEach(Checker::stop);
        checkers.clear();
        members.forEach(EndpointState::retire);
    }

    @Override
    public String toString() {
        return listener + " " + members;
    }
}
