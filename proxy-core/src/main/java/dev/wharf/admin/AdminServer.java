package dev.wharf.admin;

import dev.wharf.config.AdminConfig;
import dev.wharf.config.ConfigException;
import dev.wharf.metrics.WharfMetrics;
import dev.wharf.server.Transport;
import dev.wharf.server.WharfServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;

/** The admin HTTP server: {@code /healthz /readyz /metrics /config /upstreams}. */
public final class AdminServer implements AutoCloseable {
    private final AdminHandler handler;
    private AdminConfig config;
    private Channel channel;

    public AdminServer(WharfServer server, WharfMetrics metrics) {
        this.handler = new AdminHandler(server, metrics);
    }

    public void bind(EventLoopGroup group, Transport transport, AdminConfig config) throws ConfigException {
        ChannelFuture bound = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast("readTimeout", new ReadTimeoutHandler(30))
                                .addLast("httpCodec", new HttpServerCodec(4096, 8192, 8192))
                                .addLast("keepAlive", new HttpServerKeepAliveHandler())
                                // Admin requests have no body worth reading: bound what is buffered.
                                .addLast("aggregator", new HttpObjectAggregator(16 * 1024))
                                .addLast("admin", handler);
                    }
                })
                .bind(config.host(), config.port())
                .awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new ConfigException("wharf.admin.port",
                    "cannot listen on " + config.host() + ":" + config.port() + ": " + bound.cause().getMessage());
        }
        this.config = config;
        this.channel = bound.channel();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public String address() {
        return config.host() + ":" + port();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly();
        }
    }
}
