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
        ArrayDeque<Channel> channels = idle.computeIfAbsent(loop, l -> new HashMap<>()).get(endpoint);
        Channel channel;
        while (channels != null && (channel = channels.pollLast()) != null) {
            UpstreamHandler handler = UpstreamHandler.of(channel);
            handler.leavePool();
            if (channel.isActive() && !(channel instanceof DuplexChannel d && d.isInputShutdown())) {
                return channel;
            }
            channel.close();
        }
        return null;
    }

    /** Keeps a connection whose exchange finished cleanly for the next request, or closes it. On its loop. */
    void offer(EndpointState endpoint, Channel channel, int maxIdle, Duration idleTimeout) {
        EventLoop loop = channel.eventLoop();
        Map<EndpointState, ArrayDeque<Channel>> byEndpoint = idle.computeIfAbsent(loop, l -> new HashMap<>());
        ArrayDeque<Channel> channels = byEndpoint.computeIfAbsent(endpoint, e -> new ArrayDeque<>());
        if (closed || !channel.isActive() || channels.size() >= maxIdle) {
            channel.close();
            return;
        }
        channels.addLast(channel);
        ScheduledFuture<?> expiry = loop.schedule(() -> {
            if (channels.remove(channel)) {
                channel.close();
            }
        }, idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
        UpstreamHandler.of(channel).enterPool(channels, expiry);
        // A pending read is how an upstream's FIN or RST on an idle connection is noticed.
        channel.read();
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
