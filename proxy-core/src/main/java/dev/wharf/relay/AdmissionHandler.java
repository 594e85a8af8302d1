package dev.wharf.relay;

import dev.wharf.config.ListenerConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Decides once, when a client connection becomes active, whether it may pass: the allow list
 * first, then the connection limits. A refused connection is closed before anything is sent
 * upstream; an admitted one gets its {@link Session}, and this handler leaves the pipeline so
 * reads pay nothing for it.
 */
@ChannelHandler.Sharable
public final class AdmissionHandler extends ChannelInboundHandlerAdapter {
    public static final String NAME = "admission";
    private static final Logger ACCESS = LoggerFactory.getLogger("wharf.access");

    private final ListenerState listener;

    public AdmissionHandler(ListenerState listener) {
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetSocketAddress source = (InetSocketAddress) ctx.channel().remoteAddress();
        ListenerConfig config = listener.config();
        if (!config.allow().allows(source.getAddress())) {
            listener.metrics().denied.increment();
            refuse(ctx, source, "denied", "source is not in the allow list");
            return;
        }
        if (!listener.limiter().tryAcquire(source.getAddress(), config.maxConnections(), config.maxConnectionsPerSource())) {
            listener.metrics().limited.increment();
            refuse(ctx, source, "limited", "max-connections or max-connections-per-source reached");
            return;
        }
        listener.metrics().accepted.increment();
        ctx.pipeline().remove(this);
        new Session(listener, ctx.channel(), source).start();
    }

    private void refuse(ChannelHandlerContext ctx, InetSocketAddress source, String outcome, String why) {
        ctx.close();
        LoggingEventBuilder event = listener.denialLog.atInfo(ACCESS);
        if (event != null) {
            event.addKeyValue("listener", listener.name()).addKeyValue("source", Session.format(source))
                    .addKeyValue("outcome", outcome).log("connection refused: {}", why);
        }
    }
}
