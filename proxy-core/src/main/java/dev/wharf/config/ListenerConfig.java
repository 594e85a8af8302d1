package dev.wharf.config;

import dev.wharf.access.AllowList;
import java.time.Duration;

/**
 * One listener, with the defaults of {@code wharf.defaults} already applied.
 * Records compare by value, so an unchanged listener compares equal across reloads.
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
        AllowList trustedProxies) {

    /** Whether the listening socket itself must change (a new bind), as opposed to what it does. */
    public boolean sameSocket(ListenerConfig other) {
        return host.equals(other.host) && port == other.port && protocol == other.protocol;
    }
}
