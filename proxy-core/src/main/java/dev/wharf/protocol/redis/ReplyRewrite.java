package dev.wharf.protocol.redis;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.wharf.protocol.NodeRoutes;
import dev.wharf.protocol.OrderedOutput;
import dev.wharf.protocol.ProxyAddress;
import io.netty.buffer.ByteBuf;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The one rewriter of Redis replies: a hook for each reply (a {@link Topology}, a redirect)
 * finds the node addresses in it and names, by position, the bytes each one is written in; this
 * routes every node once, and when all routes are bound writes the reply again with each address
 * replaced by its proxy address, every other byte copied. A node whose route completes with null
 * keeps its address.
 *
 * <p>A node is named {@code host:port} as the server reported it; an empty host (or a null
 * endpoint, as {@code cluster-preferred-endpoint-type unknown-endpoint} reports one) means "the
 * host you are connected to", so it is named with the upstream connection's host. The host
 * {@code ?} (a node without the hostname the cluster prefers) names no reachable node and stays.
 */
final class ReplyRewrite implements OrderedOutput.Deferred {
    /** Bytes of the reply replaced by something built from the routed addresses. */
    interface Edit {
        int start();

        int end();

        /** Writes the replacement of {@code reply[start, end)} and returns true, or returns false to keep it. */
        boolean write(ByteBuf reply, Map<String, ProxyAddress> routed, ByteBuf out);
    }

    private final ByteBuf reply;
    private final NodeRoutes routes;
    private final String upstreamHost;
    private final Runnable counter;
    private final Map<String, CompletableFuture<ProxyAddress>> routing = new LinkedHashMap<>();
    private final List<Edit> edits = new ArrayList<>();
    private CompletableFuture<?> ready;

    /**
     * @param reply    the whole reply; this takes it over (released or passed on)
     * @param upstream the upstream channel's remote address, for empty hosts
     * @param counter  counts the reply as rewritten (only when an address was replaced)
     */
    ReplyRewrite(ByteBuf reply, NodeRoutes routes, SocketAddress upstream, Runnable counter) {
        this.reply = reply;
        this.routes = routes;
        this.upstreamHost = hostOf(upstream);
        this.counter = counter;
    }

    /**
     * The node an address names, routing it (once per reply), or null when it names none that can
     * be routed: port 0 (no address), host {@code ?}, an empty host without a known upstream host.
     */
    String node(String host, long port) {
        if (port <= 0 || port > 65_535 || "?".equals(host)) {
            return null;
        }
        String nodeHost = host == null || host.isEmpty() ? upstreamHost : host;
        if (nodeHost == null) {
            return null;
        }
        // The form NodePorts keys configured node-ports by (Endpoint.address): IPv6 in brackets.
        String node = NetUtil.toSocketAddressString(nodeHost, (int) port);
        routing.computeIfAbsent(node, n -> routes.route(n, nodeHost, (int) port));
        return node;
    }

    void add(Edit edit) {
        edits.add(edit);
    }

    /** Replaces a string or null value with {@code node}'s proxy host, as a string of the same kind ({@code $} for a null). */
    void host(String node, RespValue value) {
        byte type = value.type == '+' ? (byte) '+' : (byte) '$';
        add(new ValueEdit(value.start, value.end, node, type));
    }

    /** Replaces an integer value with {@code node}'s proxy port. */
    void port(String node, RespValue value) {
        add(new ValueEdit(value.start, value.end, node, (byte) ':'));
    }

    @Override
    public CompletableFuture<?> ready() {
        if (ready == null) {
            ready = CompletableFuture.allOf(routing.values().toArray(CompletableFuture[]::new));
        }
        return ready;
    }

