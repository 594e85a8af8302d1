package dev.wharf.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every metric Wharf exports, named in one place. Micrometer names use dots; the Prometheus
 * registry renders {@code wharf.connections} as {@code wharf_connections_total} and so on.
 */
public final class WharfMetrics implements AutoCloseable {
    static final String CONNECTIONS = "wharf.connections";
    static final String CONNECTIONS_ACTIVE = "wharf.connections.active";
    static final String BYTES = "wharf.bytes";
    static final String SPLICED_BYTES = "wharf.spliced.bytes";
    static final String UPSTREAM_CONNECT = "wharf.upstream.connect";
    static final String SESSION = "wharf.session";
    static final String UPSTREAM_HEALTHY = "wharf.upstream.healthy";
    static final String HEALTH_CHECKS = "wharf.health.checks";
    static final String UPSTREAM_EJECTIONS = "wharf.upstream.ejections";
    static final String KAFKA_REWRITES = "wharf.kafka.rewrites";
    static final String REDIS_REDIRECTS = "wharf.redis.redirects";
    static final String REDIS_REWRITES = "wharf.redis.rewrites";
    static final String PROTOCOL_ERRORS = "wharf.protocol.errors";
    static final String HTTP_REQUESTS = "wharf.http.requests";
    static final String HTTP_REQUEST = "wharf.http.request";
    static final String CONFIG_RELOADS = "wharf.config.reloads";
    static final String CONFIG_GENERATION = "wharf.config.generation";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, ListenerMetrics> listeners = new ConcurrentHashMap<>();
    private final Counter reloadsApplied;
    private final Counter reloadsRejected;
    private final AtomicLong generation = new AtomicLong();
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();

    public WharfMetrics() {
        reloadsApplied = Counter.builder(CONFIG_RELOADS).tag("outcome", "applied")
                .description("Config updates applied").register(registry);
        reloadsRejected = Counter.builder(CONFIG_RELOADS).tag("outcome", "rejected")
                .description("Config updates rejected whole; the last good config kept serving").register(registry);
        Gauge.builder(CONFIG_GENERATION, generation, AtomicLong::get)
                .description("Generation number of the config in force").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            new NettyAllocatorMetrics(provider).bindTo(registry);
        }
    }

    /** The meters of one listener; the same object for a name across reloads. */
    public ListenerMetrics listener(String name) {
        return listeners.computeIfAbsent(name, n -> new ListenerMetrics(registry, n));
    }

    public void configApplied(long newGeneration) {
        generation.set(newGeneration);
        reloadsApplied.increment();
    }

    public void configRejected() {
        reloadsRejected.increment();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
