package dev.wharf.upstream;

import dev.wharf.config.Endpoint;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One address a listener may send sessions to: a configured endpoint, or one of the addresses its
 * DNS name resolves to. It holds the endpoint's live sessions, the verdict of its active health
 * check and its passive ejection. The same object survives reloads and re-resolutions that keep
 * the address, so counts and health stay true across them.
 */
public final class EndpointState {
    /** What the active health check has concluded so far. */
    public enum Health { UNKNOWN, UP, DOWN }

    private volatile Endpoint endpoint;
    private final InetSocketAddress address;
    private final String id;
    private final Set<UpstreamSession> sessions = ConcurrentHashMap.newKeySet();
    private volatile Health health;
    private volatile String lastCheck = "";
    private volatile Instant since = Instant.now();
    // Written only by the one check of this endpoint that runs at a time.
    private int streak;
    private volatile boolean firstResultDecides;
    // Passive ejection; connect results arrive from every event loop.
    private volatile int connectFailures;
    private volatile int ejections;
    /** When the current ejection ends (a System.nanoTime), or 0 if the endpoint was never ejected. */
    private volatile long ejectedUntilNanos;
    AutoCloseable healthGauge;

    EndpointState(Endpoint endpoint, InetSocketAddress address, String id, Health initial) {
        this.endpoint = endpoint;
        this.address = address;
        this.id = id;
        this.health = initial;
    }

    /** The configured endpoint this address comes from. */
    public Endpoint endpoint() {
        return endpoint;
    }

    /** A reload changed the endpoint's check-port; its address, and so this state, stays. */
    void endpoint(Endpoint changed) {
        endpoint = changed;
    }

    /** The address sessions connect to, or null while the endpoint's name has never resolved. */
    public InetSocketAddress resolved() {
        return address;
    }

    /**
     * How logs, metrics and {@code /upstreams} name it: the configured {@code host:port}, followed
     * by {@code /ip} when the host is a DNS name that resolved.
     */
    public String id() {
        return id;
    }

    /** Whether a new session may be sent here: resolved, not down or unchecked, not ejected. */
    public boolean routable() {
        return address != null && health == Health.UP && !ejected();
    }

    public Health health() {
        return health;
    }

    /** The last check's outcome in words ("" before the first); never holds a secret. */
    public String lastCheck() {
        return lastCheck;
    }

    /** When the health last changed. */
    public Instant since() {
        return since;
    }

    public boolean ejected() {
        long until = ejectedUntilNanos;
        return until != 0 && System.nanoTime() - until < 0;
    }

    public int active() {
        return sessions.size();
    }

    public void sessionOpened(UpstreamSession session) {
        sessions.add(session);
    }

    public void sessionClosed(UpstreamSession session) {
        sessions.remove(session);
    }

    void closeSessions() {
        sessions.forEach(s -> s.endpointDown(this));
    }

    // ---- active checks

    /** A new check (or a changed one) starts: its first verdict stands at once, without rise or fall. */
    void checkStarted() {
        firstResultDecides = true;
        streak = 0;
    }

    /** Whether a check has started whose first verdict has not come yet. */
    boolean awaitingFirstResult() {
        return firstResultDecides;
    }

    /** No active check: the endpoint is up unless ejected. */
    void unchecked() {
        firstResultDecides = false;
        setHealth(Health.UP);
        lastCheck = "";
    }

    /**
     * Records one check result; returns the new health if it changed. {@code rise} results in a
     * row bring a down endpoint up, {@code fall} take an up one down.
     */
    Health record(boolean passed, String outcome, int rise, int fall) {
        lastCheck = outcome;
        Health verdict = passed ? Health.UP : Health.DOWN;
        if (firstResultDecides || health == Health.UNKNOWN) {
            streak = 0;
            Health changed = setHealth(verdict);
            firstResultDecides = false;
            return changed;
        }
        if (verdict == health) {
            streak = 0;
            return null;
        }
        if (++streak < (passed ? rise : fall)) {
            return null;
        }
        streak = 0;
        return setHealth(verdict);
    }

    private Health setHealth(Health next) {
        if (next == health) {
            return null;
        }
        health = next;
        since = Instant.now();
        return next;
    }

    // ---- passive ejection

    /**
     * A session could not connect. Returns how long the endpoint is now ejected for, or null if
     * this failure does not eject it. Failures while it is ejected (connects that were already under
     * way) do not count again.
     */
    synchronized Duration connectFailed(int ejectAfter, Duration ejectFor) {
        if (ejectAfter == 0 || ejected()) {
            return null;
        }
        if (++connectFailures < ejectAfter) {
            return null;
        }
        Duration period = ejectFor.multipliedBy(1L << Math.min(ejections, 3));
        ejections++;
        // Out again at its first failure after it returns, for twice as long.
        connectFailures = ejectAfter - 1;
        ejectedUntilNanos = System.nanoTime() + period.toNanos();
        return period;
    }

    /** A session connected: its failures so far no longer count toward ejection. */
    public void connectSucceeded() {
        if (ejections != 0 || connectFailures != 0) {
            synchronized (this) {
                connectFailures = 0;
                ejections = 0;
            }
        }
    }

    /** The endpoint left the upstream table: stop exporting its health. */
    void retire() {
        if (healthGauge == null) {
            return;
        }
        try {
            healthGauge.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot unregister the health gauge of " + id, e);
        }
    }

    @Override
    public String toString() {
        return id;
    }
}
