package dev.wharf.config;

import dev.wharf.access.AllowList;
import java.time.Duration;
import java.util.Objects;

/**
 * One listener, with the defaults of {@code wharf.defaults} already applied.
 * Records compare by value, so an unchanged listener compares equal across reloads.
 * {@code kafka}, {@code redisCluster} and {@code http} are set for their protocol only, null otherwise.
 */
public record ListenerConfig(
        String name,
        String host,
        int port,
        Protocol protocol,
        AllowList allow,
        UpstreamConfig upstream,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration drainTimeout,
        int maxConnections,
        int maxConnectionsPerSource,
        boolean splice,
        ProxyProtocol proxyProtocol,
        AllowList trustedProxies,
        KafkaSettings kafka,
        RedisClusterSettings redisCluster,
        HttpSettings http) {

    /**
     * Whether the listening sockets must change (a new bind), as opposed to what they do. A
     * protocol's node ports and advertised addresses count as sockets: clients hold on to them.
     */
    public boolean sameSocket(ListenerConfig other) {
        return host.equals(other.host) && port == other.port && protocol == other.protocol
                && Objects.equals(kafka, other.kafka) && Objects.equals(redisCluster, other.redisCluster);
    }

}
