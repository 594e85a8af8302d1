package dev.wharf.protocol.kafka;

import static dev.wharf.protocol.kafka.CodecHarness.proxyOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.protocol.ProtocolViolation;
import dev.wharf.protocol.ProxyAddress;
import dev.wharf.testing.LeakGuard;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The codec's framing, ordering, ApiVersions capping and waiting, on embedded channels. */
class KafkaCodecTest {
    private static final short METADATA_V = 12;

    private final CodecHarness harness = new CodecHarness();

    @AfterEach
    void close() {
        harness.close();
    }

    @Test
    void requestsPassByteForByteWhateverTheirApi() {
        // given a Produce with a record batch, a Metadata request and an API kafka-clients does not know
        byte[] produce = RecordedFramesTest.request(ApiKeys.PRODUCE, (short) 11, 1);
        byte[] metadata = KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 2);
        byte[] unknown = frame(bytes(0x7f, 0x00, 0x00, 0x03, 0, 0, 0, 3), "opaque body".getBytes());

        // when all three come in one read
        harness.fromClient(concat(produce, metadata, unknown));

        // then each goes on as it came, one message per request
        List<byte[]> sent = harness.toUpstream();
        assertEquals(3, sent.size());
        assertArrayEquals(produce, sent.get(0));
        assertArrayEquals(metadata, sent.get(1));
        assertArrayEquals(unknown, sent.get(2));
        // and the unknown API's response passes as it came too
        byte[] opaqueResponse = frame(bytes(0, 0, 0, 3), "opaque response".getBytes());
        harness.fromUpstream(concat(KafkaFrames.response(ApiKeys.PRODUCE, (short) 11, 1, new ProduceResponseData()),
                metadataResponse(2), opaqueResponse));
        List<byte[]> answered = harness.toClient();
        assertEquals(3, answered.size());
        assertArrayEquals(opaqueResponse, answered.get(2));
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderWithOnlyTheAddressesChanged() {
        // given three requests in flight
        byte[] metadata = KafkaFrames.resource("metadata-v12.recorded.bin");
        int metadataId = KafkaFrames.correlationId(metadata);
        harness.fromClient(KafkaFrames.request(ApiKeys.HEARTBEAT, (short) 4, metadataId - 1));
        harness.fromClient(KafkaFrames.request(ApiKeys.METADATA, METADATA_V, metadataId));
        harness.fromClient(KafkaFrames.request(ApiKeys.LIST_OFFSETS, (short) 9, metadataId + 1));
        harness.toUpstream();

        // when the three answers come in one read
        byte[] heartbeat = response(metadataId - 1, "heartbeat body, never decoded");
        byte[] listOffsets = response(metadataId + 1, "list offsets body, never decoded");
        harness.fromUpstream(concat(heartbeat, metadata, listOffsets));

        // then they reach the client in order: the others as they were, Metadata rewritten
        List<byte[]> answered = harness.toClient();
        assertEquals(3, answered.size());
        assertArrayEquals(heartbeat, answered.get(0));
        MetadataResponseData rewritten = (MetadataResponseData) KafkaFrames.decodeResponse(answered.get(1), ApiKeys.METADATA, METADATA_V);
        rewritten.brokers().forEach(b -> assertEquals(proxyOf(b.nodeId()), new ProxyAddress(b.host(), b.port())));
        assertArrayEquals(listOffsets, answered.get(2));
        assertEquals(1, harness.rewrites("metadata"));
    }

    @Test
    void anAcksZeroProduceIsNotAwaited() {
        // given a produce the broker will not answer, then a Metadata request
        harness.fromClient(concat(produce((short) 0, (short) 9, 40), KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 41)));

        // when the Metadata answer comes
        harness.fromUpstream(metadataResponse(41));

