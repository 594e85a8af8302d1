package dev.wharf.relay;

import dev.wharf.access.ConnectionLimiter;
import dev.wharf.access.RateLimitedLog;
import dev.wharf.config.ListenerConfig;
import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.upstream.UpstreamPool;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the relay reads of one listener while it runs: the config in force (swapped whole by a
 * reload), its upstream pool (kept for the listener's life), its meters, limits and live sessions.
 */
public final class ListenerState {
    private final String name;
    private final ListenerMetrics metrics;
    private final Class<? extends Channel> upstreamChannel;
    private final ConnectionLimiter limiter = new ConnectionLimiter();
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    final RateLimitedLog denialLog = new RateLimitedLog(10, Duration.ofSeconds(10));
    final RateLimitedLog upstreamFailureLog = new RateLimitedLog(10, Duration.ofSeconds(10));
    private volatile ListenerConfig config;
    private final UpstreamPool pool;

    public ListenerState(ListenerConfig config, UpstreamPool pool, ListenerMetrics metrics,
                         Class<? extends Channel> upstreamChannel) {
        this.name = config.name();
        this.config = config;
        this.pool = pool;
        this.metrics = metrics;
        this.upstreamChannel = upstreamChannel;
    }

    public String name() {
        return name;
    }

    public ListenerConfig config() {
        return config;
    }

    public UpstreamPool pool() {
        return pool;
    }

    public ListenerMetrics metrics() {
        return metrics;
    }

    ConnectionLimiter limiter() {
        return limiter;
    }

    Class<? extends Channel> upstreamChannel() {
        return upstreamChannel;
    }

    /**
     * Puts a new config in force for new sessions, and closes live sessions whose source the new
     * allow list no longer admits: revoking access takes effect now. The upstream table changes
     * through {@link UpstreamPool#update}.
     */
    public void update(ListenerConfig newConfig) {
        this.config = newConfig;
        for (Session session : sessions) {
            if (!newConfig.allow().allows(session.source().getAddress())) {
                session.close(CloseReason.ACCESS_REVOKED);
            }
        }
    }

    public Set<Session> sessions() {
        return sessions;
    }

    /** Closes every live session now, with {@code reason}. */
    public void closeSessions(CloseReason reason) {
        sessions.forEach(s -> s.close(reason));
    }
}
