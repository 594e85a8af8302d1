package dev.wharf.protocol.kafka;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ShareAcknowledgeRequestData;
import org.apache.kafka.common.message.ShareAcknowledgeResponseData;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Records the response frames the codec tests replay, from a real cluster of three brokers (the
 * Produce, Fetch, ShareFetch and ShareAcknowledge leader endpoints need a broker that is not the
 * partition's leader). For each rewritten API and version it writes
 * {@code <api>-v<N>.recorded.bin}, the response frame as it came off the socket; where the broker
 * gives no answer carrying addresses (ShareAcknowledge, see {@link #share}) it writes
 * {@code <api>-v<N>.built.bin}, encoded with the generated classes from the cluster's own answer.
 * Plain sockets and kafka-clients' request classes only.
 *
 * <p>Usage: {@code KafkaFrameRecorder <bootstrap host:port> [output directory]}; see
 * src/test/resources/kafka/README.md for starting the brokers.
 */
public final class KafkaFrameRecorder {
    private static final String TOPIC = "wharf-rec";
    /** One replica: a Kafka 4 follower serves consumer fetches, so Fetch must go to a broker holding no replica. */
    private static final String SOLO_TOPIC = "wharf-rec-solo";
    private static final int PARTITIONS = 3;
    private static final String GROUP = "wharf-rec-group";
    private static final String SHARE_GROUP = "wharf-rec-share";

    private final Path out;
    private final Map<Integer, Broker> brokers = new TreeMap<>();
    private final Map<Short, short[]> offered = new TreeMap<>();
    private final List<String> written = new ArrayList<>();
    private Uuid topicId;
    private int leader;
    private int follower;
    private Uuid soloTopicId;
    private int notReplica;

    private KafkaFrameRecorder(Path out) {
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || !args[0].contains(":")) {
            System.err.println("usage: KafkaFrameRecorder <bootstrap host:port> [output directory]");
            System.exit(2);
        }
        Path out = Path.of(args.length > 1 ? args[1] : "proxy-core/src/test/resources/kafka");
        Files.createDirectories(out);
        String host = args[0].substring(0, args[0].lastIndexOf(':'));
        int port = Integer.parseInt(args[0].substring(args[0].lastIndexOf(':') + 1));
        KafkaFrameRecorder recorder = new KafkaFrameRecorder(out);
        try (Broker bootstrap = new Broker(-1, host, port)) {
            recorder.run(bootstrap);
        } finally {
            recorder.brokers.values().forEach(Broker::close);
        }
        recorder.written.forEach(System.out::println);
    }

    private void run(Broker bootstrap) throws Exception {
        apiVersions(bootstrap);
        createTopic(bootstrap, TOPIC, PARTITIONS, 3);
        createTopic(bootstrap, SOLO_TOPIC, 1, 1);
        MetadataResponseData cluster = awaitLeaders(bootstrap);
        for (MetadataResponseData.MetadataResponseBroker b : cluster.brokers()) {
            brokers.put(b.nodeId(), new Broker(b.nodeId(), b.host(), b.port()));
        }
        MetadataResponseData.MetadataResponsePartition p0 = cluster.topics().find(TOPIC).partitions().get(0);
        leader = p0.leaderId();
        follower = brokers.keySet().stream().filter(id -> id != leader).findFirst().orElseThrow();
        topicId = cluster.topics().find(TOPIC).topicId();
        System.out.println("topic " + TOPIC + " " + topicId + ": partition 0 led by " + leader + ", asking " + follower);
        MetadataResponseData.MetadataResponseTopic solo = cluster.topics().find(SOLO_TOPIC);
        soloTopicId = solo.topicId();
        int soloLeader = solo.partitions().get(0).leaderId();
        notReplica = brokers.keySet().stream().filter(id -> id != soloLeader).findFirst().orElseThrow();
        System.out.println("topic " + SOLO_TOPIC + " " + soloTopicId + ": led by " + soloLeader + ", asking " + notReplica);

        metadata(bootstrap);
        findCoordinator(bootstrap);
        describeCluster(bootstrap);
        produce();
        fetch();
        share(cluster);
    }

    private void apiVersions(Broker bootstrap) throws IOException {
        for (short v = 0; v <= ApiKeys.API_VERSIONS.latestVersion(); v++) {
            ApiVersionsRequestData request = new ApiVersionsRequestData();
            if (v >= 3) {
                request.setClientSoftwareName("wharf-recorder").setClientSoftwareVersion("1");
            }
            byte[] frame = bootstrap.send(ApiKeys.API_VERSIONS, v, request);
            write("api_versions", v, true, frame);
            if (v == ApiKeys.API_VERSIONS.latestVersion()) {
                ApiVersionsResponseData data = (ApiVersionsResponseData) KafkaFrames.decodeResponse(frame, ApiKeys.API_VERSIONS, v);
                data.apiKeys().forEach(a -> offered.put(a.apiKey(), new short[] {a.minVersion(), a.maxVersion()}));
            }
        }
        // A version the broker does not know: it answers UNSUPPORTED_VERSION in the v0 format.
        short unknown = (short) (ApiKeys.API_VERSIONS.latestVersion() + 1);
        byte[] frame = bootstrap.send(ApiKeys.API_VERSIONS, unknown, new ApiVersionsRequestData()
                .setClientSoftwareName("wharf-recorder").setClientSoftwareVersion("1"), ApiKeys.API_VERSIONS.latestVersion());
        Files.write(out.resolve("api_versions-v" + unknown + "-unsupported.recorded.bin"), frame);
        written.add("api_versions-v" + unknown + "-unsupported.recorded.bin");
        offered.forEach((key, range) -> System.out.println("broker offers " + (ApiKeys.hasId(key) ? ApiKeys.forId(key) : key)
                + " v" + range[0] + "-" + range[1]));
    }

    private static void createTopic(Broker bootstrap, String name, int partitions, int replicas) throws IOException {
        CreateTopicsRequestData request = new CreateTopicsRequestData().setTimeoutMs(30_000);
        request.topics().add(new CreateTopicsRequestData.CreatableTopic().setName(name).setNumPartitions(partitions)
                .setReplicationFactor((short) replicas));
        bootstrap.send(ApiKeys.CREATE_TOPICS, (short) 7, request);
    }

    private MetadataResponseData awaitLeaders(Broker bootstrap) throws Exception {
        for (int attempt = 0; attempt < 60; attempt++) {
            MetadataResponseData data = (MetadataResponseData) KafkaFrames.decodeResponse(
                    bootstrap.send(ApiKeys.METADATA, (short) 12, metadataRequest((short) 12)), ApiKeys.METADATA, (short) 12);
            MetadataResponseData.MetadataResponseTopic topic = data.topics().find(TOPIC);
            MetadataResponseData.MetadataResponseTopic solo = data.topics().find(SOLO_TOPIC);
            if (data.brokers().size() == 3 && topic != null && topic.errorCode() == 0 && topic.partitions().size() == PARTITIONS
                    && topic.partitions().stream().allMatch(p -> p.leaderId() >= 0 && p.isrNodes().size() == 3)
                    && solo != null && solo.errorCode() == 0 && solo.partitions().size() == 1
                    && solo.partitions().get(0).leaderId() >= 0) {
                return data;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("topic " + TOPIC + " has no leaders with three in-sync replicas after 30 s");
    }

    private static MetadataRequestData metadataRequest(short v) {
        MetadataRequestData request = new MetadataRequestData();
        request.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(TOPIC));
        request.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(SOLO_TOPIC));
        if (v >= 4) {
            request.setAllowAutoTopicCreation(false);
        }
        return request;
    }

    private void metadata(Broker bootstrap) throws IOException {
        record(bootstrap, ApiKeys.METADATA, v -> metadataRequest((short) v));
    }

    private void findCoordinator(Broker bootstrap) throws Exception {
        IntFunction<FindCoordinatorRequestData> request = v -> v >= 4
                ? new FindCoordinatorRequestData().setCoordinatorKeys(List.of(GROUP, GROUP + "-2"))
                : new FindCoordinatorRequestData().setKey(GROUP);
        // The first lookup creates __consumer_offsets: wait until a coordinator is there.
        for (int attempt = 0; ; attempt++) {
            FindCoordinatorResponseData data = (FindCoordinatorResponseData) KafkaFrames.decodeResponse(
                    bootstrap.send(ApiKeys.FIND_COORDINATOR, (short) 6, request.apply(6)), ApiKeys.FIND_COORDINATOR, (short) 6);
            if (data.coordinators().stream().allMatch(c -> c.errorCode() == 0)) {
                break;
            }
            if (attempt == 60) {
                throw new IllegalStateException("no group coordinator after 30 s: " + data);
            }
            Thread.sleep(500);
        }
        record(bootstrap, ApiKeys.FIND_COORDINATOR, request::apply);
    }

    private void describeCluster(Broker bootstrap) throws IOException {
        record(bootstrap, ApiKeys.DESCRIBE_CLUSTER, v -> new DescribeClusterRequestData());
    }

    /** Produce to a broker that is not partition 0's leader: NOT_LEADER_OR_FOLLOWER, with the leader's endpoint. */
    private void produce() throws IOException {
        IntFunction<ApiMessage> request = v -> {
            ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData();
            if (v >= 13) {
                topic.setTopicId(topicId);
            } else {
                topic.setName(TOPIC);
            }
            topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(
                    MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("key".getBytes(StandardCharsets.UTF_8),
                            "value".getBytes(StandardCharsets.UTF_8)))));
            ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(5_000);
            data.topicData().add(topic);
            return data;
        };
        for (short v = 10; v <= ProduceRequestData.HIGHEST_SUPPORTED_VERSION; v++) {
            byte[] frame = brokers.get(follower).send(ApiKeys.PRODUCE, v, request.apply(v));
            ProduceResponseData data = (ProduceResponseData) KafkaFrames.decodeResponse(frame, ApiKeys.PRODUCE, v);
            requireEndpoints(ApiKeys.PRODUCE, v, data.nodeEndpoints().size(), data);
            write("produce", v, true, frame);
        }
    }

    /** Fetch from a broker holding no replica, as a consumer: NOT_LEADER_OR_FOLLOWER, with the leader's endpoint. */
    private void fetch() throws IOException {
        for (short v = 16; v <= FetchRequestData.HIGHEST_SUPPORTED_VERSION; v++) {
            FetchRequestData request = new FetchRequestData().setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20);
            FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic().setTopicId(soloTopicId);
            topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                    .setPartitionMaxBytes(1 << 20));
            request.topics().add(topic);
            byte[] frame = brokers.get(notReplica).send(ApiKeys.FETCH, v, request);
            FetchResponseData data = (FetchResponseData) KafkaFrames.decodeResponse(frame, ApiKeys.FETCH, v);
            requireEndpoints(ApiKeys.FETCH, v, data.nodeEndpoints().size(), data);
            write("fetch", v, true, frame);
        }
    }

    /**
     * ShareFetch on a broker holding no replica: NOT_LEADER_OR_FOLLOWER with the leader's endpoint.
     * ShareAcknowledge there answers UNKNOWN_TOPIC_OR_PARTITION without endpoints (recorded as
     * {@code -no-endpoints}); a Kafka 4.3.1 broker gave no NOT_LEADER_OR_FOLLOWER acknowledgement
     * answer here, not even to a leader that lost the partition after a ShareFetch opened the
     * session. So the endpoint-carrying ShareAcknowledge frames are built: that recorded answer
     * with the partition's error turned into NOT_LEADER_OR_FOLLOWER and the leader's real endpoint added.
     */
    private void share(MetadataResponseData cluster) throws Exception {
        String memberId = joinShareGroup(SHARE_GROUP, SOLO_TOPIC);
        Broker asked = brokers.get(notReplica);
        MetadataResponseData.MetadataResponsePartition solo = cluster.topics().find(SOLO_TOPIC).partitions().get(0);
        Broker soloLeader = brokers.get(solo.leaderId());
        for (short v = 1; v <= ShareFetchRequestData.HIGHEST_SUPPORTED_VERSION; v++) {
            byte[] frame = asked.send(ApiKeys.SHARE_FETCH, v, shareFetch(memberId, 0));
            ShareFetchResponseData data = (ShareFetchResponseData) KafkaFrames.decodeResponse(frame, ApiKeys.SHARE_FETCH, v);
            requireEndpoints(ApiKeys.SHARE_FETCH, v, data.nodeEndpoints().size(), data);
            write("share_fetch", v, true, frame);

            ShareAcknowledgeRequestData ack = new ShareAcknowledgeRequestData().setGroupId(SHARE_GROUP).setMemberId(memberId)
                    .setShareSessionEpoch(1);
            ShareAcknowledgeRequestData.AcknowledgeTopic ackTopic = new ShareAcknowledgeRequestData.AcknowledgeTopic().setTopicId(soloTopicId);
            ackTopic.partitions().add(new ShareAcknowledgeRequestData.AcknowledgePartition().setPartitionIndex(0)
                    .setAcknowledgementBatches(List.of(new ShareAcknowledgeRequestData.AcknowledgementBatch()
                            .setFirstOffset(0).setLastOffset(0).setAcknowledgeTypes(List.of((byte) 1)))));
            ack.topics().add(ackTopic);
            byte[] ackFrame = asked.send(ApiKeys.SHARE_ACKNOWLEDGE, v, ack);
            Files.write(out.resolve("share_acknowledge-v" + v + "-no-endpoints.recorded.bin"), ackFrame);
            written.add("share_acknowledge-v" + v + "-no-endpoints.recorded.bin");

            ShareAcknowledgeResponseData built = (ShareAcknowledgeResponseData) KafkaFrames.decodeResponse(
                    ackFrame, ApiKeys.SHARE_ACKNOWLEDGE, v);
            built.responses().forEach(t -> t.partitions().forEach(p -> p.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code())
                    .setErrorMessage(Errors.NOT_LEADER_OR_FOLLOWER.message())
                    .setCurrentLeader(new ShareAcknowledgeResponseData.LeaderIdAndEpoch().setLeaderId(solo.leaderId())
                            .setLeaderEpoch(solo.leaderEpoch()))));
            built.nodeEndpoints().add(new ShareAcknowledgeResponseData.NodeEndpoint().setNodeId(soloLeader.nodeId)
                    .setHost(soloLeader.host).setPort(soloLeader.port));
            write("share_acknowledge", v, false, KafkaFrames.response(ApiKeys.SHARE_ACKNOWLEDGE, v,
                    KafkaFrames.correlationId(ackFrame), built));

            asked.send(ApiKeys.SHARE_FETCH, v, shareFetch(memberId, -1)); // close the session: the next version opens one
        }
    }

    private String joinShareGroup(String group, String topic) throws Exception {
        Broker coordinator = coordinator(group);
        String memberId = Uuid.randomUuid().toString();
        int epoch = 0;
        for (int attempt = 0; ; attempt++) {
            ShareGroupHeartbeatResponseData joined = (ShareGroupHeartbeatResponseData) KafkaFrames.decodeResponse(
                    coordinator.send(ApiKeys.SHARE_GROUP_HEARTBEAT, (short) 1, new ShareGroupHeartbeatRequestData()
                            .setGroupId(group).setMemberId(memberId).setMemberEpoch(epoch)
                            .setSubscribedTopicNames(attempt == 0 ? List.of(topic) : null)),
                    ApiKeys.SHARE_GROUP_HEARTBEAT, (short) 1);
            if (joined.errorCode() != 0) {
                throw new IllegalStateException("ShareGroupHeartbeat: " + joined);
            }
            epoch = joined.memberEpoch();
            if ((joined.assignment() != null && !joined.assignment().topicPartitions().isEmpty()) || attempt == 20) {
                System.out.println("share group " + group + " member " + memberId + ": " + joined.assignment());
                return memberId;
            }
            Thread.sleep(500);
        }
    }

    private ShareFetchRequestData shareFetch(String memberId, int epoch) {
        ShareFetchRequestData request = new ShareFetchRequestData().setGroupId(SHARE_GROUP).setMemberId(memberId)
                .setShareSessionEpoch(epoch).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20).setMaxRecords(10)
                .setBatchSize(10);
        if (epoch >= 0) {
            ShareFetchRequestData.FetchTopic fetchTopic = new ShareFetchRequestData.FetchTopic().setTopicId(soloTopicId);
            fetchTopic.partitions().add(new ShareFetchRequestData.FetchPartition().setPartitionIndex(0));
            request.topics().add(fetchTopic);
        }
        return request;
    }

    private Broker coordinator(String group) throws IOException {
        Broker any = brokers.values().iterator().next();
        FindCoordinatorResponseData data = (FindCoordinatorResponseData) KafkaFrames.decodeResponse(
                any.send(ApiKeys.FIND_COORDINATOR, (short) 6, new FindCoordinatorRequestData().setKeyType((byte) 0)
                        .setCoordinatorKeys(List.of(group))), ApiKeys.FIND_COORDINATOR, (short) 6);
        FindCoordinatorResponseData.Coordinator c = data.coordinators().get(0);
        if (c.errorCode() != 0) {
            throw new IllegalStateException("no coordinator for " + group + ": " + Errors.forCode(c.errorCode()));
        }
        return brokers.get(c.nodeId());
    }

    private static void requireEndpoints(ApiKeys api, short v, int endpoints, ApiMessage data) {
        if (endpoints == 0) {
            throw new IllegalStateException(api + " v" + v + " answered without node endpoints: " + data);
        }
    }

    /**
     * Every version of {@code api} the codec decodes. A Kafka 4.3.1 broker speaks all of them for
     * Metadata, FindCoordinator and DescribeCluster; should a later broker refuse one, this stops
     * and names it, and a {@code .built.bin} frame for that version needs a builder here.
     */
    private void record(Broker broker, ApiKeys api, IntFunction<ApiMessage> request) throws IOException {
        short[] range = offered.getOrDefault(api.id, new short[] {0, -1});
        for (short v = 0; v <= api.messageType.highestSupportedVersion(true); v++) {
            if (v < range[0] || v > range[1]) {
                throw new IllegalStateException("the broker refuses " + api + " v" + v + " (offers v" + range[0] + "-" + range[1]
                        + "): build that frame with the generated classes instead");
            }
            write(api.name().toLowerCase(java.util.Locale.ROOT), v, true, broker.send(api, v, request.apply(v)));
        }
    }

    private void write(String api, short version, boolean recorded, byte[] frame) throws IOException {
        String file = api + "-v" + version + (recorded ? ".recorded.bin" : ".built.bin");
        Files.write(out.resolve(file), frame);
        written.add(file);
    }

    /** One plain socket to a broker; requests go one at a time. */
    private static final class Broker implements Closeable {
        final int nodeId;
        final String host;
        final int port;
        private final Socket socket = new Socket();
        private final DataInputStream in;
        private final OutputStream out;
        private int nextCorrelationId = 1;

        Broker(int nodeId, String host, int port) throws IOException {
            this.nodeId = nodeId;
            this.host = host;
            this.port = port;
            socket.connect(new InetSocketAddress(host, port), 10_000);
            socket.setSoTimeout(30_000);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        byte[] send(ApiKeys api, short version, ApiMessage body) throws IOException {
            return send(api, version, body, version);
        }

        /** Sends {@code body} encoded at {@code bodyVersion} under a header naming {@code version}; returns the response frame. */
        byte[] send(ApiKeys api, short version, ApiMessage body, short bodyVersion) throws IOException {
            int correlationId = nextCorrelationId++;
            byte[] request = KafkaFrames.request(api, version, correlationId, body, bodyVersion);
            out.write(request);
            out.flush();
            int size = in.readInt();
            byte[] frame = ByteBuffer.allocate(4 + size).putInt(size).array();
            in.readFully(frame, 4, size);
            if (KafkaFrames.correlationId(frame) != correlationId) {
                throw new IOException(api + " v" + version + ": correlation id " + KafkaFrames.correlationId(frame)
                        + " (expected: " + correlationId + ")");
            }
            return frame;
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
