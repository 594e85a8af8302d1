package dev.wharf.protocol.kafka;

import dev.wharf.metrics.WharfMetrics;
import dev.wharf.protocol.NodeRoutes;
import dev.wharf.protocol.ProxyAddress;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One {@link KafkaCodec} between two embedded channels set up like a session's: auto-read off, the
 * codec's handler, then a stand-in for the relay that collects what reaches it and, like the relay,
 * asks for the next read on read-complete. A counter at the head of each pipeline sees every read.
 */
final class CodecHarness implements AutoCloseable {
    static final String PROXY_HOST = "wharf.proxy.test";
    static final int PORT_BASE = 30000;
    static final int MAX_FRAME = 1 << 20;

    /** The proxy address the default routes give a broker. */
    static ProxyAddress proxyOf(int nodeId) {
        return new ProxyAddress(PROXY_HOST, PORT_BASE + nodeId);
    }

    final Routes routes = new Routes();
    final WharfMetrics metrics = new WharfMetrics();
    final KafkaCodec codec;
    final EmbeddedChannel client;
    final EmbeddedChannel upstream;
    final Relay clientRelay = new Relay();
    final Relay upstreamRelay = new Relay();
    final ReadCounter clientReads = new ReadCounter();
    final ReadCounter upstreamReads = new ReadCounter();

    CodecHarness() {
        this(MAX_FRAME);
    }

    CodecHarness(int maxFrameBytes) {
        codec = new KafkaCodec("kafka-test", maxFrameBytes, routes, metrics.listener("kafka-test"));
        client = channel(clientReads, codec.requestHandler(), clientRelay);
        upstream = channel(upstreamReads, codec.responseHandler(), upstreamRelay);
    }

    private static EmbeddedChannel channel(ReadCounter reads, io.netty.channel.ChannelHandler codecHandler, Relay relay) {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAutoRead(false);
        channel.pipeline().addLast(reads, codecHandler, relay);
        return channel;
    }

    /** The client sends {@code bytes} in one read. */
    void fromClient(byte[] bytes) {
        client.writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    /** The upstream sends {@code bytes} in one read. */
    void fromUpstream(byte[] bytes) {
        upstream.writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    /** Everything the relay got from the client side so far, as one byte array per message. */
    List<byte[]> toUpstream() {
        return drain(client);
    }

    /** Everything the relay got from the upstream side so far, as one byte array per message. */
    List<byte[]> toClient() {
        upstream.runPendingTasks();
        upstream.checkException();
        return drain(upstream);
    }

    private static List<byte[]> drain(EmbeddedChannel channel) {
        List<byte[]> messages = new ArrayList<>();
        for (ByteBuf buf; (buf = channel.readInbound()) != null; ) {
            messages.add(ByteBufUtil.getBytes(buf));
            buf.release();
        }
        return messages;
    }

    /** The rewrite counter for {@code api} (0 when never counted). */
    double rewrites(String api) {
        Counter counter = metrics.registry().find("wharf.kafka.rewrites").tag("api", api).counter();
        return counter == null ? 0 : counter.count();
    }

    @Override
    public void close() {
        client.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
        metrics.close();
    }

    /** Node routes that answer at once with {@link #proxyOf}, unless a node is set to wait or to have no route. */
    static final class Routes implements NodeRoutes {
        final List<String> asked = new ArrayList<>();
        final Map<String, CompletableFuture<ProxyAddress>> held = new LinkedHashMap<>();
        final List<String> unrouted = new ArrayList<>();

        @Override
        public CompletableFuture<ProxyAddress> route(String node, String host, int port) {
            asked.add(node + "@" + host + ":" + port);
            if (unrouted.contains(node)) {
                return CompletableFuture.completedFuture(null);
            }
            if (held.containsKey(node)) {
                return held.get(node);
            }
            return CompletableFuture.completedFuture(proxyOf(Integer.parseInt(node)));
        }

        /** Routes to {@code node} wait until the test completes the returned future. */
        CompletableFuture<ProxyAddress> hold(int node) {
            return held.computeIfAbsent(String.valueOf(node), n -> new CompletableFuture<>());
        }
    }

    /** Stands in for the relay: keeps what reaches it, and asks for more on read-complete. */
    static final class Relay extends ChannelInboundHandlerAdapter {
        int readCompletes;

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readCompletes++;
            ctx.channel().read();
        }
    }

    /** Counts the reads asked of the channel, by the codec or the relay. */
    static final class ReadCounter extends ChannelOutboundHandlerAdapter {
        int reads;

        @Override
        public void read(ChannelHandlerContext ctx) throws Exception {
            reads++;
            super.read(ctx);
        }
    }
}
