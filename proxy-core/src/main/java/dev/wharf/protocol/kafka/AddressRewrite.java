package dev.wharf.protocol.kafka;

import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.protocol.NodeRoutes;
import dev.wharf.protocol.OrderedOutput;
import dev.wharf.protocol.ProtocolViolation;
import dev.wharf.protocol.ProxyAddress;
import dev.wharf.protocol.kafka.BrokerAddresses.NodeAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * One response naming brokers: asks the node routes for every address at once, and once all have
 * answered builds the frame with the proxy addresses; the original bytes when nothing changed.
 */
final class AddressRewrite implements OrderedOutput.Deferred {
    private record Node(int id, String host, int port) {
    }

    private final ByteBufAllocator alloc;
    private final ListenerMetrics metrics;
    private final InFlight request;
    private final ApiKeys api;
    private final int bodyOffset;
    private final ApiMessage body;
    private final List<NodeAddress> addresses;
    private final List<CompletableFuture<ProxyAddress>> routes;
    private final CompletableFuture<Void> ready;
    private ByteBuf frame;

    /** Takes ownership of {@code frame}; {@code addresses} are the routable ones in {@code body}, at least one. */
    AddressRewrite(ByteBufAllocator alloc, ListenerMetrics metrics, NodeRoutes nodeRoutes, InFlight request, ApiKeys api,
                   ByteBuf frame, int bodyOffset, ApiMessage body, List<NodeAddress> addresses) {
        this.alloc = alloc;
        this.metrics = metrics;
        this.request = request;
        this.api = api;
        this.frame = frame;
        this.bodyOffset = bodyOffset;
        this.body = body;
        this.addresses = addresses;
        // One route call per distinct node address: a broker named twice is asked for once.
        Map<Node, CompletableFuture<ProxyAddress>> asked = new HashMap<>();
        routes = new ArrayList<>(addresses.size());
        for (NodeAddress address : addresses) {
            routes.add(asked.computeIfAbsent(new Node(address.nodeId(), address.host(), address.port()),
                    node -> nodeRoutes.route(String.valueOf(node.id()), node.host(), node.port())));
        }
        ready = CompletableFuture.allOf(asked.values().toArray(CompletableFuture[]::new));
    }

    @Override
    public CompletableFuture<?> ready() {
        return ready;
    }

    @Override
    public ByteBuf finish() {
        ByteBuf original = frame;
        frame = null;
        try {
            boolean changed = false;
            for (int i = 0; i < addresses.size(); i++) {
                NodeAddress address = addresses.get(i);
                CompletableFuture<ProxyAddress> route = routes.get(i);
                ProxyAddress proxy = route.join(); // never exceptional (NodeRoutes); null leaves the address
                if (proxy != null && (proxy.port() != address.port() || !proxy.host().equals(address.host()))) {
                    address.replace().accept(proxy);
                    changed = true;
                }
            }
            if (!changed) {
                ByteBuf unchanged = original;
                original = null;
                return unchanged;
            }
            ByteBuf rewritten = ResponseBody.encode(alloc, original, bodyOffset, body, request.apiVersion());
            metrics.kafkaRewrite(InFlight.apiName(api.id));
            return rewritten;
        } catch (RuntimeException e) {
            throw new ProtocolViolation("kafka response to " + request.describe() + ": cannot encode the rewritten body: " + e, e);
        } finally {
            if (original != null) {
                original.release();
            }
        }
    }

    @Override
    public void discard() {
        if (frame != null) {
            frame.release();
            frame = null;
        }
    }
}
