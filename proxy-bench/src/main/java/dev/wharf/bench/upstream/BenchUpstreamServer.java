package dev.wharf.bench.upstream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The bench's own upstream: a Netty server on 127.0.0.1 whose behaviour per connection is chosen
 * by the first byte the client sends.
 * <ul>
 *   <li>{@code 'E'} echo: every following byte is sent back. Reads are paused while the channel is
 *       not writable, so a slow reader never makes the server buffer without bound.</li>
 *   <li>{@code 'S'} sink: every following byte is counted and dropped; when the client half-closes,
 *       the count goes back as 8 bytes big-endian and the connection closes.</li>
 *   <li>{@code 'D'} source: the client sends an 8-byte big-endian N; the server streams N bytes,
 *       in 64 KiB writes while the channel is writable, then closes.</li>
 * </ul>
 * It runs in its own JVM ({@link #main}) so that the load generator and the upstream do not share
 * a heap or a GC; {@link #start(int)} runs it in-process for tests.
 */
public final class BenchUpstreamServer implements AutoCloseable {
    public static final byte ECHO = 'E';
    public static final byte SINK = 'S';
    public static final byte SOURCE = 'D';

    /** Size of one source write. */
    public static final int SOURCE_CHUNK = 64 * 1024;

    /*
     * Up to 1 MiB queued per connection before the source (or echo) pauses: several 64 KiB buffers
     * go out in one writev instead of one syscall and one writability flip per buffer, while the
     * bound stays small next to the kernel's autotuned socket buffers.
     */
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(512 * 1024, 1024 * 1024);
    /*
     * Reads grow up to 1 MiB when the client keeps the socket full (Netty's default stops at
     * 64 KiB): the sink then takes a bulk upload in far fewer syscalls, and measured faster here.
     * Small echo messages shrink the guess back down to 512 B.
     */
    private static final AdaptiveRecvByteBufAllocator READS = new AdaptiveRecvByteBufAllocator(512, 16 * 1024, 1024 * 1024);

    private final EventLoopGroup group;
    private final Channel serverChannel;
    /** Every source connection writes slices of this one buffer; its content never changes. */
    private final ByteBuf sourceChunk;

    private BenchUpstreamServer(EventLoopGroup group, Channel serverChannel, ByteBuf sourceChunk) {
        this.group = group;
        this.serverChannel = serverChannel;
        this.sourceChunk = sourceChunk;
    }

    /** Starts on 127.0.0.1:{@code port} (0 picks a free port) with up to two event loops. */
    public static BenchUpstreamServer start(int port) throws InterruptedException {
        return start(port, Math.min(2, Runtime.getRuntime().availableProcessors()));
    }

    public static BenchUpstreamServer start(int port, int threads) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("bench-upstream", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ByteBuf chunk = PooledByteBufAllocator.DEFAULT.directBuffer(SOURCE_CHUNK, SOURCE_CHUNK);
        for (int i = 0; i < SOURCE_CHUNK; i++) {
            chunk.writeByte(i * 31 + 7);
        }
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(channelType)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    // The sink answers after the client's half-close; echo flushes before closing.
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    // Reads are requested explicitly: that is how echo applies backpressure.
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                    .childOption(ChannelOption.RECVBUF_ALLOCATOR, READS)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new UpstreamHandler(chunk));
                        }
                    });
            Channel server = bootstrap.bind(new InetSocketAddress("127.0.0.1", port)).sync().channel();
            return new BenchUpstreamServer(group, server, chunk);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            chunk.release();
            throw e;
        }
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (sourceChunk.refCnt() > 0) {
            sourceChunk.release();
        }
    }

    /**
     * {@code BenchUpstreamServer PORT [THREADS]}: prints {@code ready PORT} (the bound port, so 0
     * works) as the only line on stdout once bound, then runs until killed.
     */
    public static void main(String[] args) throws Exception {
        // Before any other Netty class logs: through SLF4J, an unconfigured logback would print
        // Netty's DEBUG lines on stdout ahead of "ready PORT". JDK logging says INFO and up, on stderr.
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: BenchUpstreamServer PORT [THREADS]");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        BenchUpstreamServer server = args.length == 2 ? start(port, Integer.parseInt(args[1])) : start(port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "bench-upstream-shutdown"));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        out.println("ready " + server.port());
        server.serverChannel.closeFuture().sync();
    }

    /** One per connection; every field is touched only on the connection's event loop. */
    private static final class UpstreamHandler extends ChannelInboundHandlerAdapter {
        private final ByteBuf sourceChunk;
        /** 0 until the first byte arrives, then ECHO, SINK or SOURCE. */
        private byte mode;
        /** Sink: bytes counted so far. Source: the requested N while its header is read. */
        private long count;
        private int headerBytes;
        /** Source: bytes still to write, once the header is complete. */
        private long remaining;
        private boolean streaming;

        UpstreamHandler(ByteBuf sourceChunk) {
            this.sourceChunk = sourceChunk;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            if (mode == 0) {
                if (!buf.isReadable()) {
                    buf.release();
                    return;
                }
                mode = buf.readByte();
                if (mode != ECHO && mode != SINK && mode != SOURCE) {
                    buf.release();
                    ctx.close();
                    return;
                }
            }
            switch (mode) {
                case ECHO -> ctx.write(buf, ctx.voidPromise()); // the received buffer itself goes back: no copy
                case SINK -> {
                    count += buf.readableBytes();
                    buf.release();
                }
                default -> readSourceHeader(ctx, buf);
            }
        }

        private void readSourceHeader(ChannelHandlerContext ctx, ByteBuf buf) {
            try {
                while (headerBytes < Long.BYTES && buf.isReadable()) {
                    count = (count << 8) | (buf.readByte() & 0xFF);
                    headerBytes++;
                }
            } finally {
                buf.release();
            }
            if (headerBytes == Long.BYTES && !streaming) {
                streaming = true; // bytes after the header are ignored: nothing more is read
                remaining = count;
                if (remaining <= 0) {
                    ctx.close();
                } else {
                    pump(ctx);
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            switch (mode) {
                case ECHO -> {
                    ctx.flush();
                    // Read more only while the client drains what we echo; otherwise
                    // channelWritabilityChanged resumes reading.
                    if (ctx.channel().isWritable()) {
                        ctx.read();
                    }
                }
                case SOURCE -> {
                    if (headerBytes < Long.BYTES) {
                        ctx.read(); // the rest of the header; afterwards nothing more is read
                    }
                }
                default -> ctx.read(); // mode not known yet, or sink: keep draining
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                if (mode == ECHO) {
                    ctx.read();
                } else if (mode == SOURCE && remaining > 0) {
                    pump(ctx);
                }
            }
            ctx.fireChannelWritabilityChanged();
        }

        /** Queues 64 KiB slices of the shared chunk until the channel stops being writable. */
        private void pump(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            while (remaining > 0 && ch.isWritable()) {
                int length = (int) Math.min(SOURCE_CHUNK, remaining);
                remaining -= length;
                ByteBuf slice = sourceChunk.retainedSlice(0, length);
                if (remaining == 0) {
                    ctx.writeAndFlush(slice).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                ctx.write(slice, ctx.voidPromise());
            }
            ctx.flush();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                switch (mode) {
                    case ECHO -> ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                    case SINK -> {
                        ByteBuf reply = ctx.alloc().directBuffer(Long.BYTES).writeLong(count);
                        ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
                    }
                    case SOURCE -> {
                        // The client stopped sending; the stream it asked for continues.
                    }
                    default -> ctx.close();
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Usually a client that went away (reset); nothing to report from a bench upstream.
            ctx.close();
        }
    }
}
