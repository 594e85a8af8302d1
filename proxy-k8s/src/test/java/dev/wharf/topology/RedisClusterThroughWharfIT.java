package dev.wharf.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.it.PrometheusText;
import dev.wharf.testing.NetworkTopology;
import dev.wharf.testing.RedisCluster;
import dev.wharf.testing.RedisClusterNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.resps.ClusterShardInfo;
import redis.clients.jedis.resps.ClusterShardNodeInfo;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Cluster-aware Redis clients that cannot route to the nodes work through Wharf alone: a 6-node
 * Redis Cluster in a network namespace the test JVM cannot reach, two Wharf replicas (the real
 * wharf.jar) with the same config as the only bridge. The advertised host is replica B's address,
 * standing in for the Service name; a client seeded on A is sent on to B's node ports.
 */
class RedisClusterThroughWharfIT {
    private static final int SEED_PORT = 16379;
    private static final int FIRST_NODE_PORT = 16380;

    @RegisterExtension
    @Order(1)
    static final NetworkTopology TOPOLOGY = new NetworkTopology(2);
    @RegisterExtension
    @Order(2)
    static final RedisCluster REDIS = new RedisCluster(TOPOLOGY::upstream);

    private static WharfProcess replicaA;
    private static WharfProcess replicaB;
    /** Upstream node address to its proxy port, as configured. */
    private static final Map<String, Integer> NODE_PORTS = new LinkedHashMap<>();

    @BeforeAll
    static void startWharf() {
        List<String> addresses = REDIS.addresses();
        StringBuilder nodePorts = new StringBuilder();
        for (int i = 0; i < addresses.size(); i++) {
            NODE_PORTS.put(addresses.get(i), FIRST_NODE_PORT + i);
            nodePorts.append("\"").append(addresses.get(i)).append("\" = ").append(FIRST_NODE_PORT + i).append("\n");
        }
        String config = """
                wharf.listeners.redis {
                  port = %d, protocol = redis-cluster, allow = ["198.18.0.0/15"]
                  upstream.endpoints = [%s]
                  redis-cluster {
                    advertised-host = "%s"
                    node-ports { %s }
                  }
                }
                """.formatted(SEED_PORT, String.join(", ", addresses.stream().map(a -> "\"" + a + "\"").toList()),
                TOPOLOGY.proxyHost(2), nodePorts);
        replicaA = WharfProcess.start(TOPOLOGY, 1, config);
        replicaB = WharfProcess.start(TOPOLOGY, 2, config);
    }

    @AfterAll
    static void stopWharf() {
        WharfProcess.stopAll(replicaA, replicaB);
    }

    @Test
    void theTestJvmCannotReachTheNodesDirectly() {
        TOPOLOGY.assertNoRouteFromHere(REDIS.addresses().get(0));
    }

    @Test
    void aClusterClientSeededOnWharfWritesAndReadsTenThousandKeysAcrossAllSlots() {
        // given
        int keys = 10_000;
        Set<Integer> slots = new HashSet<>();
        try (JedisCluster cluster = cluster(replicaB)) {
            // when
            for (int i = 0; i < keys; i++) {
                cluster.set("key-" + i, "value-" + i);
                slots.add(JedisClusterCRC16.getSlot("key-" + i));
            }
            List<String> wrong = new ArrayList<>();
            for (int i = 0; i < keys; i++) {
                String value = cluster.get("key-" + i);
                if (!("value-" + i).equals(value)) {
                    wrong.add("key-" + i + "=" + value);
                }
            }

            // then
            assertEquals(List.of(), wrong);
            assertTrue(slots.size() > 5_000, "keys spread over " + slots.size() + " slots");
            assertOnlyWharfAddresses(cluster.getClusterNodes().keySet());
        }
    }

