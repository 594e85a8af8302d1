package dev.wharf.protocol.redis;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.metrics.WharfMetrics;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * One {@link RedisClusterCodec} between two embedded channels, as a session has it: the client
 * channel (requests in, what goes to the upstream out) and the upstream channel (replies in, what
 * goes to the client out), connected to 127.0.0.1:17101. Both are read on demand only (auto-read
 * off); the harness counts the reads the codec asks for and the read-completes it lets through.
 */
final class CodecHarness implements AutoCloseable {
    static final InetSocketAddress UPSTREAM = new InetSocketAddress("127.0.0.1", 17101);
    static final int MAX_REPLY_BYTES = 1024 * 1024;

    final TestRoutes routes;
    final WharfMetrics wharfMetrics = new WharfMetrics();
    final ListenerMetrics metrics = wharfMetrics.listener("redis");
    final RedisClusterCodec codec;
    final EmbeddedChannel client = new EmbeddedChannel();
    final EmbeddedChannel upstream = new EmbeddedChannel() {
        @Override
        protected SocketAddress remoteAddress0() {
            return UPSTREAM;
        }
    };
    /** read() calls that reached the client channel's head. */
    int clientReads;
    /** read() calls that reached the upstream channel's head. */
    int upstreamReads;
    /** Read-completes the reply handler passed on (the relay flushes and reads again on each). */
    int upstreamReadCompletes;

    CodecHarness() {
        this(MAX_REPLY_BYTES, new TestRoutes());
    }

    CodecHarness(int maxReplyBytes, TestRoutes routes) {
        this.routes = routes;
        this.codec = new RedisClusterCodec("redis", maxReplyBytes, routes, metrics);
        client.config().setAutoRead(false);
        upstream.config().setAutoRead(false);
        client.pipeline().addLast("reads", new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) throws Exception {
                clientReads++;
                super.read(ctx);
            }
        });
        client.pipeline().addLast(RedisClusterCodec.REQUEST_HANDLER, codec.requestHandler());
        upstream.pipeline().addLast("reads", new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) throws Exception {
                upstreamReads++;
                super.read(ctx);
            }
        });
        upstream.pipeline().addLast(RedisClusterCodec.RESPONSE_HANDLER, codec.responseHandler());
        upstream.pipeline().addLast("readCompletes", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                upstreamReadCompletes++;
                ctx.fireChannelReadComplete();
            }
        });
    }

    /** The client sends {@code bytes}, each array in its own read. */
    void request(byte[]... chunks) {
        for (byte[] chunk : chunks) {
            client.writeInbound(Unpooled.wrappedBuffer(chunk));
        }
    }

    void request(String text) {
        request(text.getBytes(UTF_8));
    }

    /** The upstream sends {@code bytes}, each array in its own read. */
    void reply(byte[]... chunks) {
        for (byte[] chunk : chunks) {
            upstream.writeInbound(Unpooled.wrappedBuffer(chunk));
        }
    }

    void reply(String text) {
        reply(text.getBytes(UTF_8));
    }

    /** Everything passed on towards the upstream so far, released. */
    byte[] requestsOut() {
        return drain(client);
    }

    /** Everything passed on towards the client so far, released. */
    byte[] repliesOut() {
        return drain(upstream);
    }

    String repliesOutText() {
        return new String(repliesOut(), UTF_8);
    }

    /** How many buffers are waiting to be read towards the client. */
    int repliesOutBuffers() {
        return upstream.inboundMessages().size();
    }

    double rewrites(String command) {
        Counter counter = wharfMetrics.registry().find("wharf.redis.rewrites").tag("command", command).counter();
        return counter == null ? 0 : counter.count();
    }

    double redirects(String kind) {
        Counter counter = wharfMetrics.registry().find("wharf.redis.redirects").tag("kind", kind).counter();
        return counter == null ? 0 : counter.count();
    }

    private static byte[] drain(EmbeddedChannel channel) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (ByteBuf buf; (buf = channel.readInbound()) != null; ) {
            try {
                byte[] bytes = new byte[buf.readableBytes()];
                buf.readBytes(bytes);
                all.writeBytes(bytes);
            } finally {
                buf.release();
            }
        }
        return all.toByteArray();
    }

    @Override
    public void close() {
        client.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
        wharfMetrics.close();
    }

    /** A command as clients send it: a multibulk array of bulk strings. */
    static String command(String... args) {
        StringBuilder s = new StringBuilder("*").append(args.length).append("\r\n");
        for (String arg : args) {
            s.append('$').append(arg.getBytes(UTF_8).length).append("\r\n").append(arg).append("\r\n");
        }
        return s.toString();
    }

    static String bulk(String text) {
        return "$" + text.getBytes(UTF_8).length + "\r\n" + text + "\r\n";
    }
}
