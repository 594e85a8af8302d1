package dev.wharf.bench.load;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.stats.LatencyRecorder;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.upstream.BenchUpstreamServer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Open-loop request/response ("rr-open"): requests follow a fixed schedule whatever the answers
 * do, at the total rate {@link RunContext#openLoopRate()} gives for the message size (sizes
 * without a rate are skipped). Each of the connections sends every {@code connections / rate}
 * seconds, the connections staggered evenly, so the offered load is smooth. An answer that lags
 * does not delay the schedule: later requests are pipelined behind it, and every latency is
 * measured from the request's <em>intended</em> send time (see {@link LatencyRecorder}).
 */
public final class OpenLoop implements Scenario {
    private final ConnectionCount connections;

    /** 64 connections, 8 in the smoke test. */
    public OpenLoop() {
        this(64, 8);
    }

    public OpenLoop(int connections, int smokeConnections) {
        this.connections = new ConnectionCount(connections, smokeConnections);
    }

    @Override
    public String name() {
        return "rr-open";
    }

    @Override
    public List<Measurement> run(Target target, RunContext context) throws Exception {
        Samples samples = new Samples(target);
        for (int size : RequestResponse.SIZES) {
            Double rate = context.openLoopRate().get(size);
            if (rate == null || !(rate > 0)) {
                continue;
            }
            Outcome outcome = measure(target, context, size, rate);
            String scenario = name() + "-" + Samples.sizeLabel(size);
            samples.add(scenario, "offered-rate", "req/s", rate)
                    .add(scenario, "achieved-rate", "req/s", outcome.achievedRate())
                    .add(scenario, "p50", "µs", outcome.latency().p50Micros())
                    .add(scenario, "p99", "µs", outcome.latency().p99Micros())
                    .add(scenario, "p99.9", "µs", outcome.latency().p999Micros())
                    .add(scenario, "send-lag-p50", "µs", outcome.sendLag().p50Micros())
                    .add(scenario, "send-lag-p99", "µs", outcome.sendLag().p99Micros());
        }
        return samples.list();
    }

