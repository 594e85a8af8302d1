package dev.wharf.bench.load;

import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.target.Upstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** The Netty client plumbing every scenario shares: how a load connection is configured and opened. */
final class Connections {
    static final int CONNECT_TIMEOUT_MILLIS = 10_000;

    private Connections() {
    }

    /** The socket channel class that matches the event loops the lead created (epoll normally). */
    static Class<? extends SocketChannel> channelType(EventLoopGroup group) {
        if (group instanceof IoEventLoopGroup io) {
            if (io.isIoType(EpollIoHandler.class)) {
                return EpollSocketChannel.class;
            }
            if (io.isIoType(IoUringIoHandler.class)) {
                return IoUringSocketChannel.class;
            }
            if (io.isIoType(NioIoHandler.class)) {
                return NioSocketChannel.class;
            }
        }
        throw new IllegalArgumentException("unsupported event loop group " + group.getClass().getName());
    }

    /**
     * A bootstrap to the target's echo-server port on 127.0.0.1 with the options every scenario
     * wants: TCP_NODELAY (a request must not wait for Nagle), the pooled allocator (direct buffers,
     * no per-message allocation) and a bounded connect. Socket buffer sizes stay at the OS defaults
     * so the kernel autotunes them. Scenarios add their own options and the handler.
     */
    static Bootstrap bootstrap(RunContext context, Target target) {
        return bootstrap(context.group(), target);
    }

    /** The same on {@code group}: one event loop, say, to keep a worker's connections on one thread. */
    static Bootstrap bootstrap(EventLoopGroup group, Target target) {
        return new Bootstrap()
                .group(group)
                .channel(channelType(group))
                .remoteAddress(new InetSocketAddress("127.0.0.1", target.port(Upstream.ECHO)))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS);
    }

    /**
     * Connects one channel per handler, at most {@code maxInFlight} connects at a time (a burst of
     * thousands of SYNs would overflow a proxy's accept backlog and measure that instead). Fails,
     * closing whatever it opened, if any connect fails.
     */
    static List<Channel> open(Bootstrap bootstrap, List<? extends ChannelHandler> handlers, int maxInFlight)
            throws IOException, InterruptedException {
        Semaphore inFlight = new Semaphore(maxInFlight);
        List<Channel> channels = new ArrayList<>(handlers.size());
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        AtomicInteger failures = new AtomicInteger();
        for (ChannelHandler handler : handlers) {
            if (firstFailure.get() != null) {
                break;
            }
            inFlight.acquire();
            ChannelFuture connect = bootstrap.clone().handler(handler).connect();
            channels.add(connect.channel());
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    failures.incrementAndGet();
                    firstFailure.compareAndSet(null, f.cause());
                }
                inFlight.release();
            });
        }
        // Every connect has ended once all permits are back (each fails by CONNECT_TIMEOUT at the latest).
        if (!inFlight.tryAcquire(maxInFlight, CONNECT_TIMEOUT_MILLIS + 5_000L, TimeUnit.MILLISECONDS)) {
            closeAll(channels);
            throw new IOException("connects to " + bootstrap.config().remoteAddress() + " did not finish");
        }
        if (firstFailure.get() != null) {
            closeAll(channels);
            throw new IOException(failures.get() + " of " + channels.size() + " connects to "
                    + bootstrap.config().remoteAddress() + " failed", firstFailure.get());
        }
        return channels;
    }

    /** Closes every channel and waits (briefly) until each is closed. */
    static void closeAll(Collection<Channel> channels) {
        List<ChannelFuture> closing = new ArrayList<>(channels.size());
        for (Channel channel : channels) {
            closing.add(channel.close());
        }
        for (ChannelFuture f : closing) {
            f.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
