package dev.wharf.bench.load;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.upstream.BenchUpstreamServer;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Bulk transfer ("bulk"): {@code streams} connections move data as fast as the target relays it,
 * in 64 KiB writes, either up (client to the upstream's sink) or down (the upstream's source to
 * the client). Reports the throughput and, for proxies, the proxy's CPU seconds per GB moved.
 * Every byte is accounted for: the sink's count must equal what was sent, a download must deliver
 * exactly the N bytes asked for, otherwise the run fails with {@link IllegalStateException}.
 */
public final class BulkThroughput implements Scenario {
    public static final int WRITE_SIZE = 64 * 1024;
    private static final long MIB = 1024 * 1024;
    private static final double GB = 1e9;

    /*
     * Up to 1 MiB queued in Netty per connection: a flush then hands the kernel up to 16 buffers in
     * one writev, and writability flips once per megabyte, not once per 64 KiB write.
     */
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(512 * 1024, 1024 * 1024);
    /*
     * Reads of up to 1 MiB (the default caps one read at 64 KiB): a bulk receiver otherwise spends
     * its time in syscalls, and the load generator must not be what limits the download.
     */
    private static final AdaptiveRecvByteBufAllocator BULK_READS =
            new AdaptiveRecvByteBufAllocator(64 * 1024, 256 * 1024, 1024 * 1024);

    public enum Direction {
        UPLOAD, DOWNLOAD;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final List<Integer> streamCounts;

    /** 1 and 8 streams, each up and down. */
    public BulkThroughput() {
        this(List.of(1, 8));
    }

    public BulkThroughput(List<Integer> streamCounts) {
        if (streamCounts.isEmpty() || streamCounts.stream().anyMatch(s -> s < 1)) {
            throw new IllegalArgumentException("stream counts must be positive: " + streamCounts);
        }
        this.streamCounts = List.copyOf(streamCounts);
    }

    @Override
    public String name() {
        return "bulk";
    }

    @Override
    public List<Measurement> run(Target target, RunContext context) throws Exception {
        Samples samples = new Samples(target);
        for (int streams : streamCounts) {
            for (Direction direction : Direction.values()) {
                Transfer t = direction == Direction.UPLOAD
                        ? upload(target, context, streams)
                        : download(target, context, streams);
                String scenario = name() + "-" + streams + "-" + direction.label();
                samples.add(scenario, "throughput", "Gbit/s", t.gbitPerSecond());
                if (t.cpuSecondsAtEnd() > 0) {
                    samples.add(scenario, "cpu-per-GB", "s/GB", t.cpuSecondsPerGB());
                }
            }
        }
        return samples.list();
    }

    /**
     * What one measured transfer moved.
     *
     * @param bytes           bytes delivered inside the measured interval
     * @param nanos           that interval
     * @param cpuSeconds      the target's CPU seconds over the interval
     * @param cpuSecondsAtEnd the target's CPU total afterwards (0 for the direct connection)
     */
    public record Transfer(long bytes, long nanos, double cpuSeconds, double cpuSecondsAtEnd) {
        public double gbitPerSecond() {
            return bytes * 8.0 / nanos; // bits per nanosecond = Gbit/s
        }

        /** CPU seconds per 10^9 bytes moved. */
        public double cpuSecondsPerGB() {
            return cpuSeconds / (bytes / GB);
        }
    }

    private static Bootstrap bootstrap(RunContext context, Target target) {
        return Connections.bootstrap(context, target)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .option(ChannelOption.RECVBUF_ALLOCATOR, BULK_READS);
    }

    // ---------------------------------------------------------------- upload

