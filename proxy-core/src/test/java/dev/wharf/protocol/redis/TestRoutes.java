package dev.wharf.protocol.redis;

import dev.wharf.protocol.NodeRoutes;
import dev.wharf.protocol.ProxyAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Node ports for tests: the node on port P gets {@code wharf-<P in hex>.test:(40000 + P % 10000)},
 * so a rewritten host and port name the same node (and the host does not contain P). Routes complete at once unless {@link #hold} is
 * set; nodes in {@link #unrouted} complete with null.
 */
final class TestRoutes implements NodeRoutes {
    /** Every call, as {@code node host port}. */
    final List<String> calls = new ArrayList<>();
    final Set<String> unrouted = new HashSet<>();
    /** Routes not completed yet (when {@link #hold} is set), by node. */
    final Map<String, CompletableFuture<ProxyAddress>> held = new LinkedHashMap<>();
    boolean hold;

    static ProxyAddress proxyFor(int port) {
        return new ProxyAddress(proxyHost(port), proxyPort(port));
    }

    static String proxyHost(int port) {
        return "wharf-" + Integer.toHexString(port) + ".test";
    }

    static int proxyPort(int port) {
        return 40_000 + port % 10_000;
    }

    @Override
    public CompletableFuture<ProxyAddress> route(String node, String host, int port) {
        calls.add(node + " " + host + " " + port);
        if (unrouted.contains(node)) {
            return CompletableFuture.completedFuture(null);
        }
        if (hold) {
            return held.computeIfAbsent(node, n -> new CompletableFuture<>());
        }
        return CompletableFuture.completedFuture(proxyFor(port));
    }

    /** Completes every held route, as binding the node ports would. */
    void bindHeld() {
        held.forEach((node, route) -> route.complete(proxyFor(Integer.parseInt(node.substring(node.lastIndexOf(':') + 1)))));
        held.clear();
    }
}