    @Test
    void topologyRepliesCarryOnlyWharfAddressesInResp2AndResp3() {
        for (int protocol : new int[] {2, 3}) {
            try (Jedis jedis = new Jedis(new HostAndPort(replicaB.host(), SEED_PORT), DefaultJedisClientConfig.builder()
                    .protocol(protocol == 3 ? redis.clients.jedis.RedisProtocol.RESP3 : redis.clients.jedis.RedisProtocol.RESP2)
                    .build())) {
                // when
                String nodes = jedis.clusterNodes();
                List<Object> slots = jedis.clusterSlots();
                List<ClusterShardInfo> shards = jedis.clusterShards();

                // then
                List<String> fromNodes = new ArrayList<>();
                for (String line : nodes.split("\n")) {
                    fromNodes.add(line.split(" ")[1].split("@")[0]);
                }
                assertOnlyWharfAddresses(fromNodes);
                assertEquals(6, fromNodes.size(), nodes);
                List<String> fromSlots = new ArrayList<>();
                for (Object range : slots) {
                    List<?> entry = (List<?>) range;
                    for (Object node : entry.subList(2, entry.size())) {
                        List<?> fields = (List<?>) node;
                        fromSlots.add(text(fields.get(0)) + ":" + fields.get(1));
                    }
                }
                assertOnlyWharfAddresses(fromSlots);
                List<String> fromShards = new ArrayList<>();
                for (ClusterShardInfo shard : shards) {
                    for (ClusterShardNodeInfo node : shard.getNodes()) {
                        fromShards.add(node.getIp() + ":" + node.getPort());
                        assertEquals(replicaB.host(), node.getEndpoint(), "endpoint of " + node.getId());
                    }
                }
                assertOnlyWharfAddresses(fromShards);
                assertEquals(6, fromShards.size());
            }
        }
        String metrics = replicaB.metrics();
        for (String command : List.of("cluster_nodes", "cluster_slots", "cluster_shards")) {
            assertTrue(PrometheusText.value(metrics, "wharf_redis_rewrites_total", "listener", "redis", "command", command) >= 2,
                    command);
        }
    }

    @Test
    void transactionsBlockingCommandsAndPubSubPassThroughANodePort() throws Exception {
        // given: a direct connection to the node port of the master that holds {q}
        String master = REDIS.masterOf(JedisClusterCRC16.getSlot("{q}")).address();
        HostAndPort nodePort = new HostAndPort(replicaB.host(), NODE_PORTS.get(master));
        try (Jedis jedis = new Jedis(nodePort); Jedis other = new Jedis(nodePort)) {
            // when: MULTI/EXEC
            Transaction tx = jedis.multi();
            tx.set("{q}counter", "1");
            tx.incr("{q}counter");
            List<Object> results = tx.exec();

            // and: a blocking pop that another connection satisfies
            CompletableFuture<List<String>> popped = CompletableFuture.supplyAsync(() -> {
                try (Jedis blocking = new Jedis(nodePort)) {
                    return blocking.blpop(10, "{q}list");
                }
            });
            Thread.sleep(300);
            other.lpush("{q}list", "item");

            // and: pub/sub
            List<String> messages = new CopyOnWriteArrayList<>();
            JedisPubSub subscriber = new JedisPubSub() {
                @Override
                public void onMessage(String channel, String message) {
                    messages.add(channel + "=" + message);
                    unsubscribe();
                }

                @Override
                public void onSubscribe(String channel, int count) {
                    other.publish("news", "hello");
                }
            };
            CompletableFuture<Void> subscribed = CompletableFuture.runAsync(() -> {
                try (Jedis listening = new Jedis(nodePort)) {
                    listening.subscribe(subscriber, "news");
                }
            });
            subscribed.get(10, TimeUnit.SECONDS);

            // then
            assertEquals(List.of("OK", 2L), results);
            assertEquals(List.of("{q}list", "item"), popped.get(10, TimeUnit.SECONDS));
            assertEquals(List.of("news=hello"), messages);
        }
    }

    @Test
    void aGracefulFailoverIsFollowedThroughWharf() throws Exception {
        // given
        RedisClusterNode master = REDIS.masters().get(0);
        RedisClusterNode replica = REDIS.replicaOf(master);
        double movedBefore = redirects("moved");
        try (JedisCluster cluster = cluster(replicaB); Writer writer = new Writer(cluster, "graceful")) {
            writer.awaitWrites(500);

            // when
            REDIS.cli(replica, "CLUSTER", "FAILOVER");
            awaitRole(replica, "master");
            REDIS.awaitHealthy(Duration.ofSeconds(60));
            writer.awaitWrites(writer.written() + 2_000);
            writer.stop();

            // then
            assertEquals(List.of(), writer.errors());
            writer.assertReadable(cluster, 0);
            assertOnlyWharfAddresses(cluster.getClusterNodes().keySet());
        }
        assertTrue(redirects("moved") > movedBefore, "writes to the demoted master were redirected (MOVED) through Wharf");
    }