    /**
     * Streams send for the warm-up and the window, then half-close; the sink answers with its
     * count, which must equal what was sent. Throughput counts the bytes the sink received after
     * the window opened (what had left Netty by then is subtracted, so the kernel's in-flight
     * bytes at that moment count against us, never for us) over the time to the last count.
     */
    public Transfer upload(Target target, RunContext context, int streams) throws Exception {
        List<Uploader> conns = new ArrayList<>(streams);
        List<Channel> channels = List.of();
        try (Payload payload = new Payload(WRITE_SIZE)) {
            for (int i = 0; i < streams; i++) {
                conns.add(new Uploader(payload));
            }
            channels = Connections.open(bootstrap(context, target), conns, 256);
            long start = System.nanoTime();
            long t0 = start + context.warmUp().toNanos();
            long t1 = t0 + context.measureFor().toNanos();
            for (Uploader c : conns) {
                c.t0 = t0;
                c.t1 = t1;
                c.start();
            }
            Samples.sleepUntil(t0);
            double cpuBefore = target.cpuSeconds();
            LoadConnection.awaitAll(conns, t1 + RequestResponse.DRAIN_TIMEOUT.toNanos(),
                    "bulk upload against " + target.name());
            double cpuAfter = target.cpuSeconds();

            long bytes = 0;
            long firstStart = Long.MAX_VALUE;
            long lastEnd = Long.MIN_VALUE;
            for (Uploader c : conns) {
                if (c.sinkCount != c.sent) {
                    throw new IllegalStateException("bulk upload against " + target.name() + ": sent " + c.sent
                            + " bytes but the sink counted " + c.sinkCount);
                }
                bytes += c.sinkCount - c.sentAtWindow;
                firstStart = Math.min(firstStart, c.windowAt);
                lastEnd = Math.max(lastEnd, c.countAt);
            }
            return new Transfer(bytes, lastEnd - firstStart, cpuAfter - cpuBefore, cpuAfter);
        } finally {
            Connections.closeAll(channels);
        }
    }

    private static final class Uploader extends LoadConnection {
        private final Payload payload;
        long t0;
        long t1;
        private boolean stopping;
        /** When the window opened, and how many bytes had been handed to the kernel by then. */
        long windowAt;
        long sentAtWindow;
        /** The sink's answer, and when it was complete. */
        long sinkCount;
        private int countBytes;
        long countAt;

        Uploader(Payload payload) {
            this.payload = payload;
        }

        @Override
        protected void onStart() {
            ctx.write(ctx.alloc().directBuffer(1).writeByte(BenchUpstreamServer.SINK), ctx.voidPromise());
            long now = System.nanoTime();
            ctx.executor().schedule(this::openWindow, t0 - now, TimeUnit.NANOSECONDS);
            ctx.executor().schedule(this::stop, t1 - now, TimeUnit.NANOSECONDS);
            pump();
        }

        /** Writes 64 KiB slices of the shared payload until Netty's queue is full, then one flush. */
        private void pump() {
            Channel ch = ctx.channel();
            boolean wrote = false;
            while (!stopping && ch.isWritable()) {
                send(payload.slice());
                wrote = true;
            }
            if (wrote) {
                ctx.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                pump();
            }
            ctx.fireChannelWritabilityChanged();
        }

        private void openWindow() {
            windowAt = System.nanoTime();
            var outbound = ctx.channel().unsafe().outboundBuffer();
            sentAtWindow = sent - (outbound == null ? 0 : outbound.totalPendingWriteBytes());
        }

        /** Stops sending; half-closes once everything queued is written (shutdown would drop it). */
        private void stop() {
            stopping = true;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                if (f.isSuccess()) {
                    ((DuplexChannel) ctx.channel()).shutdownOutput();
                }
            });
        }

        @Override
        protected void onRead(ByteBuf buf, int bytes) {
            while (buf.isReadable() && countBytes < Long.BYTES) {
                sinkCount = (sinkCount << 8) | (buf.readByte() & 0xFF);
                countBytes++;
            }
            if (buf.isReadable()) {
                fail("the sink sent more than its 8-byte count");
            } else if (countBytes == Long.BYTES) {
                countAt = System.nanoTime();
                finish();
            }
        }

