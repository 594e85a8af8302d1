package dev.wharf.config;

import java.time.Duration;

/**
 * The {@code kafka} section of a {@code protocol = kafka} listener.
 *
 * @param advertisedHost  the host clients are told for every broker (the Service name in a cluster)
 * @param brokerPortBase  broker N gets proxy port {@code brokerPortBase + N}: the same on every replica
 * @param maxNodeId       the highest broker node id given a port
 * @param metadataRefresh how often Wharf asks the cluster for its brokers, binding their ports ahead of clients
 * @param releaseAfter    how long a broker absent from the cluster's metadata keeps its port
 * @param maxFrameSize    the largest request or response frame, in bytes
 */
public record KafkaSettings(String advertisedHost, int brokerPortBase, int maxNodeId, Duration metadataRefresh,
                            Duration releaseAfter, int maxFrameSize) {

    /** The proxy port of broker {@code nodeId}, or -1 when the id is out of range. */
    public int portOf(int nodeId) {
        return nodeId < 0 || nodeId > maxNodeId ? -1 : brokerPortBase + nodeId;
    }
}
