package dev.wharf.config;

import java.util.List;

/** Where a listener's sessions go. */
public record UpstreamConfig(List<Endpoint> endpoints, Balance balance) {
    public UpstreamConfig {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("endpoints: empty (expected: at least one host:port)");
        }
    }
}
