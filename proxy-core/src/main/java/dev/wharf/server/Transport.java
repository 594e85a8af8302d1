package dev.wharf.server;

import dev.wharf.config.ConfigException;
import dev.wharf.config.TransportChoice;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;
import java.util.function.Supplier;

/** The socket implementation: native io_uring or epoll, or the JDK's NIO. */
public enum Transport {
    EPOLL(EpollIoHandler::newFactory, EpollServerSocketChannel.class, EpollSocketChannel.class),
    IO_URING(IoUringIoHandler::newFactory, IoUringServerSocketChannel.class, IoUringSocketChannel.class),
    NIO(NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class);

    private final Supplier<IoHandlerFactory> ioHandlerFactory;
    private final Class<? extends ServerChannel> serverChannel;
    private final Class<? extends Channel> channel;

    Transport(Supplier<IoHandlerFactory> ioHandlerFactory, Class<? extends ServerChannel> serverChannel,
              Class<? extends Channel> channel) {
        this.ioHandlerFactory = ioHandlerFactory;
        this.serverChannel = serverChannel;
        this.channel = channel;
    }

    /**
     * The transport {@code choice} names, checked to load on this machine.
     *
     * @throws ConfigException naming {@code wharf.runtime.transport} when it does not load
     */
    public static Transport of(TransportChoice choice) throws ConfigException {
        return switch (choice) {
            // Not epoll: Netty 4.2.13-4.2.20 drop a half-closed socket from epoll when nothing is
            // pending, then fail (and close it) on the next write that has to wait: bytes still
            // owed to a client that half-closed are lost. io_uring and NIO do not have the bug.
            case AUTO -> IoUring.isAvailable() ? IO_URING : NIO;
            case EPOLL -> available(EPOLL, Epoll.unavailabilityCause());
            case IO_URING -> available(IO_URING, IoUring.unavailabilityCause());
            case NIO -> NIO;
        };
    }

    private static Transport available(Transport transport, Throwable unavailable) throws ConfigException {
        if (unavailable != null) {
            throw new ConfigException("wharf.runtime.transport",
                    transport.configName() + " does not load on this machine: " + unavailable);
        }
        return transport;
    }

    public EventLoopGroup newGroup(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), ioHandlerFactory.get());
    }

    public Class<? extends ServerChannel> serverChannel() {
        return serverChannel;
    }

    /** The name used in config and logs: epoll, io-uring, nio. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public Class<? extends Channel> channel() {
        return channel;
    }
}
