package dev.wharf.protocol.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;

/**
 * The last handler of an upstream connection, behind its HttpClientCodec: hands what the upstream
 * sends to the {@link HttpSession} whose request the connection carries, or, while the connection
 * sits idle in the pool, drops the connection on anything at all (EOF, a reset, stray bytes).
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    static final String NAME = "upstream";

    private HttpSession owner;
    private ArrayDeque<Channel> pool;
    private ScheduledFuture<?> expiry;

    static UpstreamHandler of(Channel channel) {
        return (UpstreamHandler) channel.pipeline().get(NAME);
    }

    void attach(HttpSession session) {
        owner = session;
    }

    void detach() {
        owner = null;
    }

    void enterPool(ArrayDeque<Channel> channels, ScheduledFuture<?> expiry) {
        this.pool = channels;
        this.expiry = expiry;
    }

    void leavePool() {
        if (expiry != null) {
            expiry.cancel(false);
        }
        pool = null;
        expiry = null;
    }

    private void dropFromPool(Channel channel) {
        if (pool != null) {
            pool.remove(channel);
            leavePool();
        }
        channel.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (owner == null) {
            ReferenceCountUtil.release(msg);
            dropFromPool(ctx.channel());
            return;
        }
        owner.upstreamRead(ctx.channel(), msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (owner != null) {
            owner.upstreamReadComplete(ctx.channel());
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (owner != null && ctx.channel().isWritable()) {
            owner.upstreamWritable(ctx.channel());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // The codec has already passed on what the EOF completed (a read-until-close body).
            if (owner != null) {
                owner.upstreamEnded(ctx.channel(), null);
            }
            dropFromPool(ctx.channel());
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (owner != null) {
            owner.upstreamEnded(ctx.channel(), null);
        }
        dropFromPool(ctx.channel());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (owner != null) {
            owner.upstreamEnded(ctx.channel(), cause);
        }
        dropFromPool(ctx.channel());
    }
}
