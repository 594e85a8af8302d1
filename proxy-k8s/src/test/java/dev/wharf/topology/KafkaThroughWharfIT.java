package dev.wharf.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.it.PrometheusText;
import dev.wharf.testing.KafkaBroker;
import dev.wharf.testing.KafkaCluster;
import dev.wharf.testing.NetworkTopology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka clients that cannot route to the brokers work through Wharf alone: three KRaft brokers
 * in a network namespace the test JVM cannot reach, two Wharf replicas (the real wharf.jar, one
 * namespace each) as the only bridge, with the same config. Their advertised host is replica B's
 * address, standing in for the Service name that reaches any replica: so every client here that
 * bootstraps on A uses B's broker ports, as a client of a Service spreading connections would.
 */
class KafkaThroughWharfIT {
    private static final int BOOTSTRAP_PORT = 19092;
    private static final int BROKER_PORT_BASE = 19100;
    private static final Duration RELEASE_AFTER = Duration.ofSeconds(5);

    @RegisterExtension
    @Order(1)
    static final NetworkTopology TOPOLOGY = new NetworkTopology(2);
    @RegisterExtension
    @Order(2)
    static final KafkaCluster KAFKA = new KafkaCluster(TOPOLOGY::upstream);

    private static WharfProcess replicaA;
    private static WharfProcess replicaB;

