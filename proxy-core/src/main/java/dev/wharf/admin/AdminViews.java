package dev.wharf.admin;

import dev.wharf.config.Endpoint;
import dev.wharf.config.HealthCheck;
import dev.wharf.config.HttpSettings;
import dev.wharf.config.KafkaSettings;
import dev.wharf.config.ListenerConfig;
import dev.wharf.config.RedisClusterSettings;
import dev.wharf.config.UpstreamConfig;
import dev.wharf.config.WharfConfig;
import dev.wharf.relay.ListenerState;
import dev.wharf.server.WharfServer;
import dev.wharf.upstream.EndpointState;
import dev.wharf.upstream.UpstreamPool;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON shapes of {@code /config} and {@code /upstreams}. Keys mirror the HOCON names, so what
 * {@code /config} shows can be pasted back into a config file. The config holds no secret: a
 * password is named by its file and read only when used.
 */
final class AdminViews {
    static final List<String> ENDPOINTS = List.of("/healthz", "/readyz", "/metrics", "/config", "/upstreams");

    private AdminViews() {
    }

    static Map<String, Object> config(WharfServer.Applied applied) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (applied == null) {
            out.put("generation", 0);
            return out;
        }
        WharfConfig config = applied.config();
        out.put("generation", applied.generation());
        out.put("source", applied.source());
        out.put("applied-at", applied.appliedAt().toString());
        Map<String, Object> wharf = new LinkedHashMap<>();
        wharf.put("admin", Map.of("host", config.admin().host(), "port", config.admin().port()));
        wharf.put("runtime", Map.of("transport", config.runtime().transport().configName(),
                "event-loops", config.runtime().eventLoops()));
        wharf.put("shutdown-delay", config.shutdownDelay().toString());
        Map<String, Object> listeners = new LinkedHashMap<>();
        config.listeners().forEach((name, l) -> listeners.put(name, listener(l)));
        wharf.put("listeners", listeners);
        out.put("wharf", wharf);
        return out;
    }

    private static Map<String, Object> listener(ListenerConfig l) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("host", l.host());
        out.put("port", l.port());
        out.put("protocol", l.protocol().configName());
        out.put("allow", l.allow().asStrings());
        out.put("upstream", upstream(l.upstream()));
        out.put("connect-timeout", l.connectTimeout().toString());
        out.put("idle-timeout", l.idleTimeout().toString());
        out.put("drain-timeout", l.drainTimeout().toString());
        out.put("max-connections", l.maxConnections());
        out.put("max-connections-per-source", l.maxConnectionsPerSource());
        out.put("splice", l.splice());
        out.put("proxy-protocol", l.proxyProtocol().configName());
        out.put("trusted-proxies", l.trustedProxies().asStrings());
        if (l.kafka() != null) {
            KafkaSettings k = l.kafka();
            Map<String, Object> kafka = new LinkedHashMap<>();
            kafka.put("advertised-host", k.advertisedHost());
            kafka.put("broker-port-base", k.brokerPortBase());
            kafka.put("max-node-id", k.maxNodeId());
            kafka.put("metadata-refresh", k.metadataRefresh().toString());
            kafka.put("release-after", k.releaseAfter().toString());
            kafka.put("max-frame-size", k.maxFrameSize());
            out.put("kafka", kafka);
        }
        if (l.redisCluster() != null) {
            RedisClusterSettings r = l.redisCluster();
            Map<String, Object> redis = new LinkedHashMap<>();
            redis.put("advertised-host", r.advertisedHost());
            Map<String, Object> nodePorts = new TreeMap<>();
            r.nodePorts().forEach((node, port) -> nodePorts.put(node.address(), port));
            redis.put("node-ports", nodePorts);
            if (r.dynamicPorts() != null) {
                redis.put("dynamic-ports", r.dynamicPorts().toString());
            }
            redis.put("release-after", r.releaseAfter().toString());
            redis.put("max-reply-size", r.maxReplySize());
            out.put("redis-cluster", redis);
        }
        if (l.http() != null) {
            HttpSettings h = l.http();
            Map<String, Object> http = new LinkedHashMap<>();
            http.put("host-header", h.hostHeader());
            http.put("retry-methods", h.retryMethods());
            // The file's name only: its content is a credential.
            http.put("authorization-file", h.authorizationFile() == null ? "" : h.authorizationFile());
            http.put("response-timeout", h.responseTimeout().toString());
            http.put("max-initial-line", h.maxInitialLine());
            http.put("max-header-size", h.maxHeaderSize());
            http.put("max-headers", h.maxHeaders());
            http.put("pool-idle-timeout", h.poolIdleTimeout().toString());
            http.put("max-idle-per-endpoint", h.maxIdlePerEndpoint());
            out.put("http", http);
        }
        return out;
    }

    private static Map<String, Object> upstream(UpstreamConfig u) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("endpoints", u.endpoints().stream().map(AdminViews::endpoint).toList());
        out.put("balance", u.balance().configName());
        out.put("health-check", healthCheck(u.healthCheck()));
        out.put("on-unhealthy", u.onUnhealthy().configName());
        out.put("eject-after", u.ejectAfter());
        out.put("eject-for", u.ejectFor().toString());
        out.put("resolve-interval", u.resolveInterval().toString());
        return out;
    }

    /** Every key, so the output can be pasted back; the password-file's name is shown, never its content. */
    private static Map<String, Object> healthCheck(HealthCheck c) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", c.type().configName());
        out.put("interval", c.interval().toString());
        out.put("down-interval", c.downInterval().toString());
        out.put("timeout", c.timeout().toString());
        out.put("rise", c.rise());
        out.put("fall", c.fall());
        out.put("jitter", c.jitter().toString());
        out.put("port", c.port());
        out.put("method", c.method());
        out.put("path", c.path());
        out.put("expect-status", c.expectStatus());
        out.put("expect-body", c.expectBody());
        out.put("role", c.role().configName());
        out.put("user", c.user());
        out.put("database", c.database());
        out.put("password-file", c.passwordFile() == null ? "" : c.passwordFile());
        return out;
    }

    private static Object endpoint(Endpoint e) {
        return e.checkPort() == 0 ? e.address() : Map.of("address", e.address(), "check-port", e.checkPort());
    }

    static Map<String, Object> upstreams(Map<String, ListenerState> listeners,
                                         Map<String, List<WharfServer.NodePortView>> nodePorts) {
        Map<String, Object> out = new LinkedHashMap<>();
        listeners.forEach((name, state) -> {
            Map<String, Object> l = new LinkedHashMap<>();
            UpstreamPool pool = state.pool();
            l.put("balance", pool.config().balance().configName());
            l.put("health-check", pool.config().healthCheck().type().configName());
            l.put("active-sessions", state.sessions().size());
            l.put("endpoints", pool.endpoints().stream().map(AdminViews::endpointState).toList());
            if (!pool.resolveErrors().isEmpty()) {
                l.put("resolve-errors", pool.resolveErrors());
            }
            List<WharfServer.NodePortView> nodes = nodePorts.get(name);
            if (nodes != null) {
                l.put("node-ports", nodes.stream().map(n -> {
                    Map<String, Object> node = new LinkedHashMap<>();
                    node.put("node", n.node());
                    node.put("port", n.port());
                    node.put("upstream", n.upstream());
                    node.put("configured", n.configured());
                    node.put("active-sessions", n.activeSessions());
                    return node;
                }).toList());
            }
            out.put(name, l);
        });
        return Map.of("listeners", out);
    }

    private static Map<String, Object> endpointState(EndpointState e) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", e.id());
        out.put("address", e.endpoint().address());
        out.put("resolved", e.resolved() == null ? null : e.resolved().getAddress().getHostAddress());
        out.put("healthy", e.routable());
        out.put("health", e.health().name().toLowerCase(Locale.ROOT));
        out.put("since", e.since().toString());
        out.put("last-check", e.lastCheck());
        out.put("ejected", e.ejected());
        out.put("active-sessions", e.active());
        return out;
    }
}
