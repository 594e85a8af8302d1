package dev.wharf.bench.load;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.upstream.BenchUpstreamServer;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * New connections per second ("conn-rate"): each worker connects, sends one 64 B echo request,
 * reads the echo, closes, and starts over. Reports the completed cycles per second and the
 * failed ones (connect errors, resets, short echoes) over the whole run, warm-up included.
 *
 * <p>The client closes normally (FIN), so each cycle leaves a TIME_WAIT socket on the bench's side
 * (and, behind a proxy, on the proxy's upstream side). Both come from the local port range
 * (32768-60999 here); Linux reuses a TIME_WAIT port for a new loopback connection once it is a
 * second old (tcp_tw_reuse=2), which bounds the rate near 28k conn/s. SO_LINGER 0 would avoid
 * TIME_WAIT by resetting every connection, which is not the traffic a proxy should be measured on,
 * so the run is kept short instead and errors are reported, not hidden.
 */
public final class ConnectionRate implements Scenario {
    public static final int MESSAGE_SIZE = 64;
    /** After a failed cycle a worker pauses this long, so a refusing target is not hammered in a spin. */
    private static final long ERROR_BACKOFF_MILLIS = 10;

    private final ConnectionCount workers;

    /** 32 workers, 4 in the smoke test. */
    public ConnectionRate() {
        this(32, 4);
    }

    public ConnectionRate(int workers, int smokeWorkers) {
        this.workers = new ConnectionCount(workers, smokeWorkers);
    }

    @Override
    public String name() {
        return "conn-rate";
    }

    @Override
    public List<Measurement> run(Target target, RunContext context) throws Exception {
        int n = workers.in(context);
        List<Worker> all = new ArrayList<>(n);
        try (Payload request = Payload.withMode(BenchUpstreamServer.ECHO, MESSAGE_SIZE)) {
            long start = System.nanoTime();
            long t0 = start + context.warmUp().toNanos();
            long t1 = t0 + context.measureFor().toNanos();
            for (int i = 0; i < n; i++) {
                // Each worker keeps all its connections on one event loop: its counters stay single-threaded.
                EventLoop loop = context.group().next();
                Worker worker = new Worker(Connections.bootstrap(loop, target), loop, request, t0, t1);
                all.add(worker);
                loop.execute(worker::next);
            }
            long deadline = t1 + RequestResponse.DRAIN_TIMEOUT.toNanos();
            for (Worker w : all) {
                try {
                    w.finished.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    all.forEach(Worker::abort);
                    throw new IllegalStateException(name() + " against " + target.name()
                            + ": a connection did not finish in time (target stalled?)");
                }
            }
        }
        long completed = 0;
        long errors = 0;
        for (Worker w : all) {
            completed += w.completed;
            errors += w.errors;
        }
        return new Samples(target)
                .add(name(), "rate", "conn/s", completed / Samples.seconds(context.measureFor()))
                .add(name(), "errors", "count", errors)
                .list();
    }

    /**
     * One worker's sequential cycles. It is the handler of each of its connections in turn (hence
     * sharable: only one is ever open), and all of them run on its one event loop.
     */
    @ChannelHandler.Sharable
    private static final class Worker extends ChannelInboundHandlerAdapter {
        private final Bootstrap bootstrap;
        private final EventLoop loop;
        private final Payload request;
        private final long t0;
        private final long t1;
        final CompletableFuture<Void> finished = new CompletableFuture<>();
        private ChannelFuture current;
        private int echoed;
        private boolean failed;
        long completed;
        long errors;

        Worker(Bootstrap bootstrap, EventLoop loop, Payload request, long t0, long t1) {
            this.bootstrap = bootstrap.handler(this);
            this.loop = loop;
            this.request = request;
            this.t0 = t0;
            this.t1 = t1;
        }

        /** Starts the next cycle, or ends the worker once the window is over. */
        void next() {
            if (System.nanoTime() - t1 >= 0) {
                finished.complete(null);
                return;
            }
            echoed = 0;
            failed = false;
            current = bootstrap.connect();
            current.addListener(f -> {
                if (!f.isSuccess()) {
                    errors++;
                    loop.schedule(this::next, ERROR_BACKOFF_MILLIS, TimeUnit.MILLISECONDS);
                }
            });
        }

        void abort() {
            ChannelFuture c = current;
            if (c != null) {
                c.channel().close();
            }
            finished.complete(null);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(request.slice(), ctx.voidPromise()); // 'E' and the 64 B request in one write
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            echoed += buf.readableBytes();
            buf.release();
            if (echoed >= MESSAGE_SIZE) {
                failed = echoed > MESSAGE_SIZE;
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failed = true;
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (failed || echoed != MESSAGE_SIZE) {
                errors++;
                loop.schedule(this::next, ERROR_BACKOFF_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
            long now = System.nanoTime();
            if (now - t0 >= 0 && now - t1 < 0) {
                completed++;
            }
            next();
        }
    }
}
