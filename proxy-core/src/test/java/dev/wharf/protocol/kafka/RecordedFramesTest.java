package dev.wharf.protocol.kafka;

import static dev.wharf.protocol.kafka.CodecHarness.proxyOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.protocol.ProxyAddress;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ShareAcknowledgeResponseData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every address-carrying response type at every version the codec decodes, replayed from frames a
 * Kafka 4.3.1 cluster sent ({@code .recorded.bin}) or, where it would not, frames built with the
 * generated classes ({@code .built.bin}); see src/test/resources/kafka/README.md.
 */
class RecordedFramesTest {
    private static final Pattern FRAME = Pattern.compile("([a-z_]+)-v(\\d+)\\.(recorded|built)\\.bin");

    /** The versions whose responses name brokers, per API: what the frames must cover. */
    private static final Map<ApiKeys, int[]> ADDRESS_VERSIONS = Map.of(
            ApiKeys.METADATA, new int[] {0, 13},
            ApiKeys.FIND_COORDINATOR, new int[] {0, 6},
            ApiKeys.DESCRIBE_CLUSTER, new int[] {0, 2},
            ApiKeys.PRODUCE, new int[] {10, 13},
            ApiKeys.FETCH, new int[] {16, 18},
            ApiKeys.SHARE_FETCH, new int[] {1, 2},
            ApiKeys.SHARE_ACKNOWLEDGE, new int[] {1, 2});

    record Frame(String file, ApiKeys api, short version) {
        @Override
        public String toString() {
            return file;
        }
    }

