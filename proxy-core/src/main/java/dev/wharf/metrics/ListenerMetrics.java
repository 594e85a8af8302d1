package dev.wharf.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;

/** The per-listener meters, looked up once so the relay path never searches the registry. */
public final class ListenerMetrics {
    private final MeterRegistry registry;
    private final String listener;
    public final Counter accepted;
    public final Counter denied;
    public final Counter limited;
    public final Counter upstreamUnavailable;
    public final Counter proxyProtocolError;
    public final Counter bytesToUpstream;
    public final Counter bytesToClient;
    public final Counter splicedToUpstream;
    public final Counter splicedToClient;
    public final Timer upstreamConnect;
    private final Counter checksPassed;
    private final Counter checksFailed;
    private final Counter ejections;
    public final Timer session;
    private final Map<String, Counter> protocolCounters = new ConcurrentHashMap<>();
    private static final List<String> STANDARD_METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
            "OPTIONS", "TRACE", "PATCH");
    private static final int STATUS_CLASSES = 6;
    /** By method (the standard ones, then other) and status class (status / 100), made at first use. */
    private final AtomicReferenceArray<Counter> httpRequests =
            new AtomicReferenceArray<>((STANDARD_METHODS.size() + 1) * STATUS_CLASSES);
    private final Timer httpRequest;
    /** Live sessions; the relay increments and decrements it, the gauge reads it. */
    public final AtomicInteger active = new AtomicInteger();

    ListenerMetrics(MeterRegistry registry, String listener) {
        this.registry = registry;
        this.listener = listener;
        accepted = connections("accepted");
        denied = connections("denied");
        limited = connections("limited");
        upstreamUnavailable = connections("upstream_unavailable");
        proxyProtocolError = connections("proxy_protocol_error");
        bytesToUpstream = bytes("to_upstream");
        bytesToClient = bytes("to_client");
        splicedToUpstream = spliced("to_upstream");
        splicedToClient = spliced("to_client");
        checksPassed = checks("passed");
        checksFailed = checks("failed");
        ejections = Counter.builder(WharfMetrics.UPSTREAM_EJECTIONS).tag("listener", listener)
                .description("Endpoints ejected after failed connects in a row").register(registry);
        upstreamConnect = Timer.builder(WharfMetrics.UPSTREAM_CONNECT).tag("listener", listener)
                .description("Time to open the upstream connection")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
        session = Timer.builder(WharfMetrics.SESSION).tag("listener", listener)
                .description("Session lifetime, from accept to close")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofHours(24)).register(registry);
        httpRequest = Timer.builder(WharfMetrics.HTTP_REQUEST).tag("listener", listener)
                .description("HTTP request latency on an http listener, from the request head to the end of the response")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10)).register(registry);
        Gauge.builder(WharfMetrics.CONNECTIONS_ACTIVE, active, AtomicInteger::get).tag("listener", listener)
                .description("Sessions open now").register(registry);
    }

    private Counter connections(String outcome) {
        return Counter.builder(WharfMetrics.CONNECTIONS).tag("listener", listener).tag("outcome", outcome)
                .description("Client connections by what became of them").register(registry);
    }

    private Counter checks(String result) {
        return Counter.builder(WharfMetrics.HEALTH_CHECKS).tag("listener", listener).tag("result", result)
                .description("Active health checks run, by result").register(registry);
    }

    public void healthCheck(boolean passed) {
        (passed ? checksPassed : checksFailed).increment();
    }

    public void ejected() {
        ejections.increment();
    }

    /** A Kafka response whose node addresses were rewritten; {@code api} is e.g. {@code metadata}, {@code find_coordinator}. */
    public void kafkaRewrite(String api) {
        protocolCounter(WharfMetrics.KAFKA_REWRITES, "api", api, "Kafka responses whose broker addresses were rewritten, by API").increment();
    }

    /** A Redis Cluster redirect passed to a client with its address rewritten; {@code kind} is {@code moved} or {@code ask}. */
    public void redisRedirect(String kind) {
        protocolCounter(WharfMetrics.REDIS_REDIRECTS, "kind", kind, "Redis Cluster MOVED and ASK redirects rewritten to proxy addresses").increment();
    }

    /** A Redis Cluster topology reply rewritten; {@code command} is e.g. {@code cluster_slots}. */
    public void redisRewrite(String command) {
        protocolCounter(WharfMetrics.REDIS_REWRITES, "command", command, "Redis Cluster topology replies (CLUSTER SLOTS, SHARDS, NODES) rewritten to proxy addresses").increment();
    }

    /** A session closed for a malformed frame; {@code side} is {@code client} or {@code upstream}. */
    public void protocolError(String side) {
        protocolCounter(WharfMetrics.PROTOCOL_ERRORS, "side", side, "Sessions closed because one side broke the listener's protocol (a malformed or oversized frame)").increment();
    }

    /**
     * One answered request of an http listener: counted by method (the standard ones, else
     * {@code other}) and status class, and timed from its head to the end of its response.
     */
    public void httpRequest(String method, int status, long nanos) {
        int methodIndex = STANDARD_METHODS.indexOf(method);
        if (methodIndex < 0) {
            methodIndex = STANDARD_METHODS.size();
        }
        int statusClass = Math.min(Math.max(status / 100, 0), STATUS_CLASSES - 1);
        int slot = methodIndex * STATUS_CLASSES + statusClass;
        Counter counter = httpRequests.get(slot);
        if (counter == null) {
            String methodLabel = methodIndex < STANDARD_METHODS.size() ? method : "other";
            // Registering the same meter twice returns the first, so a race here counts into one counter.
            counter = Counter.builder(WharfMetrics.HTTP_REQUESTS)
                    .tag("listener", listener).tag("method", methodLabel).tag("code_class", statusClass + "xx")
                    .description("HTTP requests answered, by method and status class (Wharf's own errors included)")
                    .register(registry);
            httpRequests.set(slot, counter);
        }
        counter.increment();
        httpRequest.record(nanos, TimeUnit.NANOSECONDS);
    }

    private Counter protocolCounter(String name, String tag, String value, String description) {
        return protocolCounters.computeIfAbsent(name + '\0' + value, k -> Counter.builder(name).tag("listener", listener)
                .tag(tag, value).description(description).register(registry));
    }

    private Counter bytes(String direction) {
        return Counter.builder(WharfMetrics.BYTES).tag("listener", listener).tag("direction", direction)
                .baseUnit("bytes").description("Bytes relayed").register(registry);
    }

    private Counter spliced(String direction) {
        return Counter.builder(WharfMetrics.SPLICED_BYTES).tag("listener", listener).tag("direction", direction)
                .baseUnit("bytes").description("Bytes relayed by zero-copy splice, also counted in wharf_bytes_total")
                .register(registry);
    }

    /** A 0/1 gauge for one endpoint of this listener; close it when the endpoint leaves the table. */
    public AutoCloseable endpointHealth(String endpoint, BooleanSupplier healthy) {
        Gauge gauge = Gauge.builder(WharfMetrics.UPSTREAM_HEALTHY, healthy, h -> h.getAsBoolean() ? 1 : 0)
                .tag("listener", listener).tag("endpoint", endpoint)
                .description("1 while the endpoint gets new sessions: resolved, passing its health check, not ejected").strongReference(true).register(registry);
        return () -> registry.remove(gauge);
    }
}