    @BeforeAll
    static void startWharf() {
        String config = """
                wharf.listeners.kafka {
                  port = %d, protocol = kafka, allow = ["198.18.0.0/15"]
                  upstream.endpoints = [%s]
                  kafka { advertised-host = "%s", broker-port-base = %d, metadata-refresh = 1s, release-after = %s }
                }
                """.formatted(BOOTSTRAP_PORT, quoted(KAFKA.bootstrap()), TOPOLOGY.proxyHost(2), BROKER_PORT_BASE,
                RELEASE_AFTER.toSeconds() + "s");
        replicaA = WharfProcess.start(TOPOLOGY, 1, config);
        replicaB = WharfProcess.start(TOPOLOGY, 2, config);
        // Before any client: what each replica's own metadata refresh bound.
        for (WharfProcess replica : new WharfProcess[] {replicaA, replicaB}) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (replica.nodePorts().size() < KafkaCluster.SIZE && System.nanoTime() < deadline) {
                sleep(100);
            }
            portsBeforeAnyClient.put(replica == replicaA ? "A" : "B", replica.nodePorts());
        }
    }

    private static final Map<String, Map<String, String>> portsBeforeAnyClient = new TreeMap<>();

    @Test
    void everyReplicaBindsTheBrokerPortsBeforeAnyClientAsks() {
        Map<String, String> expected = Map.of("1", "19101", "2", "19102", "3", "19103");
        assertEquals(Map.of("A", expected, "B", expected), portsBeforeAnyClient);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stopWharf() {
        WharfProcess.stopAll(replicaA, replicaB);
    }

    @Test
    void theTestJvmCannotReachTheBrokersDirectly() {
        TOPOLOGY.assertNoRouteFromHere(KAFKA.brokers().get(0).address());
    }

    @Test
    void describeClusterAndMetadataShowOnlyWharfAddresses() throws Exception {
        // given
        String topic = "addresses";
        try (Admin admin = Admin.create(clientProps(replicaA))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get(60, TimeUnit.SECONDS);

            // when
            List<Node> nodes = new ArrayList<>(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(topic);

            // then
            assertEquals(Set.of(1, 2, 3), nodes.stream().map(Node::id).collect(java.util.stream.Collectors.toSet()));
            nodes.forEach(KafkaThroughWharfIT::assertWharfAddress);
            assertEquals(3, description.partitions().size());
            for (TopicPartitionInfo partition : description.partitions()) {
                assertWharfAddress(partition.leader());
                partition.replicas().forEach(KafkaThroughWharfIT::assertWharfAddress);
            }
            Node controller = admin.describeCluster().controller().get(30, TimeUnit.SECONDS);
            assertWharfAddress(controller);
        }
        try (KafkaProducer<String, String> producer = producer(replicaA)) {
            for (PartitionInfo partition : producer.partitionsFor(topic)) {
                assertWharfAddress(partition.leader());
            }
        }
        String metricsA = replicaA.metrics();
        String metricsB = replicaB.metrics();
        assertTrue(rewrites(metricsA, "metadata") + rewrites(metricsB, "metadata") > 0, "metadata rewrites");
        assertTrue(rewrites(metricsA, "describe_cluster") + rewrites(metricsB, "describe_cluster") > 0,
                "describe_cluster rewrites");
    }

    @Test
    void aProducerAndAConsumerGroupMoveOneHundredThousandRecordsWithAcksAll() throws Exception {
        // given
        String topic = "orders";
        int records = 100_000;
        try (Admin admin = Admin.create(clientProps(replicaB))) {
            admin.createTopics(List.of(new NewTopic(topic, 6, (short) 3))).all().get(60, TimeUnit.SECONDS);
        }

        // when
        try (KafkaProducer<String, String> producer = producer(replicaB)) {
            List<Future<RecordMetadata>> sent = new ArrayList<>(records);
            for (int i = 0; i < records; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i)));
            }
            producer.flush();
            for (Future<RecordMetadata> ack : sent) {
                ack.get(60, TimeUnit.SECONDS);
            }
        }
        Map<String, String> consumed = consumeUntil(replicaB, topic, "orders-group", records, Duration.ofSeconds(120));

        // then
        assertEquals(records, consumed.size());
        for (int i = 0; i < records; i += 997) {
            assertEquals("value-" + i, consumed.get("key-" + i));
        }
        String metrics = replicaB.metrics();
        assertTrue(rewrites(metrics, "find_coordinator") > 0, "the consumer group's coordinator came through FindCoordinator");
        assertTrue(PrometheusText.value(metrics, "wharf_connections_total", "listener", "kafka", "outcome", "accepted") > 1);
    }

    @Test
    void aKilledBrokersLeadershipMovesAndClientsCarryOnThroughWharf() throws Exception {
        // given
        String topic = "failover";
        try (Admin admin = Admin.create(clientProps(replicaB))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get(60, TimeUnit.SECONDS);
        }
        KAFKA.awaitInSync(Duration.ofSeconds(60));
        int victim = KAFKA.leaders(topic).get(0);
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        List<Exception> failures = new CopyOnWriteArrayList<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> produceUntilStopped(topic, producing, acknowledged, failures), "failover-writer");
        writer.start();
        awaitSize(acknowledged, 2_000, Duration.ofSeconds(60));

        // when
        KafkaBroker killed = KAFKA.broker(victim);
        killed.kill();
        int beforeKill = acknowledged.size();
        awaitSize(acknowledged, beforeKill + 5_000, Duration.ofSeconds(120));
        Map<Integer, Integer> leadersWhileDown = KAFKA.leaders(topic);
        boolean released = awaitNodePortGone(replicaB, victim, Duration.ofSeconds(60));
        producing.set(false);
        writer.join(TimeUnit.MINUTES.toMillis(3));
        KAFKA.restart(killed);

        // then
        assertTrue(failures.isEmpty(), "producer errors: " + failures);
        assertFalse(leadersWhileDown.containsValue(victim), "partitions still led by the killed broker: " + leadersWhileDown);
        assertTrue(released, "broker " + victim + "'s proxy port was not released " + RELEASE_AFTER
                + " after it left the metadata: " + replicaB.get("/upstreams").body());
        Map<String, String> consumed = consumeUntil(replicaB, topic, "failover-group", acknowledged.size(),
                Duration.ofSeconds(120));
        Set<String> missing = new HashSet<>(acknowledged);
        missing.removeAll(consumed.keySet());
        assertEquals(Set.of(), missing, "acknowledged records that no consumer saw");
        assertTrue(awaitNodePortBack(replicaB, victim, Duration.ofSeconds(60)), "the restarted broker got its port back: "
                + replicaB.get("/upstreams").body());
    }

    @Test
    void twoReplicasGiveEveryBrokerTheSamePort() throws Exception {
        // given: a client bootstraps on replica A and is sent to replica B's broker ports
        String topic = "replicas";
        int records = 1_000;
        try (Admin admin = Admin.create(clientProps(replicaA))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get(60, TimeUnit.SECONDS);
        }

        // when
        try (KafkaProducer<String, String> producer = producer(replicaA)) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, "r-" + i, "v-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        Map<String, String> consumed = consumeUntil(replicaA, topic, "replicas-group", records, Duration.ofSeconds(60));

        // then
        assertEquals(records, consumed.size());
        Map<String, String> portsA = replicaA.nodePorts();
        Map<String, String> portsB = replicaB.nodePorts();
        assertEquals(Map.of("1", "19101", "2", "19102", "3", "19103"), portsB);
        assertEquals(portsB, portsA, "both replicas bound the same port for each broker");
    }

    // ---- clients

    private static Properties clientProps(WharfProcess bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap.host() + ":" + BOOTSTRAP_PORT);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "20000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        return props;
    }

    private static KafkaProducer<String, String> producer(WharfProcess bootstrap) {
        Properties props = clientProps(bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(WharfProcess bootstrap, String group) {
        Properties props = clientProps(bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    /** Reads {@code topic} as group {@code group} until {@code count} distinct keys came; key to value. */
    private static Map<String, String> consumeUntil(WharfProcess bootstrap, String topic, String group, int count,
                                                    Duration timeout) {
        Map<String, String> seen = new TreeMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap, group)) {
            consumer.subscribe(List.of(topic));
            while (seen.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    seen.put(record.key(), record.value());
                }
            }
            consumer.commitSync();
        }
        return seen;
    }

    private static void produceUntilStopped(String topic, AtomicBoolean producing, Set<String> acknowledged,
                                            List<Exception> failures) {
        try (KafkaProducer<String, String> producer = producer(replicaB)) {
            for (int i = 0; producing.get(); i++) {
                String key = "f-" + i;
                producer.send(new ProducerRecord<>(topic, key, "v"), (metadata, error) -> {
                    if (error == null) {
                        acknowledged.add(key);
                    } else {
                        failures.add(error);
                    }
                });
                if (i % 200 == 199) {
                    producer.flush();
                }
            }
            producer.flush();
        } catch (Exception e) {
            failures.add(e);
        }
    }

    private static void awaitSize(Set<String> set, int size, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (set.size() < size) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + set.size() + " of " + size + " records acknowledged within " + timeout);
            }
            Thread.sleep(50);
        }
    }

    // ---- what Wharf reports

    private static boolean awaitNodePortGone(WharfProcess replica, int nodeId, Duration timeout) throws InterruptedException {
        return awaitNodePort(replica, nodeId, false, timeout);
    }

    private static boolean awaitNodePortBack(WharfProcess replica, int nodeId, Duration timeout) throws InterruptedException {
        return awaitNodePort(replica, nodeId, true, timeout);
    }

    private static boolean awaitNodePort(WharfProcess replica, int nodeId, boolean bound, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (replica.nodePorts().containsKey(String.valueOf(nodeId)) == bound) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    private static double rewrites(String metrics, String api) {
        try {
            return PrometheusText.value(metrics, "wharf_kafka_rewrites_total", "listener", "kafka", "api", api);
        } catch (AssertionError none) {
            return 0;
        }
    }

    private static void assertWharfAddress(Node node) {
        assertEquals(TOPOLOGY.proxyHost(2), node.host(), "host of " + node);
        assertEquals(BROKER_PORT_BASE + node.id(), node.port(), "port of " + node);
        assertNotEquals(-1, node.id());
    }

    private static String quoted(String commaSeparated) {
        List<String> items = new ArrayList<>();
        for (String item : commaSeparated.split(",")) {
            items.add("\"" + item + "\"");
        }
        Collections.sort(items);
        return String.join(", ", items);
    }
}
