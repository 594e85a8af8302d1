package dev.wharf.protocol.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.ResponseHeader;

/** Kafka frames (a 4-byte size, header, body) built and read with kafka-clients' generated classes. */
final class KafkaFrames {
    static final String CLIENT_ID = "wharf-test";

    private KafkaFrames() {
    }

    /** A request frame: the header of {@code api}'s version, then {@code body} at {@code version}. */
    static byte[] request(ApiKeys api, short version, int correlationId, ApiMessage body) {
        return request(api, version, correlationId, body, version);
    }

    /** A request frame naming {@code version} whose body is encoded at {@code bodyVersion} (for versions kafka-clients cannot write). */
    static byte[] request(ApiKeys api, short version, int correlationId, ApiMessage body, short bodyVersion) {
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(api.id).setRequestApiVersion(version)
                .setClientId(CLIENT_ID).setCorrelationId(correlationId);
        return frame(header, api.requestHeaderVersion(version), body, bodyVersion);
    }

    /** A request frame with {@code api}'s default request body. */
    static byte[] request(ApiKeys api, short version, int correlationId) {
        return request(api, version, correlationId, api.messageType.newRequest());
    }

    /** A response frame: the response header of {@code api}'s version, then {@code body} at {@code version}. */
    static byte[] response(ApiKeys api, short version, int correlationId, ApiMessage body) {
        return frame(new ResponseHeaderData().setCorrelationId(correlationId), api.responseHeaderVersion(version), body, version);
    }

    static byte[] frame(ApiMessage header, short headerVersion, ApiMessage body, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int headerSize = header.size(cache, headerVersion);
        int bodySize = body.size(cache, version);
        ByteBuffer buffer = ByteBuffer.allocate(4 + headerSize + bodySize);
        buffer.putInt(headerSize + bodySize);
        ByteBufferAccessor accessor = new ByteBufferAccessor(buffer);
        header.write(accessor, cache, headerVersion);
        body.write(accessor, cache, version);
        return buffer.array();
    }

    /** The correlation id of a response frame. */
    static int correlationId(byte[] frame) {
        return ByteBuffer.wrap(frame).getInt(4);
    }

    /** The body of a response frame, decoded at {@code version}; every byte must belong to it. */
    static ApiMessage decodeResponse(byte[] frame, ApiKeys api, short version) {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        int size = buffer.getInt();
        if (size != frame.length - 4) {
            throw new IllegalArgumentException("frame size " + size + " (expected: " + (frame.length - 4) + ")");
        }
        ResponseHeader.parse(buffer, api.responseHeaderVersion(version));
        ApiMessage body = api.messageType.newResponse();
        body.read(new ByteBufferAccessor(buffer), version);
        if (buffer.hasRemaining()) {
            throw new IllegalArgumentException(buffer.remaining() + " bytes after the body");
        }
        return body;
    }

    /** The header bytes of a response frame (between the size and the body). */
    static byte[] responseHeader(byte[] frame, ApiKeys api, short version) {
        ByteBuffer buffer = ByteBuffer.wrap(frame, 4, frame.length - 4);
        ResponseHeader.parse(buffer, api.responseHeaderVersion(version));
        byte[] header = new byte[buffer.position() - 4];
        System.arraycopy(frame, 4, header, 0, header.length);
        return header;
    }

    /** A frame from src/test/resources/kafka. */
    static byte[] resource(String name) {
        try (InputStream in = KafkaFrames.class.getResourceAsStream("/kafka/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource kafka/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
