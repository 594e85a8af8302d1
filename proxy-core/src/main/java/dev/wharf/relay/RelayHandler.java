package dev.wharf.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;

/**
 * Moves bytes from its channel to the peer channel of the same {@link Session}; one instance sits
 * on each side. Backpressure is two rules: read again only after a batch was flushed to a
 * writable peer, and resume the peer's reads when this channel turns writable again. Both
 * channels share one event loop, so none of this needs locking.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
    static final String NAME = "relay";

    private final Session session;
    private final boolean clientSide;
    private int batchBytes;

    RelayHandler(Session session, boolean clientSide) {
        this.session = session;
        this.clientSide = clientSide;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf data = (ByteBuf) msg;
        session.relayed(clientSide, data.readableBytes());
        batchBytes += data.readableBytes();
        if (session.toSplicer(clientSide, data)) {
            return;
        }
        Channel peer = session.peer(clientSide);
        if (peer == null) {
            session.holdUntilConnected(data);
        } else {
            peer.write(data, peer.voidPromise());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Channel peer = session.peer(clientSide);
        if (peer == null) {
            return; // the upstream is still connecting; Session.connected() resumes reading
        }
        peer.flush();
        int batch = batchBytes;
        batchBytes = 0;
        if (session.splicing(clientSide) || session.spliceFrom(clientSide, batch)) {
            return; // the splicer reads this side now (and asks Netty for the end of the stream)
        }
        if (peer.isWritable()) {
            readMore(ctx.channel());
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Channel peer = session.peer(clientSide);
        if (ctx.channel().isWritable() && peer != null && !session.splicing(!clientSide)) {
            readMore(peer);
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Asks for the next read, unless the channel has seen EOF: there is nothing left to read, and
     * on Netty 4.2's epoll transport re-arming a half-closed channel fails and closes it (see
     * {@code Transport.of}).
     */
    static void readMore(Channel channel) {
        if (!(channel instanceof DuplexChannel duplex) || !duplex.isInputShutdown()) {
            channel.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && !session.eofToSplicer(clientSide)) {
            session.inputShutdown(clientSide);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.closed(clientSide);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        session.failed(clientSide, cause);
    }
}
