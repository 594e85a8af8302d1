package dev.wharf.protocol.kafka;

import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.protocol.NodeRoutes;
import io.netty.channel.ChannelHandler;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * The Kafka codec of one client session: its request handler (in the client channel's pipeline)
 * remembers each request that will be answered, and its response handler (in the upstream
 * channel's pipeline) matches the answers in order and rewrites every broker address they carry
 * to the proxy address {@link NodeRoutes} gives. Both handlers must run on one event loop: they
 * share the queue of requests in flight without locking.
 *
 * <p>Requests pass byte for byte. Responses pass as their original bytes unless they name
 * brokers (Metadata, FindCoordinator, DescribeCluster, and the KIP-951 leader endpoints of Produce,
 * Fetch, ShareFetch and ShareAcknowledge) or are ApiVersions answers (capped to the versions this
 * codec can decode); see {@link BrokerAddresses} for what is left alone and why.
 */
public final class KafkaCodec {
    /** Requests awaiting a response; Kafka clients default to 5 per connection. */
    static final int MAX_IN_FLIGHT = 1024;
    private final KafkaRequestDecoder requests;
    private final KafkaResponseDecoder responses;

    /**
     * @param listener      the listener's name (the session names it when it logs a violation)
     * @param maxFrameBytes the largest request or response frame accepted, size prefix excluded
     */
    public KafkaCodec(String listener, int maxFrameBytes, NodeRoutes routes, ListenerMetrics metrics) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(routes, "routes");
        Objects.requireNonNull(metrics, "metrics");
        if (maxFrameBytes < KafkaRequestDecoder.HEADER_BYTES) {
            throw new IllegalArgumentException(listener + ": maxFrameBytes: " + maxFrameBytes + " (expected: >= "
                    + KafkaRequestDecoder.HEADER_BYTES + ")");
        }
        ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
        requests = new KafkaRequestDecoder(maxFrameBytes, inFlight, MAX_IN_FLIGHT);
        responses = new KafkaResponseDecoder(maxFrameBytes, inFlight, routes, metrics);
    }

    /** Goes in the client channel's pipeline, in front of the relay handler. */
    public ChannelHandler requestHandler() {
        return requests;
    }

    /** Goes in the upstream channel's pipeline, in front of the relay handler. */
    public ChannelHandler responseHandler() {
        return responses;
    }
}
