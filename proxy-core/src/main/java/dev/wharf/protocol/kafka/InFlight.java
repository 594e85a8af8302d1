package dev.wharf.protocol.kafka;

import java.util.Locale;
import org.apache.kafka.common.protocol.ApiKeys;

/** A request sent upstream whose response has not come back yet. */
record InFlight(int correlationId, short apiKey, short apiVersion) {

    /** The ApiKeys constant, or null for an API kafka-clients does not know (passed on opaque). */
    ApiKeys api() {
        return ApiKeys.hasId(apiKey) ? ApiKeys.forId(apiKey) : null;
    }

    /** How messages name it: {@code metadata v12 (correlation id 7)}. */
    String describe() {
        return describe(apiKey, apiVersion, correlationId);
    }

    static String describe(short apiKey, short apiVersion, int correlationId) {
        return apiName(apiKey) + " v" + apiVersion + " (correlation id " + correlationId + ")";
    }

    /** The metrics label: the ApiKeys name in lower case, e.g. {@code find_coordinator}; {@code api_key_1234} when unknown. */
    static String apiName(short apiKey) {
        return ApiKeys.hasId(apiKey) ? ApiKeys.forId(apiKey).name().toLowerCase(Locale.ROOT) : "api_key_" + apiKey;
    }
}