    @Test
    void aKilledMasterIsReplacedAndClientsCarryOnThroughWharf() throws Exception {
        // given
        RedisClusterNode master = REDIS.masters().get(1);
        RedisClusterNode replica = REDIS.replicaOf(master);
        try (JedisCluster cluster = cluster(replicaB); Writer writer = new Writer(cluster, "killed")) {
            writer.awaitWrites(500);

            // when
            REDIS.kill(master);
            awaitRole(replica, "master");
            long promoted = System.nanoTime();
            int afterPromotion = writer.written();
            writer.awaitWrites(afterPromotion + 2_000);
            writer.stop();
            REDIS.restart(master);

            // then: while the master's slots had no master (the cluster's node timeout, then the
            // election) the client may give up on a write, as it would without Wharf; once the
            // replica is promoted, writes go through it at once
            long lastError = writer.lastErrorNanos();
            assertTrue(lastError == 0 || lastError - promoted < TimeUnit.SECONDS.toNanos(3),
                    "the client still failed " + TimeUnit.NANOSECONDS.toMillis(lastError - promoted)
                            + " ms after the promotion: " + writer.errors());
            // Writes the dead master acknowledged but had not replicated are Redis's to lose, not Wharf's.
            writer.assertReadable(cluster, afterPromotion);
            assertOnlyWharfAddresses(cluster.getClusterNodes().keySet());
        }
    }

    @Test
    void aSlotMigrationsAskAndMovedRedirectsAreFollowedThroughWharf() {
        // given: 100 keys in one slot, half of them moved to another master mid-migration
        int slot = JedisClusterCRC16.getSlot("{migrating}");
        RedisClusterNode source = REDIS.masterOf(slot);
        RedisClusterNode target = REDIS.masters().stream().filter(m -> m != source).findFirst().orElseThrow();
        double askBefore = redirects("ask");
        double movedBefore = redirects("moved");
        try (JedisCluster cluster = cluster(replicaB)) {
            for (int i = 0; i < 100; i++) {
                cluster.set("{migrating}" + i, "v" + i);
            }
            REDIS.cli(target, "CLUSTER", "SETSLOT", String.valueOf(slot), "IMPORTING", source.id());
            REDIS.cli(source, "CLUSTER", "SETSLOT", String.valueOf(slot), "MIGRATING", target.id());
            migrate(source, target, 0, 50);

            // when: reads during the migration (ASK for the moved half)
            List<String> during = readAll(cluster);

            // and: after it (MOVED, then the new owner)
            migrate(source, target, 50, 100);
            for (RedisClusterNode master : REDIS.masters()) {
                REDIS.cli(master, "CLUSTER", "SETSLOT", String.valueOf(slot), "NODE", target.id());
            }
            REDIS.awaitHealthy(Duration.ofSeconds(60));
            List<String> after = readAll(cluster);

            // then
            assertEquals(List.of(), during, "keys not read during the migration");
            assertEquals(List.of(), after, "keys not read after the migration");
            assertOnlyWharfAddresses(cluster.getClusterNodes().keySet());
        }
        assertTrue(redirects("ask") >= askBefore + 50, "one ASK per moved key read during the migration");
        assertTrue(redirects("moved") > movedBefore, "a MOVED once the slot had moved");
    }

    @Test
    void twoReplicasGiveEveryNodeTheSamePort() {
        // given: a client seeded on replica A, which sends it on to B's node ports
        try (JedisCluster cluster = cluster(replicaA)) {
            // when
            for (int i = 0; i < 200; i++) {
                cluster.set("replicas-" + i, "v" + i);
            }

            // then
            for (int i = 0; i < 200; i++) {
                assertEquals("v" + i, cluster.get("replicas-" + i));
            }
            assertOnlyWharfAddresses(cluster.getClusterNodes().keySet());
        }
        Map<String, String> expected = new TreeMap<>();
        NODE_PORTS.forEach((node, port) -> expected.put(node, String.valueOf(port)));
        assertEquals(expected, replicaA.nodePorts());
        assertEquals(expected, replicaB.nodePorts());
    }

    // ---- helpers

