package dev.wharf.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One KRaft node of a {@link KafkaCluster}, broker and controller in one JVM: {@code java -Xmx512m -cp
 * <the test classpath> kafka.Kafka server.properties}, after {@code kafka.tools.StorageTool format} on first
 * start. {@link #port()} is the broker (client) port, {@link #controllerPort()} the controller's; both and
 * the data directory are kept across {@link #kill()}/{@link #start()}, so a restarted node rejoins with
 * its logs.
 *
 * <p>It is ready when its log says {@code Kafka Server started}, which KRaft prints only once the
 * controller quorum has unfenced the broker: no connection from the test JVM is needed, which may not be
 * able to reach it.
 */
public final class KafkaBroker extends ChildProcess {

    static final String STARTED = "Kafka Server started";
    /** Logs the lines the readiness probe and a failing test's message need, and warnings; see the file. */
    static final String LOGBACK_CONFIG = "dev/wharf/testing/kafka-broker-logback.xml";

    private static final Duration FORMAT_TIMEOUT = Duration.ofSeconds(60);

    private final int nodeId;
    private final int controllerPort;
    private final String clusterId;
    private final String voters;

    KafkaBroker(int nodeId, Placement placement, int port, int controllerPort, String clusterId, String voters) {
        super("kafka-" + nodeId, placement, port);
        this.nodeId = nodeId;
        this.controllerPort = controllerPort;
        this.clusterId = clusterId;
        this.voters = voters;
    }

    public int nodeId() {
        return nodeId;
    }

    /** {@code host:port} of the broker listener, as the cluster advertises it in metadata. */
    public String address() {
        return host() + ":" + port();
    }

    public int controllerPort() {
        return controllerPort;
    }

    @Override
    public String toString() {
        return "broker " + nodeId + " " + host() + ":" + (isRunning() ? port() + " (running)" : port() + " (down)");
    }

    @Override
    protected void prepare(Path dir) throws Exception {
        Files.writeString(dir.resolve("server.properties"), serverProperties(dir), StandardCharsets.UTF_8);
        run(KafkaCluster.java("256m", "kafka.tools.StorageTool", "format", "-t", clusterId,
                "-c", dir.resolve("server.properties").toString()), FORMAT_TIMEOUT);
    }

    @Override
    protected List<String> command(Path dir, int port) {
        return KafkaCluster.java("512m", "-Dlogback.configurationFile=" + LOGBACK_CONFIG,
                "kafka.Kafka", dir.resolve("server.properties").toString());
    }

    @Override
    protected void probe() throws IOException {
        if (!logSinceLaunch().contains(STARTED)) {
            throw new IllegalStateException("broker " + nodeId + " has not logged \"" + STARTED + "\" yet");
        }
    }

    private String serverProperties(Path dir) {
        String host = host();
        return """
                process.roles=broker,controller
                node.id=%d
                controller.quorum.voters=%s
                listeners=PLAINTEXT://%s:%d,CONTROLLER://%s:%d
                advertised.listeners=PLAINTEXT://%s:%d
                listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
                controller.listener.names=CONTROLLER
                inter.broker.listener.name=PLAINTEXT
                log.dirs=%s
                # Every topic, the internal ones too, survives one broker down and refuses acks=all writes with two.
                num.partitions=3
                default.replication.factor=3
                min.insync.replicas=2
                offsets.topic.replication.factor=3
                offsets.topic.num.partitions=3
                transaction.state.log.replication.factor=3
                transaction.state.log.min.isr=2
                transaction.state.log.num.partitions=3
                group.initial.rebalance.delay.ms=0
                # A killed broker is fenced, and its partitions led elsewhere, within seconds (defaults: 2 s and 9 s).
                broker.heartbeat.interval.ms=500
                broker.session.timeout.ms=3000
                replica.lag.time.max.ms=10000
                # Two cores for three brokers: few threads, and a small cleaner buffer (default 128 MiB of the heap).
                num.network.threads=2
                num.io.threads=2
                num.recovery.threads.per.data.dir=1
                background.threads=2
                log.cleaner.threads=1
                log.cleaner.dedupe.buffer.size=8388608
                """.formatted(nodeId, voters, host, port(), host, controllerPort, host, port(), dir.resolve("data"));
    }
}
