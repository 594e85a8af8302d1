package dev.wharf.protocol.kafka;

import dev.wharf.protocol.ProtocolViolation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.ResponseHeader;

/**
 * A response frame split into its header, kept as bytes, and its body, decoded with kafka-clients'
 * generated class; and the way back to a frame with the same header bytes.
 */
final class ResponseBody {
    private ResponseBody() {
    }

    /** Where the body starts in {@code frame}: after the size and the response header of the request's version. */
    static int bodyOffset(ByteBuf frame, InFlight request, ApiKeys api) {
        short headerVersion = api.responseHeaderVersion(request.apiVersion());
        ByteBuffer buffer = frame.nioBuffer(frame.readerIndex() + KafkaFrameDecoder.SIZE_BYTES,
                frame.readableBytes() - KafkaFrameDecoder.SIZE_BYTES);
        try {
            ResponseHeader.parse(buffer, headerVersion);
        } catch (RuntimeException e) {
            throw unreadable(request, "header v" + headerVersion, e);
        }
        return KafkaFrameDecoder.SIZE_BYTES + buffer.position();
    }

    /**
     * Decodes the body at {@code version}; every byte of it must belong to the message. Records
     * (Fetch, ShareFetch) stay zero-copy slices of {@code frame}, valid while the frame is.
     */
    static ApiMessage decode(ByteBuf frame, int bodyOffset, ApiKeys api, short version) {
        ByteBuffer buffer = frame.nioBuffer(frame.readerIndex() + bodyOffset, frame.readableBytes() - bodyOffset);
        ApiMessage body = api.messageType.newResponse();
        body.read(new ByteBufferAccessor(buffer), version);
        if (buffer.hasRemaining()) {
            throw new IllegalArgumentException(buffer.remaining() + " bytes after the v" + version + " body");
        }
        return body;
    }

    /** A new frame: the size, {@code frame}'s header bytes as they were, then {@code body} encoded at {@code version}. */
    static ByteBuf encode(ByteBufAllocator alloc, ByteBuf frame, int bodyOffset, ApiMessage body, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int headerBytes = bodyOffset - KafkaFrameDecoder.SIZE_BYTES;
        int bodyBytes = body.size(cache, version);
        ByteBuf encoded = alloc.buffer(bodyOffset + bodyBytes);
        try {
            encoded.writeInt(headerBytes + bodyBytes);
            encoded.writeBytes(frame, frame.readerIndex() + KafkaFrameDecoder.SIZE_BYTES, headerBytes);
            ByteBuffer target = encoded.nioBuffer(encoded.writerIndex(), bodyBytes);
            body.write(new ByteBufferAccessor(target), cache, version);
            if (target.hasRemaining()) {
                throw new IllegalStateException("v" + version + " body wrote " + target.position()
                        + " bytes (expected: " + bodyBytes + ")");
            }
            encoded.writerIndex(encoded.writerIndex() + bodyBytes);
            return encoded;
        } catch (RuntimeException e) {
            encoded.release();
            throw e;
        }
    }

    static ProtocolViolation unreadable(InFlight request, String what, Throwable cause) {
        return new ProtocolViolation("kafka response to " + request.describe() + ": cannot decode the " + what
                + ": " + cause, cause);
    }
}
