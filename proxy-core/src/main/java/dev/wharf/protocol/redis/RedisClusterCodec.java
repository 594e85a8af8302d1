package dev.wharf.protocol.redis;

import dev.wharf.metrics.ListenerMetrics;
import dev.wharf.protocol.NodeRoutes;
import io.netty.channel.ChannelHandler;
import java.util.Objects;

/**
 * The Redis Cluster codec of one client session of a {@code protocol = redis-cluster} listener:
 * every node address a cluster-aware client can learn is rewritten to the node's proxy address.
 *
 * <ul>
 *   <li>{@link #requestHandler()} (client channel, in front of the relay) passes the client's bytes
 *       on unchanged, noting for each command what its reply will need;</li>
 *   <li>{@link #responseHandler()} (upstream channel, in front of the relay) rewrites MOVED and ASK
 *       redirects and the replies to CLUSTER SLOTS, SHARDS, NODES and REPLICAS (SLAVES), and
 *       passes every other reply through as it arrives.</li>
 * </ul>
 * Both handlers are inbound, take and pass ByteBufs, and must run on one event loop (the
 * session's). The upstream channel must be read by the pipeline, never spliced: a spliced
 * direction would skip the rewrite. See {@link PendingCommands} for how replies are matched.
 */
public final class RedisClusterCodec {
    /** The name of {@link #requestHandler()} in the client channel's pipeline. */
    public static final String REQUEST_HANDLER = "redisRequests";
    /** The name of {@link #responseHandler()} in the upstream channel's pipeline. */
    public static final String RESPONSE_HANDLER = "redisReplies";

    private final RedisRequestDecoder requests;
    private final RedisReplyDecoder replies;

    /**
     * @param listener      the listener's name, for logs
     * @param maxReplyBytes the largest topology reply aggregated for a rewrite; a larger one is a
     *                      protocol violation (other replies are never aggregated, whatever their size)
     * @param routes        the listener's node ports
     * @param metrics       the listener's meters (redirects and topology rewrites are counted)
     */
    public RedisClusterCodec(String listener, int maxReplyBytes, NodeRoutes routes, ListenerMetrics metrics) {
        Objects.requireNonNull(listener, "listener");
        if (maxReplyBytes <= 0) {
            throw new IllegalArgumentException("maxReplyBytes: " + maxReplyBytes + " (expected: > 0)");
        }
        PendingCommands pending = new PendingCommands(listener);
        this.requests = new RedisRequestDecoder(pending);
        this.replies = new RedisReplyDecoder(pending, Objects.requireNonNull(routes, "routes"),
                Objects.requireNonNull(metrics, "metrics"), maxReplyBytes);
    }

    /** For the client channel's pipeline, in front of the relay handler (one instance per session). */
    public ChannelHandler requestHandler() {
        return requests;
    }

    /** For the upstream channel's pipeline, in front of the relay handler (one instance per session). */
    public ChannelHandler responseHandler() {
        return replies;
    }
}
