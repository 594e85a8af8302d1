package dev.wharf.protocol;

import java.util.concurrent.CompletableFuture;

/**
 * Where a cluster-aware protocol listener tells its clients to find an upstream node. The
 * implementation owns the node ports: it binds a node's proxy port (routing to {@code host:port})
 * before the returned future completes, so a reply naming that address can be forwarded safely.
 */
public interface NodeRoutes {
    /**
     * The proxy address for an upstream node.
     *
     * @param node the protocol's identity of the node: a Kafka broker's node id, or for Redis
     *             Cluster the node's {@code host:port} as the cluster reports it
     * @param host the node's address as the upstream reported it (an IP or a name)
     * @param port the node's port as the upstream reported it
     * @return completes (on any thread) once the proxy port routes to the node; at once when it
     *         already does. Completes with {@code null} when the node has no proxy port (an id
     *         out of range, a node missing from {@code node-ports} with no dynamic range, a bind
     *         that failed, which is logged): the caller then leaves that address as it was.
     *         Never completes exceptionally.
     */
    CompletableFuture<ProxyAddress> route(String node, String host, int port);
}
