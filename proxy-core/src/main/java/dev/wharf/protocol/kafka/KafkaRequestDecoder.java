package dev.wharf.protocol.kafka;

import dev.wharf.protocol.ProtocolViolation;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * Client to upstream: passes every request frame on unchanged and remembers, in order, the ones
 * the upstream will answer. Only Produce requests are read past the header, for their acks.
 */
final class KafkaRequestDecoder extends KafkaFrameDecoder {
    /** api key (2), api version (2), correlation id (4): at the same offsets in every request header version. */
    static final int HEADER_BYTES = 8;

    private final ArrayDeque<InFlight> inFlight;
    private final int maxInFlight;

    KafkaRequestDecoder(int maxFrameBytes, ArrayDeque<InFlight> inFlight, int maxInFlight) {
        super("request", HEADER_BYTES, maxFrameBytes);
        this.inFlight = inFlight;
        this.maxInFlight = maxInFlight;
    }

    @Override
    void frame(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
        try {
            remember(frame);
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        out.add(frame);
    }

    private void remember(ByteBuf frame) {
        int at = frame.readerIndex() + SIZE_BYTES;
        short apiKey = frame.getShort(at);
        short version = frame.getShort(at + 2);
        int correlationId = frame.getInt(at + 4);
        BrokerAddresses.checkRequestVersion(apiKey, version, correlationId);
        if (apiKey == ApiKeys.SASL_HANDSHAKE.id && version == 0) {
            throw new ProtocolViolation("kafka request " + InFlight.describe(apiKey, version, correlationId)
                    + ": SASL tokens follow SaslHandshake v0 without Kafka framing (expected: v1+, with SaslAuthenticate)");
        }
        if (apiKey == ApiKeys.PRODUCE.id && acks(frame, version, correlationId) == 0) {
            return; // the broker sends no response to an acks=0 produce
        }
        if (inFlight.size() >= maxInFlight) {
            throw new ProtocolViolation("kafka requests in flight: " + (inFlight.size() + 1) + " (expected: <= "
                    + maxInFlight + ") at " + InFlight.describe(apiKey, version, correlationId));
        }
        inFlight.add(new InFlight(correlationId, apiKey, version));
    }

    /** Reads the request with kafka-clients' generated class; the records are zero-copy slices, never read. */
    private static short acks(ByteBuf frame, short version, int correlationId) {
        // Kafka 4 brokers still offer Produce from v0 (old clients refuse a higher minimum) but
        // refuse v0-2 themselves; kafka-clients 4.3.1 cannot read them either.
        if (version < ProduceRequestData.LOWEST_SUPPORTED_VERSION || version > ProduceRequestData.HIGHEST_SUPPORTED_VERSION) {
            throw new ProtocolViolation("kafka request " + InFlight.describe(ApiKeys.PRODUCE.id, version, correlationId)
                    + ": version outside v" + ProduceRequestData.LOWEST_SUPPORTED_VERSION + "..v"
                    + ProduceRequestData.HIGHEST_SUPPORTED_VERSION + ", the versions whose acks this proxy can read");
        }
        ByteBuffer buffer = frame.nioBuffer(frame.readerIndex() + SIZE_BYTES, frame.readableBytes() - SIZE_BYTES);
        try {
            RequestHeader.parse(buffer); // leaves the buffer at the body
            return new ProduceRequestData(new ByteBufferAccessor(buffer), version).acks();
        } catch (RuntimeException e) {
            throw new ProtocolViolation("kafka request " + InFlight.describe(ApiKeys.PRODUCE.id, version, correlationId)
                    + ": unreadable: " + e, e);
        }
    }
}
