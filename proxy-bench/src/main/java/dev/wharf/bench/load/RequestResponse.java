package dev.wharf.bench.load;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.stats.LatencyRecorder;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.upstream.BenchUpstreamServer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Closed-loop request/response ("rr-closed"): each of {@code connections} echo connections sends a
 * message, waits until all of its bytes came back, and sends the next at once. Per message size
 * it reports the completed request rate and the round-trip latency percentiles (from each
 * request's actual send: in a closed loop nothing is due before the previous answer).
 */
public final class RequestResponse implements Scenario {
    /** Message sizes in bytes: a small command and a page-sized one. */
    public static final List<Integer> SIZES = List.of(64, 4096);
    /** How long the scenario waits past the end of the window for the last answers. */
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

    private final ConnectionCount connections;

    /** 64 connections, 8 in the smoke test. */
    public RequestResponse() {
        this(64, 8);
    }

    public RequestResponse(int connections, int smokeConnections) {
        this.connections = new ConnectionCount(connections, smokeConnections);
    }

    @Override
    public String name() {
        return "rr-closed";
    }

    @Override
    public List<Measurement> run(Target target, RunContext context) throws Exception {
        Samples samples = new Samples(target);
        for (int size : SIZES) {
            Outcome outcome = measure(target, context, size);
            String scenario = name() + "-" + Samples.sizeLabel(size);
            samples.add(scenario, "rate", "req/s", outcome.rate())
                    .add(scenario, "p50", "µs", outcome.latency().p50Micros())
                    .add(scenario, "p99", "µs", outcome.latency().p99Micros())
                    .add(scenario, "p99.9", "µs", outcome.latency().p999Micros());
        }
        return samples.list();
    }

    /** Completed requests per second in the measured window, and their latencies. */
    public record Outcome(double rate, LatencyRecorder latency) {
    }

    /** One warm-up plus measured window with messages of {@code size} bytes. */
    public Outcome measure(Target target, RunContext context, int size) throws Exception {
        int n = connections.in(context);
        List<Conn> conns = new ArrayList<>(n);
        List<Channel> channels = List.of();
        try (Payload payload = new Payload(size)) {
            for (int i = 0; i < n; i++) {
                conns.add(new Conn(payload, size));
            }
            channels = Connections.open(Connections.bootstrap(context, target), conns, 256);
            long start = System.nanoTime();
            long t0 = start + context.warmUp().toNanos();
            long t1 = t0 + context.measureFor().toNanos();
            for (Conn c : conns) {
                c.t0 = t0;
                c.t1 = t1;
                c.start();
            }
            LoadConnection.awaitAll(conns, t1 + DRAIN_TIMEOUT.toNanos(), name() + " against " + target.name());

            LoadConnection.requireEchoedInFull(conns, name() + " against " + target.name());
            long completed = 0;
            List<LatencyRecorder> recorders = new ArrayList<>(n);
            for (Conn c : conns) {
                completed += c.completed;
                recorders.add(c.latency);
            }
            return new Outcome(completed / Samples.seconds(context.measureFor()), LatencyRecorder.merged(recorders));
        } finally {
            Connections.closeAll(channels);
        }
    }

    /** One closed-loop connection: a request, its full echo, the next request. */
    private static final class Conn extends LoadConnection {
        private final Payload payload;
        private final int size;
        private final LatencyRecorder latency = new LatencyRecorder();
        long t0;
        long t1;
        private long sentAt;
        /** Echo bytes still due for the request in flight. */
        private int awaiting;
        private long completed;

        Conn(Payload payload, int size) {
            this.payload = payload;
            this.size = size;
        }

        @Override
        protected void onStart() {
            ByteBuf mode = ctx.alloc().directBuffer(1).writeByte(BenchUpstreamServer.ECHO);
            ctx.write(mode, ctx.voidPromise());
            sendRequest();
        }

        private void sendRequest() {
            awaiting = size;
            sentAt = System.nanoTime();
            send(payload.slice(size));
            ctx.flush();
        }

        @Override
        protected void onRead(ByteBuf buf, int bytes) {
            awaiting -= bytes;
            if (awaiting > 0) {
                return;
            }
            if (awaiting < 0) {
                fail("echo returned more bytes than were sent");
                return;
            }
            long now = System.nanoTime();
            // Requests answered inside the window count, whenever they were sent (at most one each).
            if (now - t0 >= 0 && now - t1 < 0) {
                latency.recordClosedLoop(sentAt, now);
                completed++;
            }
            if (now - t1 < 0) {
                sendRequest();
            } else {
                finish();
            }
        }
    }
}