    static Stream<Frame> addressFrames() throws IOException, URISyntaxException {
        List<Frame> frames = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of(RecordedFramesTest.class.getResource("/kafka").toURI()))) {
            for (Path file : (Iterable<Path>) files.sorted()::iterator) {
                Matcher m = FRAME.matcher(file.getFileName().toString());
                if (m.matches() && !m.group(1).equals("api_versions")) {
                    frames.add(new Frame(m.group(0), ApiKeys.valueOf(m.group(1).toUpperCase(Locale.ROOT)),
                            Short.parseShort(m.group(2))));
                }
            }
        }
        return frames.stream();
    }

    @Test
    void framesCoverEveryRewrittenApiAndVersion() throws Exception {
        // given the APIs the codec rewrites, and the versions kafka-clients 4.3.1 decodes
        Set<ApiKeys> hooked = new TreeSet<>();
        BrokerAddresses.hooks().forEach(h -> hooked.add(h.api()));
        assertEquals(new TreeSet<>(ADDRESS_VERSIONS.keySet()), hooked, "the APIs this test expects to be rewritten");

        // when listing the frames
        Map<ApiKeys, Set<Short>> found = new TreeMap<>();
        addressFrames().forEach(f -> found.computeIfAbsent(f.api(), a -> new TreeSet<>()).add(f.version()));

        // then each address-carrying version has exactly one frame, up to the generated class's highest
        ADDRESS_VERSIONS.forEach((api, range) -> {
            BrokerAddresses.Hook hook = BrokerAddresses.hook(api);
            assertEquals(range[0], Math.max(hook.sinceVersion(), hook.lowest()), api + " first address version");
            assertEquals(range[1], hook.highest(), api + " highest version");
            Set<Short> expected = new TreeSet<>();
            for (int v = range[0]; v <= range[1]; v++) {
                expected.add((short) v);
            }
            assertEquals(expected, found.get(api), api + " versions with a frame");
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("addressFrames")
    void everyBrokerAddressBecomesTheProxysAndNothingElseChanges(Frame frame) {
        try (CodecHarness harness = new CodecHarness()) {
            // given the request this frame answers
            byte[] response = KafkaFrames.resource(frame.file());
            int correlationId = KafkaFrames.correlationId(response);
            byte[] request = request(frame.api(), frame.version(), correlationId);
            harness.fromClient(request);
            assertArrayEquals(request, harness.toUpstream().get(0));

            // when the broker's response comes back
            harness.fromUpstream(response);

            // then the client gets one frame
            List<byte[]> toClient = harness.toClient();
            assertEquals(1, toClient.size());
            byte[] rewritten = toClient.get(0);
            assertArrayEquals(KafkaFrames.responseHeader(response, frame.api(), frame.version()),
                    KafkaFrames.responseHeader(rewritten, frame.api(), frame.version()), "header bytes");
            ApiMessage original = KafkaFrames.decodeResponse(response, frame.api(), frame.version());
            ApiMessage actual = KafkaFrames.decodeResponse(rewritten, frame.api(), frame.version());
            // naming brokers (the frames were chosen so that they do)
            List<Address> before = addresses(frame.api(), original);
            assertFalse(before.stream().noneMatch(Address::routable), "no broker address in " + frame.file());
            // every one of them the proxy's
            for (Address address : addresses(frame.api(), actual)) {
                if (address.routable()) {
                    assertEquals(proxyOf(address.nodeId()), new ProxyAddress(address.host(), address.port()), frame.file());
                }
            }
            // and every other field as the broker sent it
            ApiMessage expected = KafkaFrames.decodeResponse(response, frame.api(), frame.version());
            addresses(frame.api(), expected).stream().filter(Address::routable)
                    .forEach(a -> a.set().accept(proxyOf(a.nodeId())));
            assertEquals(expected, actual);
            assertEquals(1, harness.rewrites(frame.api().name().toLowerCase(Locale.ROOT)));
            // the routes were asked with the broker's own identity and address
            assertTrue(harness.routes.asked.containsAll(before.stream().filter(Address::routable)
                    .map(a -> a.nodeId() + "@" + a.host() + ":" + a.port()).toList()), harness.routes.asked.toString());
        }
    }

    @ParameterizedTest(name = "share_acknowledge v{0}")
    @MethodSource("shareAcknowledgeVersions")
    void anAddressCarryingApiAnsweredWithoutAddressesPassesAsItsOriginalBytes(short version) {
        try (CodecHarness harness = new CodecHarness()) {
            // given a real ShareAcknowledge answer with no node endpoint (UNKNOWN_TOPIC_OR_PARTITION)
            byte[] response = KafkaFrames.resource("share_acknowledge-v" + version + "-no-endpoints.recorded.bin");
            harness.fromClient(request(ApiKeys.SHARE_ACKNOWLEDGE, version, KafkaFrames.correlationId(response)));

            // when it comes back
            harness.fromUpstream(response);

            // then
            assertArrayEquals(response, harness.toClient().get(0));
            assertEquals(0, harness.rewrites("share_acknowledge"));
        }
    }

    static Stream<Short> shareAcknowledgeVersions() {
        return Stream.of((short) 1, (short) 2);
    }

    /** A request the codec accepts for {@code api}: Produce with acks=1 and a record, others their default body. */
    static byte[] request(ApiKeys api, short version, int correlationId) {
        if (api != ApiKeys.PRODUCE) {
            return KafkaFrames.request(api, version, correlationId);
        }
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("t").setTopicId(Uuid.ONE_UUID);
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(
                MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("v".getBytes(StandardCharsets.UTF_8)))));
        ProduceRequestData produce = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(1000);
        produce.topicData().add(topic);
        return KafkaFrames.request(api, version, correlationId, produce);
    }

    /** One broker address in a decoded response, found independently of the codec's own hooks. */
    record Address(int nodeId, String host, int port, Consumer<ProxyAddress> set) {
        boolean routable() {
            return nodeId >= 0 && !host.isEmpty();
        }
    }

    static List<Address> addresses(ApiKeys api, ApiMessage data) {
        List<Address> found = new ArrayList<>();
        switch (api) {
            case METADATA -> ((MetadataResponseData) data).brokers().forEach(b -> found.add(
                    new Address(b.nodeId(), b.host(), b.port(), a -> b.setHost(a.host()).setPort(a.port()))));
            case FIND_COORDINATOR -> {
                FindCoordinatorResponseData f = (FindCoordinatorResponseData) data;
                found.add(new Address(f.nodeId(), f.host(), f.port(), a -> f.setHost(a.host()).setPort(a.port())));
                f.coordinators().forEach(c -> found.add(
                        new Address(c.nodeId(), c.host(), c.port(), a -> c.setHost(a.host()).setPort(a.port()))));
            }
            case DESCRIBE_CLUSTER -> ((DescribeClusterResponseData) data).brokers().forEach(b -> found.add(
                    new Address(b.brokerId(), b.host(), b.port(), a -> b.setHost(a.host()).setPort(a.port()))));
            case PRODUCE -> ((ProduceResponseData) data).nodeEndpoints().forEach(e -> found.add(
                    new Address(e.nodeId(), e.host(), e.port(), a -> e.setHost(a.host()).setPort(a.port()))));
            case FETCH -> ((FetchResponseData) data).nodeEndpoints().forEach(e -> found.add(
                    new Address(e.nodeId(), e.host(), e.port(), a -> e.setHost(a.host()).setPort(a.port()))));
            case SHARE_FETCH -> ((ShareFetchResponseData) data).nodeEndpoints().forEach(e -> found.add(
                    new Address(e.nodeId(), e.host(), e.port(), a -> e.setHost(a.host()).setPort(a.port()))));
            case SHARE_ACKNOWLEDGE -> ((ShareAcknowledgeResponseData) data).nodeEndpoints().forEach(e -> found.add(
                    new Address(e.nodeId(), e.host(), e.port(), a -> e.setHost(a.host()).setPort(a.port()))));
            default -> throw new IllegalArgumentException(api + " names no broker");
        }
        return found;
    }
}