        // then it matches: the produce was never in flight
        assertEquals(1, harness.toClient().size());
        // while an acks=1 produce is awaited like any request
        harness.fromClient(produce((short) 1, (short) 9, 42));
        ProtocolViolation skipped = assertThrows(ProtocolViolation.class, () -> harness.fromUpstream(metadataResponse(43)));
        assertTrue(skipped.getMessage().contains("expected: 42"), skipped.getMessage());
    }

    @Test
    void aResponseOutOfOrderIsAViolationNamingTheRequestItShouldAnswer() {
        // given
        harness.fromClient(concat(KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 7), KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 8)));

        // when the second answer comes first
        ProtocolViolation violation = assertThrows(ProtocolViolation.class, () -> harness.fromUpstream(metadataResponse(8)));

        // then
        assertEquals("kafka response with correlation id 8 (expected: 7, answering metadata v12 (correlation id 7), "
                + "the oldest request in flight)", violation.getMessage());
    }

    @Test
    void aResponseWithNoRequestInFlightIsAViolation() {
        ProtocolViolation violation = assertThrows(ProtocolViolation.class, () -> harness.fromUpstream(metadataResponse(3)));
        assertEquals("kafka response with correlation id 3 (expected: none, no request in flight)", violation.getMessage());
    }

    @Test
    void sizesOutsideTheirBoundsAreViolationsBeforeAnyBodyArrives() {
        assertEquals("kafka request size: 1048577 (expected: 8..1048576)",
                assertThrows(ProtocolViolation.class, () -> harness.fromClient(bytes(0, 0x10, 0, 1))).getMessage());
        try (CodecHarness other = new CodecHarness()) {
            assertEquals("kafka request size: -1 (expected: 8..1048576)",
                    assertThrows(ProtocolViolation.class, () -> other.fromClient(bytes(0xff, 0xff, 0xff, 0xff))).getMessage());
            assertEquals("kafka response size: -2 (expected: 4..1048576)",
                    assertThrows(ProtocolViolation.class, () -> other.fromUpstream(bytes(0xff, 0xff, 0xff, 0xfe))).getMessage());
        }
        try (CodecHarness other = new CodecHarness()) {
            assertEquals("kafka response size: 2097152 (expected: 4..1048576)",
                    assertThrows(ProtocolViolation.class, () -> other.fromUpstream(bytes(0, 0x20, 0, 0))).getMessage());
            // a request too short for its header
            assertEquals("kafka request size: 7 (expected: 8..1048576)",
                    assertThrows(ProtocolViolation.class, () -> other.fromClient(bytes(0, 0, 0, 7, 0, 3, 0, 12, 0, 0, 0))).getMessage());
        }
    }

    @Test
    void aBodyCutShortInsideItsFrameIsAViolationNamingApiVersionAndCorrelationId() {
        // given
        byte[] metadata = KafkaFrames.resource("metadata-v12.recorded.bin");
        int id = KafkaFrames.correlationId(metadata);
        harness.fromClient(KafkaFrames.request(ApiKeys.METADATA, METADATA_V, id));
        byte[] truncated = Arrays.copyOf(metadata, metadata.length - 5);
        ByteBuffer.wrap(truncated).putInt(truncated.length - 4);

        // when
        ProtocolViolation violation = assertThrows(ProtocolViolation.class, () -> harness.fromUpstream(truncated));

        // then
        assertTrue(violation.getMessage().startsWith("kafka response to metadata v12 (correlation id " + id
                + "): cannot decode the body: "), violation.getMessage());
        assertTrue(harness.toClient().isEmpty());
    }

    @Test
    void aProduceRequestThatDoesNotParseIsAViolation() {
        byte[] produce = produce((short) 1, (short) 9, 5);
        byte[] truncated = Arrays.copyOf(produce, produce.length - 10);
        ByteBuffer.wrap(truncated).putInt(truncated.length - 4);
        ProtocolViolation violation = assertThrows(ProtocolViolation.class, () -> harness.fromClient(truncated));
        assertTrue(violation.getMessage().startsWith("kafka request produce v9 (correlation id 5): unreadable: "), violation.getMessage());
    }

    @Test
    void requestsForVersionsTheCodecCannotRewriteAreRefused() {
        assertEquals("kafka request metadata v14 (correlation id 9): version above v13, the highest whose broker "
                        + "addresses this proxy can rewrite",
                assertThrows(ProtocolViolation.class, () -> harness.fromClient(header(ApiKeys.METADATA.id, 14, 9))).getMessage());
        try (CodecHarness other = new CodecHarness()) {
            assertEquals("kafka request produce v14 (correlation id 9): version above v13, the highest whose broker "
                            + "addresses this proxy can rewrite",
                    assertThrows(ProtocolViolation.class, () -> other.fromClient(header(ApiKeys.PRODUCE.id, 14, 9))).getMessage());
        }
        try (CodecHarness other = new CodecHarness()) {
            // ShareFetch v0 (Kafka 4.0's early access) is gone from kafka-clients 4.3.1
            assertEquals("kafka request share_fetch v0 (correlation id 9): version below v1, the lowest whose broker "
                            + "addresses this proxy can rewrite",
                    assertThrows(ProtocolViolation.class, () -> other.fromClient(header(ApiKeys.SHARE_FETCH.id, 0, 9))).getMessage());
        }
        try (CodecHarness other = new CodecHarness()) {
            // offered by Kafka 4 brokers for old clients' sake, refused by them and unreadable by kafka-clients 4.3.1
            assertEquals("kafka request produce v2 (correlation id 9): version outside v3..v13, the versions whose acks "
                            + "this proxy can read",
                    assertThrows(ProtocolViolation.class, () -> other.fromClient(header(ApiKeys.PRODUCE.id, 2, 9))).getMessage());
        }
        try (CodecHarness other = new CodecHarness()) {
            assertTrue(assertThrows(ProtocolViolation.class, () -> other.fromClient(header(ApiKeys.SASL_HANDSHAKE.id, 0, 1)))
                    .getMessage().contains("SaslHandshake v0"));
        }
    }

    @Test
    void requestsInFlightAreBounded() {
        for (int id = 0; id < KafkaCodec.MAX_IN_FLIGHT; id++) {
            harness.fromClient(KafkaFrames.request(ApiKeys.HEARTBEAT, (short) 4, id));
        }
        assertEquals(KafkaCodec.MAX_IN_FLIGHT, harness.toUpstream().size());
        ProtocolViolation violation = assertThrows(ProtocolViolation.class,
                () -> harness.fromClient(KafkaFrames.request(ApiKeys.HEARTBEAT, (short) 4, 5000)));
        assertEquals("kafka requests in flight: 1025 (expected: <= 1024) at heartbeat v4 (correlation id 5000)", violation.getMessage());
    }

    @Test
    void aBrokerOfTheSameKafkaVersionHasNothingCapped() {
        for (short v = 0; v <= 4; v++) {
            try (CodecHarness other = new CodecHarness()) {
                byte[] response = KafkaFrames.resource("api_versions-v" + v + ".recorded.bin");
                other.fromClient(KafkaFrames.request(ApiKeys.API_VERSIONS, v, KafkaFrames.correlationId(response)));
                other.fromUpstream(response);
                assertArrayEquals(response, other.toClient().get(0), "v" + v);
                assertEquals(0, other.rewrites("api_versions"));
            }
        }
    }

    @Test
    void apiVersionsAreCappedToWhatTheCodecDecodesAndUnknownApisDropped() {
        // given a newer broker's offer
        ApiVersionsResponseData offer = new ApiVersionsResponseData().setThrottleTimeMs(0);
        offer.apiKeys().add(api(ApiKeys.METADATA.id, 0, 20));
        offer.apiKeys().add(api(ApiKeys.PRODUCE.id, 3, 13));
        offer.apiKeys().add(api(ApiKeys.HEARTBEAT.id, 0, 9));
        offer.apiKeys().add(api(ApiKeys.SHARE_FETCH.id, 0, 2));
        offer.apiKeys().add(api(ApiKeys.LEADER_AND_ISR.id, 0, 7));
        offer.apiKeys().add(api((short) 999, 0, 1));
        harness.fromClient(KafkaFrames.request(ApiKeys.API_VERSIONS, (short) 3, 1));

        // when it comes back
        harness.fromUpstream(KafkaFrames.response(ApiKeys.API_VERSIONS, (short) 3, 1, offer));

        // then the client is offered only what the codec follows
        ApiVersionsResponseData capped = (ApiVersionsResponseData) KafkaFrames.decodeResponse(
                harness.toClient().get(0), ApiKeys.API_VERSIONS, (short) 3);
        assertEquals(List.of("METADATA 0-13", "PRODUCE 3-13", "HEARTBEAT 0-" + ApiKeys.HEARTBEAT.latestVersion(),
                "SHARE_FETCH 1-2"), capped.apiKeys().stream()
                .map(a -> ApiKeys.forId(a.apiKey()) + " " + a.minVersion() + "-" + a.maxVersion()).toList());
        assertEquals(1, harness.rewrites("api_versions"));
    }

    @Test
    void anApiVersionsAnswerInTheV0FallbackFormatIsReadAndCappedAsV0() {
        // given a request at a version the broker does not know; its real answer passes as it came
        byte[] recorded = KafkaFrames.resource("api_versions-v5-unsupported.recorded.bin");
        harness.fromClient(KafkaFrames.request(ApiKeys.API_VERSIONS, (short) 5, KafkaFrames.correlationId(recorded),
                new org.apache.kafka.common.message.ApiVersionsRequestData(), (short) 4));
        harness.fromUpstream(recorded);
        assertArrayEquals(recorded, harness.toClient().get(0));
        ApiVersionsResponseData v0 = (ApiVersionsResponseData) KafkaFrames.decodeResponse(recorded, ApiKeys.API_VERSIONS, (short) 0);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), v0.errorCode());

        // when a v0-format answer offers an API kafka-clients does not know
        ApiVersionsResponseData offer = new ApiVersionsResponseData().setErrorCode(Errors.UNSUPPORTED_VERSION.code());
        offer.apiKeys().add(api(ApiKeys.API_VERSIONS.id, 0, 9));
        offer.apiKeys().add(api((short) 999, 0, 1));
        harness.fromClient(KafkaFrames.request(ApiKeys.API_VERSIONS, (short) 5, 77, new org.apache.kafka.common.message.ApiVersionsRequestData(), (short) 4));
        harness.fromUpstream(KafkaFrames.response(ApiKeys.API_VERSIONS, (short) 0, 77, offer));

        // then the answer is capped and stays in the v0 format the client falls back to
        ApiVersionsResponseData capped = (ApiVersionsResponseData) KafkaFrames.decodeResponse(
                harness.toClient().get(0), ApiKeys.API_VERSIONS, (short) 0);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), capped.errorCode());
        assertEquals(List.of(api(ApiKeys.API_VERSIONS.id, 0, 4)), List.copyOf(capped.apiKeys()));
    }

    @Test
    void aResponseWaitingForARouteHoldsTheOnesBehindItAndTheReads() {
        // given two requests, and broker 2's proxy port still being bound
        CompletableFuture<ProxyAddress> broker2 = harness.routes.hold(2);
        harness.fromClient(concat(KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 1), KafkaFrames.request(ApiKeys.HEARTBEAT, (short) 4, 2)));
        int reads = harness.upstreamReads.reads;
        int readCompletes = harness.upstreamRelay.readCompletes;

        // when both answers arrive in one read
        byte[] heartbeat = response(2, "after metadata");
        harness.fromUpstream(concat(metadataResponse(1), heartbeat));

        // then nothing reaches the client, the relay is not told to flush, and nothing more is read
        assertTrue(harness.toClient().isEmpty());
        assertEquals(readCompletes, harness.upstreamRelay.readCompletes);
        assertEquals(reads, harness.upstreamReads.reads);

        // when the port is bound
        broker2.complete(proxyOf(2));

        // then both go on in order, then one read-complete: the relay flushes and reads again
        List<byte[]> answered = harness.toClient();
        assertEquals(2, answered.size());
        MetadataResponseData rewritten = (MetadataResponseData) KafkaFrames.decodeResponse(answered.get(0), ApiKeys.METADATA, METADATA_V);
        rewritten.brokers().forEach(b -> assertEquals(proxyOf(b.nodeId()), new ProxyAddress(b.host(), b.port())));
        assertArrayEquals(heartbeat, answered.get(1));
        assertEquals(readCompletes + 1, harness.upstreamRelay.readCompletes);
        assertEquals(reads + 1, harness.upstreamReads.reads);
    }

    @Test
    void aHeldResponseIsReleasedWhenTheChannelCloses() {
        // given a response held for a route
        harness.routes.hold(1);
        harness.fromClient(KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 1));
        harness.fromUpstream(metadataResponse(1));

        // when the upstream goes away (and the route completes later)
        harness.upstream.close();
        harness.routes.held.get("1").complete(proxyOf(1));
        harness.upstream.runPendingTasks();

        // then nothing was passed on, and nothing leaked
        assertNull(harness.upstream.readInbound());
        LeakGuard.assertNoLeaks();
    }

    @Test
    void aHeldResponseIsReleasedWhenTheHandlerIsRemoved() {
        harness.routes.hold(1);
        harness.fromClient(KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 1));
        harness.fromUpstream(metadataResponse(1));

        harness.upstream.pipeline().remove(harness.codec.responseHandler());
        harness.routes.held.get("1").complete(proxyOf(1));
        harness.upstream.runPendingTasks();

        assertNull(harness.upstream.readInbound());
        LeakGuard.assertNoLeaks();
    }

    @Test
    void aNodeWithoutAProxyPortKeepsItsAddress() {
        // given broker 2 has no proxy port
        harness.routes.unrouted.add("2");
        harness.fromClient(KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 1));

        // when
        harness.fromUpstream(metadataResponse(1));

        // then brokers 1 and 3 are the proxy's, broker 2 is as the broker said
        MetadataResponseData rewritten = (MetadataResponseData) KafkaFrames.decodeResponse(harness.toClient().get(0), ApiKeys.METADATA, METADATA_V);
        assertEquals(proxyOf(1), address(rewritten, 1));
        assertEquals(new ProxyAddress("kafka-2.internal", 9092), address(rewritten, 2));
        assertEquals(proxyOf(3), address(rewritten, 3));
    }

    @Test
    void whenNoAddressChangesTheOriginalBytesPass() {
        harness.routes.unrouted.addAll(List.of("1", "2", "3"));
        harness.fromClient(KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 1));
        byte[] response = metadataResponse(1);

        harness.fromUpstream(response);

        assertArrayEquals(response, harness.toClient().get(0));
        assertEquals(0, harness.rewrites("metadata"));
    }

    @Test
    void errorAnswersWithoutABrokerAreLeftAlone() {
        // given FindCoordinator v3 answered COORDINATOR_NOT_AVAILABLE: node -1, empty host
        FindCoordinatorResponseData error = new FindCoordinatorResponseData().setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())
                .setNodeId(-1).setHost("").setPort(-1);
        byte[] response = KafkaFrames.response(ApiKeys.FIND_COORDINATOR, (short) 3, 1, error);
        harness.fromClient(KafkaFrames.request(ApiKeys.FIND_COORDINATOR, (short) 3, 1));

        // when
        harness.fromUpstream(response);

        // then
        assertArrayEquals(response, harness.toClient().get(0));
        assertTrue(harness.routes.asked.isEmpty());
    }

    @Test
    void responsesOfVersionsWithoutAddressesAreNeverDecoded() {
        // given Produce v9 and Fetch v15: no NodeEndpoints before KIP-951's versions
        harness.fromClient(concat(produce((short) 1, (short) 9, 1), KafkaFrames.request(ApiKeys.FETCH, (short) 15, 2)));

        // when their bodies are not even valid
        byte[] produce = response(1, "not a produce body");
        byte[] fetch = response(2, "not a fetch body");
        harness.fromUpstream(concat(produce, fetch));

        // then they pass as they came
        List<byte[]> answered = harness.toClient();
        assertArrayEquals(produce, answered.get(0));
        assertArrayEquals(fetch, answered.get(1));
    }

    @Test
    void framesSplitIntoSingleBytesComeOutWhole() {
        // given
        byte[] requests = concat(produce((short) 1, (short) 10, 1), KafkaFrames.request(ApiKeys.METADATA, METADATA_V, 2));
        byte[] produceAnswer = KafkaFrames.resource("produce-v10.recorded.bin");
        ByteBuffer.wrap(produceAnswer).putInt(4, 1); // answer correlation id 1
        byte[] responses = concat(produceAnswer, metadataResponse(2));

        // when every byte comes in its own read
        for (byte b : requests) {
            harness.fromClient(new byte[] {b});
        }
        for (byte b : responses) {
            harness.fromUpstream(new byte[] {b});
        }

        // then the frames went on whole, and the codec kept asking for reads while a frame was incomplete
        List<byte[]> sent = harness.toUpstream();
        assertEquals(2, sent.size());
        assertArrayEquals(requests, concat(sent.get(0), sent.get(1)));
        List<byte[]> answered = harness.toClient();
        assertEquals(2, answered.size());
        assertEquals(2.0, harness.rewrites("produce") + harness.rewrites("metadata"));
        assertTrue(harness.upstreamReads.reads >= responses.length, "reads: " + harness.upstreamReads.reads);
    }

    private byte[] metadataResponse(int correlationId) {
        MetadataResponseData data = new MetadataResponseData().setClusterId("cluster").setControllerId(1);
        for (int node = 1; node <= 3; node++) {
            data.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(node)
                    .setHost("kafka-" + node + ".internal").setPort(9092).setRack("rack-" + node));
        }
        return KafkaFrames.response(ApiKeys.METADATA, METADATA_V, correlationId, data);
    }

    private static ProxyAddress address(MetadataResponseData data, int node) {
        MetadataResponseData.MetadataResponseBroker broker = data.brokers().find(node);
        return new ProxyAddress(broker.host(), broker.port());
    }

    private static byte[] produce(short acks, short version, int correlationId) {
        byte[] acks1 = RecordedFramesTest.request(ApiKeys.PRODUCE, version, correlationId);
        if (acks == 1) {
            return acks1;
        }
        ProduceRequestData data = (ProduceRequestData) decodeRequest(acks1, version);
        return KafkaFrames.request(ApiKeys.PRODUCE, version, correlationId, data.setAcks(acks));
    }

    private static ProduceRequestData decodeRequest(byte[] frame, short version) {
        ByteBuffer buffer = ByteBuffer.wrap(frame, 4, frame.length - 4);
        org.apache.kafka.common.requests.RequestHeader.parse(buffer);
        return new ProduceRequestData(new org.apache.kafka.common.protocol.ByteBufferAccessor(buffer), version);
    }

    private static ApiVersion api(short key, int min, int max) {
        return new ApiVersion().setApiKey(key).setMinVersion((short) min).setMaxVersion((short) max);
    }

    /** A v0 response header (correlation id) and {@code body}: what the codec sees of an API it does not decode. */
    private static byte[] response(int correlationId, String body) {
        return frame(ByteBuffer.allocate(4).putInt(correlationId).array(), body.getBytes());
    }

    /** A request frame holding only the fixed header fields. */
    private static byte[] header(short apiKey, int version, int correlationId) {
        return frame(ByteBuffer.allocate(8).putShort(apiKey).putShort((short) version).putInt(correlationId).array());
    }

    private static byte[] frame(byte[]... parts) {
        byte[] body = concat(parts);
        return concat(ByteBuffer.allocate(4).putInt(body.length).array(), body);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] bytes(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }
}
