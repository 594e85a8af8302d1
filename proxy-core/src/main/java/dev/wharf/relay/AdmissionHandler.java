package dev.wharf.relay;

import dev.wharf.config.ListenerConfig;
import dev.wharf.config.ProxyProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Decides once per client connection whether it may pass: the allow list first, then the
 * connection limits, both on the connection's source. Without PROXY protocol that is the peer,
 * decided when the connection becomes active; with it, a {@link ProxyProtocolHandler} takes this
 * handler's place, reads the header, and admission runs on the source the header names.
 * A refused connection is closed before anything is sent upstream; an admitted one gets its
 * {@link Session}, and the admission handlers leave the pipeline so reads pay nothing for them.
 */
@ChannelHandler.Sharable
public final class AdmissionHandler extends ChannelInboundHandlerAdapter {
    public static final String NAME = "admission";
    private static final Logger ACCESS = LoggerFactory.getLogger("wharf.access");
    private static final int MAX_LOGGED_REASON = 160;

    private final ListenerState listener;
    private final ProxyProtocolHandler.Decision afterHeader = new ProxyProtocolHandler.Decision() {
        @Override
        public void admit(Channel client, InetSocketAddress source, InetSocketAddress proxy, ByteBuf early, boolean eof) {
            AdmissionHandler.this.admit(client, source, proxy, early, eof);
        }

        @Override
        public void reject(Channel client, InetSocketAddress peer, String why) {
            proxyProtocolError(client, peer, why);
        }
    };

    public AdmissionHandler(ListenerState listener) {
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
        ListenerConfig config = listener.config();
        ProxyProtocol mode = config.proxyProtocol();
        if (mode == ProxyProtocol.OFF) {
            ctx.pipeline().remove(this);
            admit(ctx.channel(), peer, null, null, false);
            return;
        }
        boolean trusted = config.trustedProxies().allows(peer.getAddress());
        if (!trusted && mode == ProxyProtocol.REQUIRED) {
            proxyProtocolError(ctx.channel(), peer, "the peer is not in trusted-proxies");
            return;
        }
        if (!trusted && !config.allow().allows(peer.getAddress())) {
            // An untrusted peer can only ever be its own source: no need to wait for its first bytes.
            listener.metrics().denied.increment();
            refuse(ctx.channel(), peer, null, "denied", "source is not in the allow list");
            return;
        }
        ctx.pipeline().replace(this, ProxyProtocolHandler.NAME,
                new ProxyProtocolHandler(afterHeader, peer, trusted, mode == ProxyProtocol.REQUIRED));
    }

    /** Admits or refuses a connection whose source is known; see {@link ProxyProtocolHandler.Decision#admit}. */
    private void admit(Channel client, InetSocketAddress source, InetSocketAddress proxy, ByteBuf early, boolean eof) {
        ListenerConfig config = listener.config();
        if (!config.allow().allows(source.getAddress())) {
            release(early);
            listener.metrics().denied.increment();
            refuse(client, source, proxy, "denied", "source is not in the allow list");
            return;
        }
        if (!listener.limiter().tryAcquire(source.getAddress(), config.maxConnections(), config.maxConnectionsPerSource())) {
            release(early);
            listener.metrics().limited.increment();
            refuse(client, source, proxy, "limited", "max-connections or max-connections-per-source reached");
            return;
        }
        listener.metrics().accepted.increment();
        Frontend frontend = listener.frontend();
        if (frontend != null) {
            frontend.start(listener, client, source, proxy, early, eof);
            return;
        }
        Session session = new Session(listener, client, source, proxy);
        if (eof) {
            session.inputShutdown(true);
        }
        session.start(early);
    }

    /** Closes a connection whose PROXY header was missing, malformed, late or not allowed. */
    private void proxyProtocolError(Channel client, InetSocketAddress peer, String why) {
        listener.metrics().proxyProtocolError.increment();
        refuse(client, peer, null, "proxy_protocol_error", why);
    }

    private void refuse(Channel client, InetSocketAddress source, InetSocketAddress proxy, String outcome, String why) {
        client.close();
        LoggingEventBuilder event = listener.denialLog.atInfo(ACCESS);
        if (event != null) {
            event = event.addKeyValue("listener", listener.name()).addKeyValue("source", Session.format(source));
            if (proxy != null) {
                event = event.addKeyValue("proxy", Session.format(proxy));
            }
            event.addKeyValue("outcome", outcome).log("connection refused: {}", printable(why));
        }
    }

    /** Reasons may quote what a client sent: keep them one short line of plain text. */
    static String printable(String text) {
        return LogText.printable(text, MAX_LOGGED_REASON);
    }

    private static void release(ByteBuf buf) {
        if (buf != null) {
            buf.release();
        }
    }
}
