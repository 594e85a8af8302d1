package dev.wharf.protocol.kafka;

import dev.wharf.protocol.OrderedOutput;
import dev.wharf.protocol.ProtocolViolation;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.util.List;

/**
 * Cuts a Kafka byte stream into frames (a 4-byte size, then that many bytes) and hands each whole
 * frame, size included, to {@link #frame}. Every size is checked against its bounds before a byte
 * of the body is buffered. After a violation the rest of the stream is dropped: the session is
 * closing.
 *
 * <p>While {@link #output} holds a message back, read-complete is not passed on, so the relay
 * neither flushes nor asks for another read; {@link OrderedOutput} passes it on when it drains.
 */
abstract class KafkaFrameDecoder extends ByteToMessageDecoder {
    static final int SIZE_BYTES = 4;

    private final String side;
    private final int minFrameBytes;
    private final int maxFrameBytes;
    final OrderedOutput output = new OrderedOutput();
    private boolean failed;

    /**
     * @param side          {@code request} or {@code response}, for messages
     * @param minFrameBytes the smallest size a frame may declare: its fixed header
     * @param maxFrameBytes the largest size a frame may declare
     */
    KafkaFrameDecoder(String side, int minFrameBytes, int maxFrameBytes) {
        this.side = side;
        this.minFrameBytes = minFrameBytes;
        this.maxFrameBytes = maxFrameBytes;
    }

    /** One whole frame (size prefix included), which this call owns: pass it on or release it, also when throwing. */
    abstract void frame(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out);

    @Override
    protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < SIZE_BYTES) {
            return;
        }
        int size = in.getInt(in.readerIndex());
        if (size < minFrameBytes || size > maxFrameBytes) {
            failed = true;
            throw new ProtocolViolation("kafka " + side + " size: " + size + " (expected: " + minFrameBytes
                    + ".." + maxFrameBytes + ")");
        }
        if (in.readableBytes() < SIZE_BYTES + size) {
            return;
        }
        try {
            frame(ctx, in.readRetainedSlice(SIZE_BYTES + size), out);
        } catch (RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    /** A frame cut short by the end of the stream is dropped: the peer has gone, and nobody is left to answer. */
    @Override
    protected final void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        in.skipBytes(in.readableBytes());
    }

    @Override
    public final void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (output.waiting()) {
            // No flush and no read (ByteToMessageDecoder's own read for an incomplete frame
            // included) until the held message goes on: OrderedOutput then fires read-complete.
            return;
        }
        super.channelReadComplete(ctx);
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) throws Exception {
        output.close();
        super.channelInactive(ctx);
    }

    @Override
    protected final void handlerRemoved0(ChannelHandlerContext ctx) {
        output.close();
    }

    /** ByteToMessageDecoder wraps what decode throws; the session expects the violation itself. */
    @Override
    public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof ProtocolViolation violation) {
            ctx.fireExceptionCaught(violation);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }
}