    /**
     * The closed loop's rate against {@code direct} for {@code size}, from a short run (warm-up at
     * most 1 s, window at most 2 s): the lead offers half of it to every target in the open loop.
     */
    public static double calibrate(Target direct, RunContext ctx, int size) throws Exception {
        RunContext brief = new RunContext(min(ctx.measureFor(), Duration.ofSeconds(2)),
                min(ctx.warmUp(), Duration.ofSeconds(1)), ctx.quick(), ctx.smoke(), ctx.group(), ctx.openLoopRate());
        return new RequestResponse().measure(direct, brief, size).rate();
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /**
     * Answers per second that arrived inside the window; the latencies of the requests due in it;
     * and how late the generator itself sent them (its timer's wake-up lag, or a full socket): that
     * lag is part of the latency by design, and reported so a reader can tell how much of it there is.
     */
    public record Outcome(double achievedRate, LatencyRecorder latency, LatencyRecorder sendLag) {
    }

    public Outcome measure(Target target, RunContext context, int size, double rate) throws Exception {
        int n = connections.in(context);
        double interval = 1e9 * n / rate; // nanoseconds between two requests of one connection
        List<Conn> conns = new ArrayList<>(n);
        List<Channel> channels = List.of();
        try (Payload payload = new Payload(size)) {
            for (int i = 0; i < n; i++) {
                conns.add(new Conn(payload, size));
            }
            channels = Connections.open(Connections.bootstrap(context, target), conns, 256);
            // A millisecond of slack so that no connection starts behind its schedule.
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
            long t0 = start + context.warmUp().toNanos();
            long t1 = t0 + context.measureFor().toNanos();
            for (int i = 0; i < n; i++) {
                conns.get(i).schedule(start + (long) (i * interval / n), interval, t0, t1);
                conns.get(i).start();
            }
            LoadConnection.awaitAll(conns, t1 + RequestResponse.DRAIN_TIMEOUT.toNanos(),
                    name() + " against " + target.name());

            LoadConnection.requireEchoedInFull(conns, name() + " against " + target.name());
            long completed = 0;
            List<LatencyRecorder> recorders = new ArrayList<>(n);
            List<LatencyRecorder> lags = new ArrayList<>(n);
            for (Conn c : conns) {
                completed += c.completedInWindow;
                recorders.add(c.latency);
                lags.add(c.sendLag);
            }
            return new Outcome(completed / Samples.seconds(context.measureFor()), LatencyRecorder.merged(recorders),
                    LatencyRecorder.merged(lags));
        } finally {
            Connections.closeAll(channels);
        }
    }

    /**
     * One scheduled connection. Request k is due at {@code origin + k * interval}. The echo answers
     * in order, so the k-th complete answer belongs to request k: the FIFO of intended send times
     * is implicit in the two counters and needs no per-request storage.
     */
    private static final class Conn extends LoadConnection {
        private final Payload payload;
        private final int size;
        private final LatencyRecorder latency = new LatencyRecorder();
        private final LatencyRecorder sendLag = new LatencyRecorder();
        private final Runnable sendDue = this::sendDue;
        private long origin;
        private double interval;
        private long t0;
        private long t1;
        /** Requests due before t1: the schedule's length. */
        private long total;
        private long nextToSend;
        private long nextToComplete;
        /** Echo bytes still due for request {@code nextToComplete}. */
        private int awaiting;
        private boolean timerArmed;
        private long completedInWindow;

        Conn(Payload payload, int size) {
            this.payload = payload;
            this.size = size;
            this.awaiting = size;
        }

        void schedule(long origin, double interval, long t0, long t1) {
            this.origin = origin;
            this.interval = interval;
            this.t0 = t0;
            this.t1 = t1;
            long k = Math.max(0, (long) ((t1 - origin) / interval) - 1);
            while (intended(k) - t1 < 0) {
                k++;
            }
            total = k;
        }

        private long intended(long k) {
            return origin + (long) (k * interval);
        }

        @Override
        protected void onStart() {
            ByteBuf mode = ctx.alloc().directBuffer(1).writeByte(BenchUpstreamServer.ECHO);
            ctx.writeAndFlush(mode, ctx.voidPromise());
            if (total == 0) {
                finish();
            } else {
                sendDue();
            }
        }

        /**
         * Sends every request that is due (several if the timer or writability made us late), then
         * sets the timer for the next. While the channel is not writable nothing is sent; the
         * requests that fall due meanwhile go out when it is, still measured from when they were due.
         */
        private void sendDue() {
            timerArmed = false;
            if (!ctx.channel().isActive()) {
                return;
            }
            long now = System.nanoTime();
            boolean wrote = false;
            while (nextToSend < total && intended(nextToSend) - now <= 0 && ctx.channel().isWritable()) {
                long due = intended(nextToSend);
                if (due - t0 >= 0 && due - t1 < 0) {
                    sendLag.recordOpenLoop(due, now);
                }
                send(payload.slice(size));
                nextToSend++;
                wrote = true;
            }
            if (wrote) {
                ctx.flush();
            }
            if (nextToSend < total && ctx.channel().isWritable()) {
                // One small task object per wake-up (Netty cannot re-arm a scheduled task); a
                // fixed-period ticker would avoid it but add up to its period to every latency.
                timerArmed = true;
                ctx.executor().schedule(sendDue, intended(nextToSend) - now, TimeUnit.NANOSECONDS);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && !timerArmed && !done) {
                sendDue();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        protected void onRead(ByteBuf buf, int bytes) {
            long now = System.nanoTime();
            int left = bytes;
            while (left > 0) {
                int take = Math.min(left, awaiting);
                awaiting -= take;
                left -= take;
                if (awaiting == 0) {
                    complete(nextToComplete++, now);
                    awaiting = size;
                }
            }
            if (received > sent) {
                fail("echo returned more bytes than were sent");
            } else if (nextToComplete == total) {
                finish();
            }
        }

        private void complete(long k, long now) {
            long due = intended(k);
            if (due - t0 >= 0 && due - t1 < 0) {
                latency.recordOpenLoop(due, now);
            }
            if (now - t0 >= 0 && now - t1 < 0) {
                completedInWindow++;
            }
        }
    }
}