    private static JedisCluster cluster(WharfProcess seed) {
        return new JedisCluster(Set.of(new HostAndPort(seed.host(), SEED_PORT)),
                DefaultJedisClientConfig.builder().connectionTimeoutMillis(2000).socketTimeoutMillis(5000).build(),
                30, Duration.ofSeconds(60));
    }

    private static void migrate(RedisClusterNode source, RedisClusterNode target, int from, int to) {
        List<String> args = new ArrayList<>(List.of("MIGRATE", target.address().split(":")[0],
                target.address().split(":")[1], "", "0", "5000", "KEYS"));
        for (int i = from; i < to; i++) {
            args.add("{migrating}" + i);
        }
        String reply = REDIS.cli(source, args.toArray(String[]::new));
        assertTrue(reply.contains("OK"), "MIGRATE answered " + reply);
    }

    private static List<String> readAll(JedisCluster cluster) {
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            String value = cluster.get("{migrating}" + i);
            if (!("v" + i).equals(value)) {
                wrong.add("{migrating}" + i + "=" + value);
            }
        }
        return wrong;
    }

    private static void awaitRole(RedisClusterNode node, String role) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!REDIS.cli(node, "ROLE").startsWith(role)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(node + " did not become " + role + ":\n" + REDIS.clusterNodes());
            }
            Thread.sleep(200);
        }
    }

    private static void assertOnlyWharfAddresses(java.util.Collection<String> addresses) {
        Set<String> wharf = new HashSet<>();
        NODE_PORTS.values().forEach(port -> wharf.add(replicaB.host() + ":" + port));
        List<String> foreign = addresses.stream().filter(a -> !wharf.contains(a)).toList();
        assertEquals(List.of(), foreign, "addresses that are not Wharf's, among " + addresses);
        assertTrue(!addresses.isEmpty());
    }

    private static double redirects(String kind) {
        try {
            return PrometheusText.value(replicaB.metrics(), "wharf_redis_redirects_total", "listener", "redis", "kind", kind);
        } catch (AssertionError none) {
            return 0;
        }
    }

    private static String text(Object value) {
        return value instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8) : String.valueOf(value);
    }

    /** Writes keys through a cluster client on a thread of its own until stopped, keeping what failed. */
    private static final class Writer implements AutoCloseable {
        private final JedisCluster cluster;
        private final String prefix;
        private final AtomicInteger written = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<String> errors = new CopyOnWriteArrayList<>();
        private volatile long lastErrorNanos;
        private final Thread thread;

        Writer(JedisCluster cluster, String prefix) {
            this.cluster = cluster;
            this.prefix = prefix;
            thread = new Thread(this::run, "writer-" + prefix);
            thread.start();
        }

        /**
         * Sets key after key; a write the client gives up on (its own retries spent) is logged with
         * the time and tried again after 100 ms, as an application would.
         */
        private void run() {
            while (running.get()) {
                int i = written.get();
                try {
                    cluster.set(prefix + "-" + i, "v" + i);
                    written.incrementAndGet();
                } catch (RuntimeException e) {
                    errors.add(prefix + "-" + i + ": " + e + java.util.Arrays.toString(e.getSuppressed()));
                    lastErrorNanos = System.nanoTime();
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
            }
        }

        int written() {
            return written.get();
        }

        void awaitWrites(int count) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (written.get() < count) {
                if (System.nanoTime() > deadline || !thread.isAlive()) {
                    throw new AssertionError("only " + written.get() + " of " + count + " writes; errors: " + errors);
                }
                Thread.sleep(20);
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(TimeUnit.SECONDS.toMillis(90));
        }

        List<String> errors() {
            return errors;
        }

        /** When the client last gave up on a write (System.nanoTime), or 0 if it never did. */
        long lastErrorNanos() {
            return lastErrorNanos;
        }

        /** Every key written from the {@code from}th on reads back. */
        void assertReadable(JedisCluster reader, int from) {
            List<String> wrong = new ArrayList<>();
            for (int i = from; i < written.get(); i++) {
                String value = reader.get(prefix + "-" + i);
                if (!("v" + i).equals(value)) {
                    wrong.add(prefix + "-" + i + "=" + value);
                }
            }
            assertEquals(List.of(), wrong.size() > 20 ? wrong.subList(0, 20) : wrong, wrong.size() + " keys unreadable");
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }
}
