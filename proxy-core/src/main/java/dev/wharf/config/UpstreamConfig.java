package dev.wharf.config;

import java.time.Duration;
import java.util.List;

/**
 * Where a listener's sessions go, and how endpoints are judged.
 *
 * @param ejectAfter      consecutive connect failures that eject an endpoint; 0 never ejects
 * @param ejectFor        how long the first ejection lasts; each further one in a row doubles it, up to 8 times
 * @param resolveInterval how often endpoints given by DNS name are resolved again
 */
public record UpstreamConfig(
        List<Endpoint> endpoints,
        Balance balance,
        HealthCheck healthCheck,
        OnUnhealthy onUnhealthy,
        int ejectAfter,
        Duration ejectFor,
        Duration resolveInterval) {
    public UpstreamConfig {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("endpoints: empty (expected: at least one host:port)");
        }
    }
}