    @Override
    public ByteBuf finish() {
        if (edits.isEmpty()) {
            return reply;
        }
        Map<String, ProxyAddress> routed = new HashMap<>();
        routing.forEach((node, route) -> {
            ProxyAddress address = route.getNow(null);
            if (address != null) {
                routed.put(node, address);
            }
        });
        if (routed.isEmpty()) {
            return reply;
        }
        edits.sort(Comparator.comparingInt(Edit::start));
        ByteBuf out = reply.alloc().buffer(reply.readableBytes() + 64 * edits.size());
        try {
            if (!apply(reply, reply.readerIndex(), reply.writerIndex(), edits, routed, out)) {
                out.release();
                return reply;
            }
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
        reply.release();
        counter.run();
        return out;
    }

    @Override
    public void discard() {
        reply.release();
    }

    /** Writes {@code source[from, to)} to {@code out} with {@code edits} (sorted, inside the range) applied; true if one replaced something. */
    static boolean apply(ByteBuf source, int from, int to, List<? extends Edit> edits, Map<String, ProxyAddress> routed, ByteBuf out) {
        boolean changed = false;
        int copied = from;
        for (Edit edit : edits) {
            out.writeBytes(source, copied, edit.start() - copied);
            int mark = out.writerIndex();
            if (edit.write(source, routed, out)) {
                changed = true;
            } else {
                out.writerIndex(mark);
                out.writeBytes(source, edit.start(), edit.end() - edit.start());
            }
            copied = edit.end();
        }
        out.writeBytes(source, copied, to - copied);
        return changed;
    }

    /** A port as a reply writes it in text, or -1 when it is not a number. */
    static long port(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The host a node is reached on: an IP literal when the address was resolved. */
    private static String hostOf(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
        }
        return null;
    }

    /** A whole RESP value: a string holding the proxy host, or an integer holding the proxy port. */
    private record ValueEdit(int start, int end, String node, byte type) implements Edit {
        @Override
        public boolean write(ByteBuf reply, Map<String, ProxyAddress> routed, ByteBuf out) {
            ProxyAddress address = routed.get(node);
            if (address == null) {
                return false;
            }
            if (type == ':') {
                out.writeByte(':').writeCharSequence(Integer.toString(address.port()), UTF_8);
            } else {
                byte[] host = address.host().getBytes(UTF_8);
                out.writeByte(type);
                if (type == '$') {
                    out.writeCharSequence(Integer.toString(host.length), UTF_8);
                    out.writeShort(CRLF);
                }
                out.writeBytes(host);
            }
            out.writeShort(CRLF);
            return true;
        }
    }

    /** Bytes of text (no RESP framing): the proxy host, or {@code host:port} as Redis writes addresses (no brackets). */
    record TextEdit(int start, int end, String node, boolean withPort) implements Edit {
        @Override
        public boolean write(ByteBuf reply, Map<String, ProxyAddress> routed, ByteBuf out) {
            ProxyAddress address = routed.get(node);
            if (address == null) {
                return false;
            }
            out.writeCharSequence(address.host(), UTF_8);
            if (withPort) {
                out.writeByte(':').writeCharSequence(Integer.toString(address.port()), UTF_8);
            }
            return true;
        }
    }

    /** A bulk or verbatim string whose payload has text edits: written again with its new length. */
    record StringEdit(int start, int end, byte type, int payloadStart, int payloadEnd, List<TextEdit> inner) implements Edit {
        @Override
        public boolean write(ByteBuf reply, Map<String, ProxyAddress> routed, ByteBuf out) {
            ByteBuf payload = reply.alloc().heapBuffer(payloadEnd - payloadStart + 64 * inner.size());
            try {
                if (!apply(reply, payloadStart, payloadEnd, inner, routed, payload)) {
                    return false;
                }
                out.writeByte(type).writeCharSequence(Integer.toString(payload.readableBytes()), UTF_8);
                out.writeShort(CRLF).writeBytes(payload).writeShort(CRLF);
                return true;
            } finally {
                payload.release();
            }
        }
    }

    private static final int CRLF = ('\r' << 8) | '\n';
}
