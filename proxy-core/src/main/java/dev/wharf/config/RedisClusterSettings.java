package dev.wharf.config;

import java.time.Duration;
import java.util.Map;

/**
 * The {@code redis-cluster} section of a {@code protocol = redis-cluster} listener.
 *
 * @param advertisedHost the host clients are told for every node (the Service name in a cluster)
 * @param nodePorts      each upstream node, at the address the cluster reports for it, to its proxy port
 * @param dynamicPorts   ports for nodes missing from {@code nodePorts}, or null: none
 * @param releaseAfter   how long a dynamic port stays bound after its node was last seen
 * @param maxReplySize   the largest topology reply (CLUSTER SLOTS, SHARDS, NODES) rewritten, in bytes
 */
public record RedisClusterSettings(String advertisedHost, Map<Endpoint, Integer> nodePorts, PortRange dynamicPorts,
                                   Duration releaseAfter, int maxReplySize) {
    public RedisClusterSettings {
        nodePorts = Map.copyOf(nodePorts);
    }

    /** Ports {@code first} to {@code last}, both included. */
    public record PortRange(int first, int last) {
        @Override
        public String toString() {
            return first + "-" + last;
        }
    }
}
