package dev.wharf.admin;

import dev.wharf.config.Endpoint;
import dev.wharf.config.ListenerConfig;
import dev.wharf.config.WharfConfig;
import dev.wharf.relay.ListenerState;
import dev.wharf.server.WharfServer;
import dev.wharf.upstream.EndpointState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON shapes of {@code /config} and {@code /upstreams}. Keys mirror the HOCON names, so what
 * {@code /config} shows can be pasted back into a config file. Nothing secret is held in the
 * config today; anything that ever is must be left out here.
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
        out.put("upstream", Map.of(
                "balance", l.upstream().balance().configName(),
                "endpoints", l.upstream().endpoints().stream().map(AdminViews::endpoint).toList()));
        out.put("connect-timeout", l.connectTimeout().toString());
        out.put("idle-timeout", l.idleTimeout().toString());
        out.put("drain-timeout", l.drainTimeout().toString());
        out.put("max-connections", l.maxConnections());
        out.put("max-connections-per-source", l.maxConnectionsPerSource());
        out.put("splice", l.splice());
        out.put("proxy-protocol", l.proxyProtocol().configName());
        out.put("trusted-proxies", l.trustedProxies().asStrings());
        return out;
    }

    private static Object endpoint(Endpoint e) {
        return e.checkPort() == 0 ? e.address() : Map.of("address", e.address(), "check-port", e.checkPort());
    }

    static Map<String, Object> upstreams(Map<String, ListenerState> listeners) {
        Map<String, Object> out = new LinkedHashMap<>();
        listeners.forEach((name, state) -> {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("balance", state.config().upstream().balance().configName());
            l.put("active-sessions", state.sessions().size());
            l.put("endpoints", state.pool().endpoints().stream().map(AdminViews::endpointState).toList());
            out.put(name, l);
        });
        return Map.of("listeners", out);
    }

    private static Map<String, Object> endpointState(EndpointState e) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("address", e.endpoint().address());
        out.put("resolved", e.resolved() == null ? null : e.resolved().getAddress().getHostAddress());
        out.put("healthy", e.healthy());
        out.put("active-sessions", e.active());
        return out;
    }
}
