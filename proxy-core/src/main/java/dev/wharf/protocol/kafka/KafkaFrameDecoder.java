package dev.wharf.protocol.kafka;

import dev.wharf.protocol.ProtocolDecoder;
import dev.wharf.protocol.ProtocolViolation;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;

/**
 * Cuts a Kafka byte stream into frames (a 4-byte size, then that many bytes) and hands each whole
 * frame, size included, to {@link #frame}. Every size is checked against its bounds before a byte
 * of the body is buffered. The rest ({@link ProtocolDecoder}): output order, held read-complete,
 * what happens after a violation.
 */
abstract class KafkaFrameDecoder extends ProtocolDecoder {
    static final int SIZE_BYTES = 4;

    private final String side;
    private final int minFrameBytes;
    private final int maxFrameBytes;

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
    protected final void decodeStream(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < SIZE_BYTES) {
            return;
        }
        int size = in.getInt(in.readerIndex());
        if (size < minFrameBytes || size > maxFrameBytes) {
            throw new ProtocolViolation("kafka " + side + " size: " + size + " (expected: " + minFrameBytes
                    + ".." + maxFrameBytes + ")");
        }
        if (in.readableBytes() < SIZE_BYTES + size) {
            return;
        }
        frame(ctx, in.readRetainedSlice(SIZE_BYTES + size), out);
    }

    /** A frame cut short by the end of the stream is dropped: the peer has gone, and nobody is left to answer. */
    @Override
    protected final void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        in.skipBytes(in.readableBytes());
    }
}
