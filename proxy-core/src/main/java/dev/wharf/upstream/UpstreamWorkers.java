package dev.wharf.upstream;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The threads that upstream pools run health checks and DNS lookups on, so that no relay event
 * loop ever blocks on them: one thread keeps time, and blocking work runs on a pool that grows to
 * one thread per check in flight (each pool runs at most one check per endpoint at a time).
 */
public final class UpstreamWorkers implements AutoCloseable {
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("wharf-health-timer", true));
    private final ExecutorService work = Executors.newCachedThreadPool(new DefaultThreadFactory("wharf-health", true));
    private final Resolver resolver;

    public UpstreamWorkers(Resolver resolver) {
        this.resolver = resolver;
    }

    Resolver resolver() {
        return resolver;
    }

    /** Runs {@code task} on a worker thread after {@code delayNanos}. */
    ScheduledFuture<?> later(Runnable task, long delayNanos) {
        return timer.schedule(() -> work.execute(task), delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs {@code task} on a worker thread now and then every {@code period}, until cancelled. */
    public ScheduledFuture<?> every(Runnable task, java.time.Duration period) {
        return timer.scheduleWithFixedDelay(() -> work.execute(task), 0, period.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The worker threads, for blocking work such as binding a port. */
    public Executor executor() {
        return work;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        work.shutdownNow();
    }
}
