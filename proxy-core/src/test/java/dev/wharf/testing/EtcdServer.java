package dev.wharf.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A throwaway single-member etcd (v3 API) on 127.0.0.1, the DCS of a {@link PatroniCluster}. Its
 * {@link #port()} is the client port; the peer port is picked once and kept across restarts.
 */
public final class EtcdServer extends ChildProcess {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private int peerPort;
    private boolean served; // once true, peerPort is kept across restarts

    public EtcdServer() {
        super("etcd");
    }

    /** {@code 127.0.0.1:PORT}, as Patroni's {@code etcd3.hosts} wants it. */
    public String clientAddress() {
        return HOST + ":" + port();
    }

    @Override
    protected List<String> command(Path dir, int port) {
        if (!served) {
            peerPort = LoopbackPorts.free();
        }
        String client = "http://" + HOST + ":" + port;
        String peer = "http://" + HOST + ":" + peerPort;
        return List.of(
                findBinary("etcd", "etcd-server", List.of()).toString(),
                "--name", "etcd",
                "--data-dir", dir.resolve("data").toString(),
                "--listen-client-urls", client,
                "--advertise-client-urls", client,
                "--listen-peer-urls", peer,
                "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "etcd=" + peer,
                "--initial-cluster-state", "new",
                "--log-level", "warn");
    }

    @Override
    protected void probe() throws IOException, InterruptedException {
        HttpResponse<String> health = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://" + clientAddress() + "/health")).timeout(Duration.ofSeconds(1)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (health.statusCode() != 200 || !health.body().contains("\"health\":\"true\"")) {
            throw new IllegalStateException("etcd /health answered " + health.statusCode() + " " + health.body());
        }
        served = true;
    }
}
