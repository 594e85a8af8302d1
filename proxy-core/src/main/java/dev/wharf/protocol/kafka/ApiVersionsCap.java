package dev.wharf.protocol.kafka;

import dev.wharf.protocol.kafka.BrokerAddresses.Hook;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Offers the client only API versions this codec can follow: every api's max capped at what
 * kafka-clients knows (for rewritten APIs, at what the generated class decodes), and APIs
 * kafka-clients does not know dropped, since a newer broker's API might name brokers.
 */
final class ApiVersionsCap {
    private ApiVersionsCap() {
    }

    /** The versions of {@code api} this codec can follow: {@code [lowest, highest]}; empty when lowest > highest. */
    static short[] followable(ApiKeys api) {
        Hook hook = BrokerAddresses.hook(api);
        if (hook == null) {
            return new short[] {0, api.latestVersion()};
        }
        // below sinceVersion the responses carry no address and pass untouched, whatever the class decodes
        short lowest = hook.sinceVersion() >= hook.lowest() ? 0 : hook.lowest();
        return new short[] {lowest, hook.highest()};
    }

    /**
     * The capped frame, or null when nothing needed capping. The header is always v0; a broker that
     * does not support the request's version answers in v0 (as kafka-clients' ApiVersionsResponse
     * reads it), so a body that does not read at the request's version is read at v0.
     */
    static ByteBuf cap(ByteBufAllocator alloc, ByteBuf frame, InFlight request) {
        int bodyOffset = ResponseBody.bodyOffset(frame, request, ApiKeys.API_VERSIONS);
        short version = request.apiVersion();
        ApiMessage body;
        try {
            body = ResponseBody.decode(frame, bodyOffset, ApiKeys.API_VERSIONS, version);
        } catch (RuntimeException e) {
            if (version == 0) {
                throw ResponseBody.unreadable(request, "body", e);
            }
            version = 0;
            try {
                body = ResponseBody.decode(frame, bodyOffset, ApiKeys.API_VERSIONS, version);
            } catch (RuntimeException v0) {
                v0.addSuppressed(e);
                throw ResponseBody.unreadable(request, "body (at v" + request.apiVersion() + " nor at v0)", v0);
            }
        }
        if (!capAll(((ApiVersionsResponseData) body).apiKeys())) {
            return null;
        }
        return ResponseBody.encode(alloc, frame, bodyOffset, body, version);
    }

    private static boolean capAll(ApiVersionsResponseData.ApiVersionCollection offered) {
        List<ApiVersion> dropped = new ArrayList<>();
        boolean changed = false;
        for (ApiVersion offer : offered) {
            if (!ApiKeys.hasId(offer.apiKey())) {
                dropped.add(offer);
                continue;
            }
            short[] followable = followable(ApiKeys.forId(offer.apiKey()));
            short min = (short) Math.max(offer.minVersion(), followable[0]);
            short max = (short) Math.min(offer.maxVersion(), followable[1]);
            if (min > max) {
                dropped.add(offer);
            } else if (min != offer.minVersion() || max != offer.maxVersion()) {
                offer.setMinVersion(min).setMaxVersion(max);
                changed = true;
            }
        }
        dropped.forEach(offered::remove);
        return changed || !dropped.isEmpty();
    }
}
