package dev.wharf.protocol.kafka;

import dev.wharf.protocol.ProtocolViolation;
import dev.wharf.protocol.ProxyAddress;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ShareAcknowledgeResponseData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Where each response type names brokers a client connects to: one hook per API, gated by the
 * version that introduced the addresses, handing every (node id, host, port) with its setter to
 * one rewriter ({@link AddressRewrite}).
 *
 * <p>Left out on purpose: DescribeQuorum's controller listeners (clients never connect to them, and
 * their node ids would collide with the brokers' in a combined cluster), the KRaft and inter-broker
 * APIs (Vote, BeginQuorumEpoch, EndQuorumEpoch, FetchSnapshot, UpdateRaftVoter: controller
 * listeners only), DescribeAcls/DeleteAcls (an ACL's host is a client address pattern) and
 * StreamsGroupHeartbeat/StreamsGroupDescribe (the endpoints of Kafka Streams instances, not brokers).
 */
final class BrokerAddresses {
    /** One broker address inside a decoded response. */
    record NodeAddress(int nodeId, String host, int port, Consumer<ProxyAddress> replace) {
        /** Error answers carry node id -1 and an empty host: nothing to route. */
        boolean routable() {
            return nodeId >= 0 && host != null && !host.isEmpty();
        }
    }

    /**
     * An API whose responses carry broker addresses from {@code sinceVersion} on; it decodes
     * {@code lowest..highest} with the generated class.
     */
    record Hook(ApiKeys api, short sinceVersion, short lowest, short highest,
                BiConsumer<ApiMessage, List<NodeAddress>> collect) {
        boolean carriesAddresses(short version) {
            return version >= sinceVersion;
        }
    }

    private static final Map<ApiKeys, Hook> HOOKS = new EnumMap<>(ApiKeys.class);

    static {
        hook(ApiKeys.METADATA, 0, MetadataResponseData.class, (data, found) -> data.brokers().forEach(b ->
                found.add(new NodeAddress(b.nodeId(), b.host(), b.port(), a -> b.setHost(a.host()).setPort(a.port())))));
        hook(ApiKeys.FIND_COORDINATOR, 0, FindCoordinatorResponseData.class, (data, found) -> {
            // v0-3 name one coordinator at the top level; v4+ a list (empty in v0-3, so both are safe to visit)
            found.add(new NodeAddress(data.nodeId(), data.host(), data.port(), a -> data.setHost(a.host()).setPort(a.port())));
            data.coordinators().forEach(c ->
                    found.add(new NodeAddress(c.nodeId(), c.host(), c.port(), a -> c.setHost(a.host()).setPort(a.port()))));
        });
        hook(ApiKeys.DESCRIBE_CLUSTER, 0, DescribeClusterResponseData.class, (data, found) -> data.brokers().forEach(b ->
                found.add(new NodeAddress(b.brokerId(), b.host(), b.port(), a -> b.setHost(a.host()).setPort(a.port())))));
        // KIP-951: the new leaders of partitions answered with NOT_LEADER_OR_FOLLOWER
        hook(ApiKeys.PRODUCE, 10, ProduceResponseData.class, (data, found) -> data.nodeEndpoints().forEach(e ->
                found.add(new NodeAddress(e.nodeId(), e.host(), e.port(), a -> e.setHost(a.host()).setPort(a.port())))));
        hook(ApiKeys.FETCH, 16, FetchResponseData.class, (data, found) -> data.nodeEndpoints().forEach(e ->
                found.add(new NodeAddress(e.nodeId(), e.host(), e.port(), a -> e.setHost(a.host()).setPort(a.port())))));
        hook(ApiKeys.SHARE_FETCH, 0, ShareFetchResponseData.class, (data, found) -> data.nodeEndpoints().forEach(e ->
                found.add(new NodeAddress(e.nodeId(), e.host(), e.port(), a -> e.setHost(a.host()).setPort(a.port())))));
        hook(ApiKeys.SHARE_ACKNOWLEDGE, 0, ShareAcknowledgeResponseData.class, (data, found) -> data.nodeEndpoints().forEach(e ->
                found.add(new NodeAddress(e.nodeId(), e.host(), e.port(), a -> e.setHost(a.host()).setPort(a.port())))));
    }

    private BrokerAddresses() {
    }

    private static <T extends ApiMessage> void hook(ApiKeys api, int sinceVersion, Class<T> type,
                                                    BiConsumer<T, List<NodeAddress>> collect) {
        ApiMessage empty = api.messageType.newResponse();
        if (!type.isInstance(empty)) {
            throw new IllegalStateException(api + " responses are " + empty.getClass().getName() + ", not " + type.getName());
        }
        HOOKS.put(api, new Hook(api, (short) sinceVersion, empty.lowestSupportedVersion(), empty.highestSupportedVersion(),
                (data, found) -> collect.accept(type.cast(data), found)));
    }

    /** The hook for {@code api}, or null when its responses never name brokers. */
    static Hook hook(ApiKeys api) {
        return api == null ? null : HOOKS.get(api);
    }

    /** The APIs rewritten, for ApiVersions capping and tests. */
    static Iterable<Hook> hooks() {
        return HOOKS.values();
    }

    /**
     * Rejects a request whose response would carry addresses at a version the generated class
     * cannot decode; ApiVersions never offers those versions, so only a client that ignored it sends one.
     */
    static void checkRequestVersion(short apiKey, short version, int correlationId) {
        Hook hook = ApiKeys.hasId(apiKey) ? HOOKS.get(ApiKeys.forId(apiKey)) : null;
        if (hook == null || !hook.carriesAddresses(version)) {
            return;
        }
        if (version > hook.highest()) {
            throw new ProtocolViolation("kafka request " + InFlight.describe(apiKey, version, correlationId)
                    + ": version above v" + hook.highest() + ", the highest whose broker addresses this proxy can rewrite");
        }
        if (version < hook.lowest()) {
            throw new ProtocolViolation("kafka request " + InFlight.describe(apiKey, version, correlationId)
                    + ": version below v" + hook.lowest() + ", the lowest whose broker addresses this proxy can rewrite");
        }
    }
}
