package dev.wharf.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.util.List;

/**
 * What every protocol decoder in front of the relay shares: its {@link OrderedOutput}; holding back
 * read-complete while that output waits (so the relay neither flushes nor reads; the output passes
 * read-complete on when it drains); releasing what it holds when the channel goes away or a
 * violation is thrown; dropping the rest of the stream after a violation (the session is
 * closing); and handing the violation itself, not Netty's wrapper, down the pipeline.
 */
public abstract class ProtocolDecoder extends ByteToMessageDecoder {
    protected final OrderedOutput output = new OrderedOutput();
    private boolean failed;

    @Override
    protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            decodeStream(ctx, in, out);
        } catch (RuntimeException e) {
            failed = true;
            release();
            throw e;
        }
    }

    /** Consumes what it can of {@code in}, passing on through {@link #output}. */
    protected abstract void decodeStream(ChannelHandlerContext ctx, ByteBuf in, List<Object> out);

    /** Releases what is held; a subclass holding more adds to it. Called more than once. */
    protected void release() {
        output.close();
    }

    @Override
    public final void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (!output.waiting()) {
            super.channelReadComplete(ctx);
        }
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) throws Exception {
        try {
            super.channelInactive(ctx);
        } finally {
            release();
        }
    }

    @Override
    protected final void handlerRemoved0(ChannelHandlerContext ctx) {
        release();
    }

    @Override
    public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof ProtocolViolation violation) {
            ctx.fireExceptionCaught(violation);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }
}