        @Override
        protected void onClosed() {
            if (countBytes < Long.BYTES) {
                fail("the sink closed before its 8-byte count (" + countBytes + " bytes of it arrived)");
            }
        }
    }

    // -------------------------------------------------------------- download

    /**
     * The source sends a fixed N per stream, so sizes must be chosen ahead. The warm-up downloads
     * growing amounts to learn the rate; the window then runs rounds sized to fill the time left
     * at the rate seen so far (usually two: the first estimate is low, as short probes are), each
     * on fresh connections and each checked to the byte. Throughput is everything delivered over
     * the rounds' time, each round timed from its requests to its last byte.
     */
    public Transfer download(Target target, RunContext context, int streams) throws Exception {
        long warmUpEnd = System.nanoTime() + context.warmUp().toNanos();
        long perStream = MIB;
        Estimate estimate = new Estimate();
        while (true) {
            estimate.add(downloadOnce(target, context, streams, perStream));
            long left = warmUpEnd - System.nanoTime();
            if (left <= 0) {
                break;
            }
            // Grow at most fourfold, and to at most half the warm-up left, so the estimate
            // sharpens without overrunning the warm-up.
            perStream = Math.max(MIB, Math.min(4 * perStream, estimate.bytesFor(left / 2) / streams));
        }

        long window = context.measureFor().toNanos();
        long windowEnd = System.nanoTime() + window;
        double cpuBefore = target.cpuSeconds();
        long bytes = 0;
        long nanos = 0;
        long left = window;
        do {
            long share = estimate.bytesFor(left) / streams;
            Transfer round = downloadOnce(target, context, streams,
                    Math.max(MIB, (share + WRITE_SIZE - 1) / WRITE_SIZE * WRITE_SIZE));
            estimate.add(round);
            bytes += round.bytes();
            nanos += round.nanos();
            left = windowEnd - System.nanoTime();
        } while (left > window / 10); // the last tenth is not worth another round's connections
        double cpuAfter = target.cpuSeconds();
        return new Transfer(bytes, nanos, cpuAfter - cpuBefore, cpuAfter);
    }

    /** The download rate of the largest transfer so far: small ones are dominated by set-up. */
    private static final class Estimate {
        private long largest = -1;
        private double bytesPerNano;

        void add(Transfer t) {
            if (t.bytes() >= largest) {
                largest = t.bytes();
                bytesPerNano = (double) t.bytes() / Math.max(1, t.nanos());
            }
        }

        long bytesFor(long nanos) {
            return (long) (bytesPerNano * nanos);
        }
    }

    /** One download of {@code perStream} bytes on each of {@code streams} new connections. */
    private Transfer downloadOnce(Target target, RunContext context, int streams, long perStream)
            throws Exception {
        List<Downloader> conns = new ArrayList<>(streams);
        List<Channel> channels = List.of();
        try {
            for (int i = 0; i < streams; i++) {
                conns.add(new Downloader(perStream));
            }
            channels = Connections.open(bootstrap(context, target), conns, 256);
            long start = System.nanoTime();
            conns.forEach(LoadConnection::start);
            // Generous: the estimate may be off when the machine is noisy; a stall still ends the run.
            long deadline = start + 3 * Math.max(context.measureFor().toNanos(), context.warmUp().toNanos())
                    + RequestResponse.DRAIN_TIMEOUT.toNanos();
            LoadConnection.awaitAll(conns, deadline, "bulk download against " + target.name());

            long bytes = 0;
            long firstStart = Long.MAX_VALUE;
            long lastEnd = Long.MIN_VALUE;
            for (Downloader c : conns) {
                bytes += c.received;
                firstStart = Math.min(firstStart, c.requestedAt);
                lastEnd = Math.max(lastEnd, c.endAt);
            }
            return new Transfer(bytes, lastEnd - firstStart, 0, 0);
        } finally {
            Connections.closeAll(channels);
        }
    }

    private static final class Downloader extends LoadConnection {
        private final long expected;
        long requestedAt;
        long endAt;

        Downloader(long expected) {
            this.expected = expected;
        }

        @Override
        protected void onStart() {
            ByteBuf request = ctx.alloc().directBuffer(1 + Long.BYTES)
                    .writeByte(BenchUpstreamServer.SOURCE)
                    .writeLong(expected);
            requestedAt = System.nanoTime();
            ctx.writeAndFlush(request, ctx.voidPromise());
        }

        @Override
        protected void onRead(ByteBuf buf, int bytes) {
            if (received > expected) {
                fail("the source sent " + received + " bytes, more than the " + expected + " asked for");
            }
        }

        /** The source closes after the last byte: that is the end, and the byte count must match. */
        @Override
        protected void onClosed() {
            endAt = System.nanoTime();
            if (received != expected) {
                fail("the source closed after " + received + " of the " + expected + " bytes asked for");
            }
        }
    }
}
