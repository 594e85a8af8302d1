package dev.wharf.protocol.http;

import dev.wharf.upstream.EndpointState;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A listener's idle keep-alive upstream connections, kept per event loop and endpoint, so that a
 * request reuses a connection of its own loop and nothing here is shared between threads (each
 * loop's map is touched only on that loop). Newest first: the connection least likely to have
 * been timed out by the upstream. An idle connection keeps a read pending, so an upstream that
 * closes it is seen (its {@link UpstreamHandler} drops it); one idle for pool-idle-timeout is closed.
 */
final class UpstreamConnections {
    private final Map<EventLoop, Map<EndpointState, ArrayDeque<Channel>>> idle = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** An idle connection to {@code endpoint} on {@code loop}, now owned by the caller; null if none. On {@code loop}. */
    Channel poll(EventLoop loop, EndpointState endpoint) {
        Map<EndpointState, ArrayDeque<Channel>> byEndpoint = idle.get(loop);
        ArrayDeque<Channel> channels = byEndpoint == null ? null : byEndpoint.get(endpoint);
        if (channels == null) {
            return null;
        }
        Channel channel;
        while ((channel = channels.pollLast()) != null) {
            UpstreamHandler handler = UpstreamHandler.of(channel);
            handler.leavePool();
            if (channel.isActive() && !(channel instanceof DuplexChannel d && d.isInputShutdown())) {
                return channel;
            }
            channel.close();
        }
        // Endpoints come and go (DNS): an empty set is not kept for one that may never come back.
        byEndpoint.remove(endpoint);
        return null;
    }

    /** Keeps a connection whose exchange finished cleanly for the next request, or closes it. On its loop. */
    void offer(EndpointState endpoint, Channel channel, int maxIdle, Duration idleTimeout) {
        EventLoop loop = channel.eventLoop();
        ArrayDeque<Channel> pool = idleSet(loop, endpoint);
        if (closed || !channel.isActive() || pool.size() >= maxIdle) {
            channel.close();
            return;
        }
        pool.addLast(channel);
        ScheduledFuture<?> expiry = loop.schedule(() -> {
            if (pool.remove(channel)) {
                channel.close();
            }
        }, idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
        UpstreamHandler.of(channel).enterPool(pool, expiry);
        // A pending read is how an upstream's FIN or RST on an idle connection is noticed.
        channel.read();
    }

    /** The idle connections to {@code endpoint} on {@code loop}, made on first use. On {@code loop}. */
    private ArrayDeque<Channel> idleSet(EventLoop loop, EndpointState endpoint) {
        Map<EndpointState, ArrayDeque<Channel>> byEndpoint = idle.computeIfAbsent(loop, l -> new HashMap<>());
        ArrayDeque<Channel> channels = byEndpoint.get(endpoint);
        if (channels == null) {
            // Rare (a first connection to an endpoint): forget the sets left empty by upstream closes.
            byEndpoint.values().removeIf(ArrayDeque::isEmpty);
            channels = new ArrayDeque<>();
            byEndpoint.put(endpoint, channels);
        }
        return channels;
    }

    /** The listener is gone: closes every idle connection, and any offered later. */
    void close() {
        closed = true;
        idle.forEach((loop, byEndpoint) -> loop.execute(() -> {
            byEndpoint.values().forEach(channels -> {
                channels.forEach(Channel::close);
                channels.clear();
            });
        }));
    }
}
