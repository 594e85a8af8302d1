package dev.wharf.protocol.kafka;

import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.protocol.NodeRoutes;
import dev.wharf.protocol.ProtocolViolation;
import dev.wharf.protocol.kafka.BrokerAddresses.Hook;
import dev.wharf.protocol.kafka.BrokerAddresses.NodeAddress;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Upstream to client: matches each response to the oldest request in flight, passes responses
 * that name no broker as their original bytes, caps ApiVersions, and rewrites broker addresses to
 * proxy addresses, holding a response (and everything behind it) until its node ports are bound.
 */
final class KafkaResponseDecoder extends KafkaFrameDecoder {
    /** The correlation id: the only field of a v0 response header, and the first of a v1 header. */
    static final int HEADER_BYTES = 4;

    private final ArrayDeque<InFlight> inFlight;
    private final NodeRoutes routes;
    private final ListenerMetrics metrics;

    KafkaResponseDecoder(int maxFrameBytes, ArrayDeque<InFlight> inFlight, NodeRoutes routes, ListenerMetrics metrics) {
        super("response", HEADER_BYTES, maxFrameBytes);
        this.inFlight = inFlight;
        this.routes = routes;
        this.metrics = metrics;
    }

    @Override
    void frame(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
        InFlight request;
        try {
            request = match(frame.getInt(frame.readerIndex() + SIZE_BYTES));
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        ApiKeys api = request.api();
        Hook hook = BrokerAddresses.hook(api);
        if (api == ApiKeys.API_VERSIONS) {
            output.add(out, capped(ctx, frame, request));
        } else if (hook != null && hook.carriesAddresses(request.apiVersion())) {
            rewrite(ctx, frame, request, hook, out);
        } else {
            output.add(out, frame);
        }
    }

    private InFlight match(int correlationId) {
        InFlight oldest = inFlight.peek();
        if (oldest == null) {
            throw new ProtocolViolation("kafka response with correlation id " + correlationId + " (expected: none, no request in flight)");
        }
        if (oldest.correlationId() != correlationId) {
            throw new ProtocolViolation("kafka response with correlation id " + correlationId + " (expected: "
                    + oldest.correlationId() + ", answering " + oldest.describe() + ", the oldest request in flight)");
        }
        return inFlight.poll();
    }

    private ByteBuf capped(ChannelHandlerContext ctx, ByteBuf frame, InFlight request) {
        ByteBuf capped;
        try {
            capped = ApiVersionsCap.cap(ctx.alloc(), frame, request);
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        if (capped == null) {
            return frame;
        }
        frame.release();
        metrics.kafkaRewrite(InFlight.apiName(ApiKeys.API_VERSIONS.id));
        return capped;
    }

    private void rewrite(ChannelHandlerContext ctx, ByteBuf frame, InFlight request, Hook hook, List<Object> out) {
        int bodyOffset;
        ApiMessage body;
        List<NodeAddress> routable = new ArrayList<>();
        try {
            bodyOffset = ResponseBody.bodyOffset(frame, request, hook.api());
            try {
                body = ResponseBody.decode(frame, bodyOffset, hook.api(), request.apiVersion());
            } catch (RuntimeException e) {
                throw ResponseBody.unreadable(request, "body", e);
            }
            List<NodeAddress> found = new ArrayList<>();
            hook.collect().accept(body, found);
            for (NodeAddress address : found) {
                if (address.routable()) {
                    routable.add(address);
                }
            }
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        if (routable.isEmpty()) {
            output.add(out, frame);
            return;
        }
        output.add(ctx, out, new AddressRewrite(ctx.alloc(), metrics, routes, request, hook.api(), frame, bodyOffset, body,
                routable));
    }
}
