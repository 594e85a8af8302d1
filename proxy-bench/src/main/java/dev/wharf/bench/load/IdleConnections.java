package dev.wharf.bench.load;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.upstream.BenchUpstreamServer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Memory per idle connection ("idle"): opens N echo connections through the target, proves each
 * is relayed with one 16-byte round trip, holds them all, and reports how much the target's
 * resident memory (and direct buffer memory, where it reports it) grew per connection.
 *
 * <p>N defaults to 9500 (2000 in the quick run, 50 in the smoke test): the hard limit here is
 * 20000 descriptors per process, and a proxy holding N client and N upstream sockets needs 2N of
 * them plus its own.
 */
public final class IdleConnections implements Scenario {
    public static final int FULL = 9500;
    public static final int QUICK = 2000;
    public static final int SMOKE = 50;
    private static final int PROBE_SIZE = 16;
    /** Connects in flight at once: stays well under a proxy's accept backlog (socat's default is 5; ours 512+). */
    private static final int MAX_CONNECTS_IN_FLIGHT = 128;

    private final int fixedConnections;

    /** N from the run: {@value #FULL}, {@value #QUICK} when quick, {@value #SMOKE} in the smoke test. */
    public IdleConnections() {
        this.fixedConnections = 0;
    }

    /** Always {@code connections}, whatever the run. */
    public IdleConnections(int connections) {
        if (connections < 1) {
            throw new IllegalArgumentException("connections must be positive");
        }
        this.fixedConnections = connections;
    }

    @Override
    public String name() {
        return "idle";
    }

    /** The N this scenario uses in {@code context}. */
    public int connections(RunContext context) {
        if (fixedConnections > 0) {
            return fixedConnections;
        }
        return context.smoke() ? SMOKE : context.quick() ? QUICK : FULL;
    }

    /**
     * How long the held connections settle before memory is read: the warm-up, within 200 ms..2 s
     * (long enough for the proxy's lazily allocated per-connection state, short next to a round).
     */
    static Duration settle(RunContext context) {
        Duration w = context.warmUp();
        Duration lo = Duration.ofMillis(200);
        Duration hi = Duration.ofSeconds(2);
        return w.compareTo(lo) < 0 ? lo : w.compareTo(hi) > 0 ? hi : w;
    }

    @Override
    public List<Measurement> run(Target target, RunContext context) throws Exception {
        int n = connections(context);
        long memoryBefore = target.memoryBytes();
        long directBefore = target.directMemoryBytes();
        List<Probe> probes = new ArrayList<>(n);
        List<Channel> channels = List.of();
        try (Payload probe = Payload.withMode(BenchUpstreamServer.ECHO, PROBE_SIZE)) {
            for (int i = 0; i < n; i++) {
                probes.add(new Probe(probe));
            }
            channels = Connections.open(Connections.bootstrap(context, target), probes, MAX_CONNECTS_IN_FLIGHT);
            probes.forEach(LoadConnection::start);
            try {
                CompletableFuture.allOf(probes.stream().map(p -> p.echoed).toArray(CompletableFuture[]::new))
                        .get(60, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new IllegalStateException("idle against " + target.name() + ": round trips not done in 60 s");
            }
            for (Probe p : probes) {
                if (p.failure() != null || !p.ctx.channel().isActive()) {
                    throw new IllegalStateException("idle against " + target.name()
                            + ": a connection was not relayed: " + p.failure());
                }
            }
            Thread.sleep(settle(context).toMillis());
            long memoryAfter = target.memoryBytes();
            long directAfter = target.directMemoryBytes();
            long dropped = channels.stream().filter(c -> !c.isActive()).count();
            if (dropped > 0) { // an idle timeout, say: the memory read would not be for N connections
                throw new IllegalStateException("idle against " + target.name() + ": " + dropped + " of " + n
                        + " held connections were closed while settling");
            }

            Samples samples = new Samples(target)
                    .add(name(), "connections", "count", n)
                    .add(name(), "memory-per-conn", "bytes", (double) (memoryAfter - memoryBefore) / n)
                    .add(name(), "memory-before", "MiB", memoryBefore / Samples.MIB)
                    .add(name(), "memory-after", "MiB", memoryAfter / Samples.MIB);
            if (directBefore >= 0 && directAfter >= 0) {
                samples.add(name(), "direct-per-conn", "bytes", (double) (directAfter - directBefore) / n);
            }
            return samples.list();
        } finally {
            probes.forEach(p -> p.done = true); // closing them now is the plan, not a failure
            Connections.closeAll(channels);
        }
    }

    /** One held connection: 'E' and 16 bytes out, the 16 bytes back, then nothing. */
    private static final class Probe extends LoadConnection {
        private final Payload probe;
        final CompletableFuture<Void> echoed = new CompletableFuture<>();

        Probe(Payload probe) {
            this.probe = probe;
        }

        @Override
        protected void onStart() {
            ByteBuf request = probe.slice();
            sent += PROBE_SIZE; // the mode byte is not echoed
            ctx.writeAndFlush(request, ctx.voidPromise());
        }

        @Override
        protected void onRead(ByteBuf buf, int bytes) {
            if (received > sent) {
                fail("echo returned more bytes than were sent");
            } else if (received == sent) {
                echoed.complete(null);
            }
        }

        @Override
        protected void onClosed() {
            super.onClosed();
            echoed.complete(null); // a failure, recorded by super if unplanned; the waiter checks it
        }
    }
}
