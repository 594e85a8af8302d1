package dev.wharf.relay;

import dev.wharf.access.ConnectionLimiter;
import dev.wharf.access.RateLimitedLog;
import dev.wharf.config.ListenerConfig;
import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.upstream.UpstreamPool;
import dev.wharf.upstream.EndpointState;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.resolver.NoopAddressResolverGroup;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * What the relay reads of one listener while it runs: the config in force (swapped whole by a
 * reload), its upstream pool (kept for the listener's life), its meters, limits and live sessions.
 *
 * <p>A protocol listener's node ports each have a state of their own ({@link #forNode}) that
 * differs only in its pool (the one node): config, meters, limits, sessions and logs are the
 * listener's, so a reload, a drain or a revoked source reaches node sessions too.
 */
public final class ListenerState {
    private static final Logger LOG = LoggerFactory.getLogger(ListenerState.class);
    private final String name;
    private final ListenerMetrics metrics;
    private final Class<? extends Channel> upstreamChannel;
    private final ConnectionLimiter limiter;
    private final Set<ListenerSession> sessions;
    final RateLimitedLog denialLog;
    private final RateLimitedLog upstreamFailureLog;
    final RateLimitedLog protocolErrorLog;
    /** The listener whose config a node port's state reads; null for a listener's own state. */
    private final ListenerState parent;
    private volatile ListenerConfig config;
    private final UpstreamPool pool;
    private volatile Supplier<SessionCodec> codecs = () -> null;
    private volatile Frontend frontend;

    public ListenerState(ListenerConfig config, UpstreamPool pool, ListenerMetrics metrics,
                         Class<? extends Channel> upstreamChannel) {
        this.name = config.name();
        this.config = config;
        this.pool = pool;
        this.metrics = metrics;
        this.upstreamChannel = upstreamChannel;
        this.limiter = new ConnectionLimiter();
        this.sessions = ConcurrentHashMap.newKeySet();
        this.denialLog = new RateLimitedLog(10, Duration.ofSeconds(10));
        this.upstreamFailureLog = new RateLimitedLog(10, Duration.ofSeconds(10));
        this.protocolErrorLog = new RateLimitedLog(10, Duration.ofSeconds(10));
        this.parent = null;
    }

    private ListenerState(ListenerState parent, UpstreamPool nodePool) {
        this.name = parent.name;
        this.pool = nodePool;
        this.metrics = parent.metrics;
        this.upstreamChannel = parent.upstreamChannel;
        this.limiter = parent.limiter;
        this.sessions = parent.sessions;
        this.denialLog = parent.denialLog;
        this.upstreamFailureLog = parent.upstreamFailureLog;
        this.protocolErrorLog = parent.protocolErrorLog;
        this.parent = parent;
        this.codecs = parent.codecs;
    }

    /** The state of one of this listener's node ports, whose sessions go to {@code nodePool}. */
    public ListenerState forNode(UpstreamPool nodePool) {
        return new ListenerState(this, nodePool);
    }

    /** Sets what each new session puts in front of the relay (a protocol mode); set before binding. */
    public void codecs(Supplier<SessionCodec> codecs) {
        this.codecs = codecs;
    }

    /** Sets what takes admitted connections instead of the byte relay (the http mode); set before binding. */
    public void frontend(Frontend frontend) {
        frontend.update(config());
        this.frontend = frontend;
    }

    /** Closes the front-end's resources (an http listener's idle upstream connections), if there is one. */
    public void closeFrontend() {
        if (frontend != null) {
            frontend.close();
        }
    }

    /** What takes admitted connections, or null for the byte relay. */
    Frontend frontend() {
        return frontend;
    }

    /** The protocol handlers for a new session, or null for plain TCP. */
    SessionCodec newCodec() {
        return codecs.get();
    }

    public String name() {
        return name;
    }

    public ListenerConfig config() {
        return parent == null ? config : parent.config();
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

    /**
     * Opens a connection to {@code endpoint} on {@code loop}, within the listener's connect timeout,
     * with {@code handler}, and accounts for it before the caller's listeners run: the connect time
     * and a success (which ends an ejection streak), or a failure (a rate-limited log line, and a
     * step toward passive ejection).
     */
    public ChannelFuture connect(EventLoop loop, EndpointState endpoint, ChannelHandler handler) {
        long start = System.nanoTime();
        return RelayOptions.onUpstream(new Bootstrap())
                .group(loop)
                .channel(upstreamChannel)
                .resolver(NoopAddressResolverGroup.INSTANCE)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, config().connectTimeout().toMillis()))
                .handler(handler)
                .connect(endpoint.resolved())
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        metrics.upstreamConnect.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                        endpoint.connectSucceeded();
                        return;
                    }
                    LoggingEventBuilder event = upstreamFailureLog.atInfo(LOG);
                    if (event != null) {
                        event.addKeyValue("listener", name).addKeyValue("upstream", endpoint.id())
                                .log("upstream connect failed: {}", f.cause().getMessage());
                    }
                    pool.connectFailed(endpoint);
                });
    }

    /**
     * Counts {@code session} among the listener's live ones (drain, revocation, the active gauge)
     * until {@code client} closes; then gives back its connection-limit slot and times its life.
     * Returns its idle timer. Call on the client's event loop, after the session's own close
     * listener is registered, so that its resources are released before it stops counting.
     */
    public IdleTimer track(ListenerSession session, Channel client, java.net.InetAddress source, Duration idleTimeout) {
        long startNanos = System.nanoTime();
        sessions.add(session);
        metrics.active.incrementAndGet();
        IdleTimer idle = new IdleTimer(client, session, idleTimeout);
        client.closeFuture().addListener(f -> {
            idle.cancel();
            limiter.release(source);
            sessions.remove(session);
            metrics.active.decrementAndGet();
            metrics.session.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
        });
        return idle;
    }

    /**
     * Puts a new config in force for new sessions, and closes live sessions whose source the new
     * allow list no longer admits: revoking access takes effect now. The upstream table changes
     * through {@link UpstreamPool#update}.
     */
    public void update(ListenerConfig newConfig) {
        if (frontend != null) {
            frontend.update(newConfig);
        }
        this.config = newConfig;
        for (ListenerSession session : sessions) {
            if (!newConfig.allow().allows(session.source().getAddress())) {
                session.close(CloseReason.ACCESS_REVOKED);
            }
        }
    }

    public Set<ListenerSession> sessions() {
        return sessions;
    }

    /** Tells every live session that the listener is draining; see {@link ListenerSession#drain}. */
    public void drainSessions() {
        sessions.forEach(ListenerSession::drain);
    }

    /** Closes every live session now, with {@code reason}. */
    public void closeSessions(CloseReason reason) {
        sessions.forEach(s -> s.close(reason));
    }
}
