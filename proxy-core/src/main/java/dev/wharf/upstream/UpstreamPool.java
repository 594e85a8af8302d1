package dev.wharf.upstream;

import dev.wharf.config.Balance;
import dev.wharf.config.Endpoint;
import dev.wharf.config.UpstreamConfig;
import dev.wharf.metrics.ListenerMetrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A listener's upstream endpoints and the balancing rule that orders them for a new session.
 * Immutable in its membership: a changed upstream table builds a new pool that adopts the
 * {@link EndpointState}s of endpoints it keeps.
 */
public final class UpstreamPool implements AutoCloseable {
    /** Connect attempts per session, each on a different endpoint. */
    static final int MAX_ATTEMPTS = 3;

    private final Balance balance;
    private final List<EndpointState> endpoints;
    private final AtomicInteger next = new AtomicInteger();

    private UpstreamPool(Balance balance, List<EndpointState> endpoints) {
        this.balance = balance;
        this.endpoints = List.copyOf(endpoints);
    }

    /**
     * Builds the pool for {@code config}, adopting the state of endpoints {@code previous} had and
     * dropping the health gauges of those it lost. Resolves DNS names, so call it off the event loops.
     */
    public static UpstreamPool create(UpstreamConfig config, UpstreamPool previous, ListenerMetrics metrics) {
        Map<Endpoint, EndpointState> old = new HashMap<>();
        if (previous != null) {
            previous.endpoints.forEach(e -> old.put(e.endpoint(), e));
        }
        List<EndpointState> states = new ArrayList<>();
        for (Endpoint endpoint : config.endpoints()) {
            EndpointState state = old.remove(endpoint);
            if (state == null) {
                state = new EndpointState(endpoint);
                state.healthGauge = metrics.endpointHealth(endpoint.address(), state::healthy);
            }
            state.resolve();
            states.add(state);
        }
        old.values().forEach(EndpointState::retire);
        return new UpstreamPool(config.balance(), states);
    }

    public List<EndpointState> endpoints() {
        return endpoints;
    }

    /** The endpoints to try for a new session, best first, at most {@link #MAX_ATTEMPTS}. */
    public List<EndpointState> candidates() {
        List<EndpointState> usable = new ArrayList<>(endpoints.size());
        for (EndpointState e : endpoints) {
            if (e.healthy() && e.resolved() != null) {
                usable.add(e);
            }
        }
        switch (balance) {
            case ROUND_ROBIN -> {
                if (!usable.isEmpty()) {
                    Collections.rotate(usable, -Math.floorMod(next.getAndIncrement(), usable.size()));
                }
            }
            case LEAST_CONNECTIONS -> usable.sort(Comparator.comparingInt(EndpointState::active));
            case FIRST_HEALTHY -> { }
        }
        return usable.size() > MAX_ATTEMPTS ? usable.subList(0, MAX_ATTEMPTS) : usable;
    }

    /** Retires every endpoint: the listener is gone. */
    @Override
    public void close() {
        endpoints.forEach(EndpointState::retire);
    }
}
