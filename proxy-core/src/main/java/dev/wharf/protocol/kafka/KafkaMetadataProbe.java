package dev.wharf.protocol.kafka;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * Asks a Kafka broker which brokers the cluster has, as a client would (ApiVersions, then a
 * Metadata request for no topics), over a blocking socket: for Wharf's worker threads, so that
 * broker ports are bound before any client is told about them.
 */
public final class KafkaMetadataProbe {
    private static final String CLIENT_ID = "wharf";
    /** Far above any Metadata answer for no topics; a bound on what a broker can make us read. */
    private static final int MAX_RESPONSE_BYTES = 16 << 20;

    /** A broker as the cluster advertises it to clients. */
    public record Broker(int nodeId, String host, int port) {
    }

    private KafkaMetadataProbe() {
    }

    /** The cluster's brokers, asked of the broker at {@code address}; {@code timeout} bounds connect and each read. */
    public static List<Broker> brokers(InetSocketAddress address, Duration timeout) throws IOException {
        int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
        try (Socket socket = new Socket()) {
            socket.connect(address, millis);
            socket.setSoTimeout(millis);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            ApiVersionsResponse versions = (ApiVersionsResponse) exchange(out, in,
                    new ApiVersionsRequest(new ApiVersionsRequestData(), (short) 0), 1);
            if (versions.data().errorCode() != Errors.NONE.code()) {
                throw new IOException("ApiVersions failed: " + Errors.forCode(versions.data().errorCode()));
            }
            ApiVersionsResponseData.ApiVersion metadata = versions.data().apiKeys().find(ApiKeys.METADATA.id);
            if (metadata == null) {
                throw new IOException("the broker does not offer Metadata requests");
            }
            short version = (short) Math.min(metadata.maxVersion(), ApiKeys.METADATA.latestVersion());
            // An empty topic list asks for brokers only (null would mean every topic).
            MetadataRequest request = new MetadataRequest.Builder(List.of(), false, version, version).build(version);
            MetadataResponse response = (MetadataResponse) exchange(out, in, request, 2);
            return response.data().brokers().stream().map(b -> new Broker(b.nodeId(), b.host(), b.port())).toList();
        }
    }

    private static AbstractResponse exchange(DataOutputStream out, DataInputStream in, AbstractRequest request,
                                             int correlationId) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), CLIENT_ID, correlationId);
        ByteBuffer payload = request.serializeWithHeader(header);
        out.writeInt(payload.remaining());
        out.write(payload.array(), payload.arrayOffset() + payload.position(), payload.remaining());
        out.flush();
        int size = in.readInt();
        if (size < 0 || size > MAX_RESPONSE_BYTES) {
            throw new IOException(request.apiKey() + " response of " + size + " bytes (expected at most "
                    + MAX_RESPONSE_BYTES + ")");
        }
        byte[] body = new byte[size];
        in.readFully(body);
        try {
            return AbstractResponse.parseResponse(ByteBuffer.wrap(body), header);
        } catch (RuntimeException e) {
            throw new IOException("malformed " + request.apiKey() + " response: " + e.getMessage(), e);
        }
    }
}
