package dev.wharf.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.wharf.it.PrometheusText;
import dev.wharf.testing.NetworkTopology;
import dev.wharf.testing.RedisCluster;
import dev.wharf.testing.RedisClusterNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A Redis Cluster in the upstream namespace, reached from the test JVM only through Wharf in a proxy namespace. */
class RedisClusterIT {

    private static final Duration SHORT = Duration.ofSeconds(10);

    @RegisterExtension
    @Order(1)
    static final NetworkTopology TOPOLOGY = new NetworkTopology(2);

    @RegisterExtension
    @Order(2)
    static final RedisCluster REDIS = new RedisCluster(TOPOLOGY::upstream);

    @Test
    void sixNodesServeEverySlotAsThreeMastersWithAReplicaEach() {
        // the nodes announce themselves at the upstream address
        assertEquals(List.of(7001, 7002, 7003, 7004, 7005, 7006), REDIS.nodes().stream().map(RedisClusterNode::port).toList());
        for (RedisClusterNode node : REDIS.nodes()) {
            assertTrue(node.address().startsWith(TOPOLOGY.upstreamHost() + ":"), node.address());
            String info = REDIS.cli(node, "CLUSTER", "INFO");
            assertTrue(info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384"), node + ": " + info);
        }
        List<RedisClusterNode> masters = REDIS.masters();
        assertEquals(3, masters.size(), REDIS.clusterNodes());
        Set<RedisClusterNode> replicas = new HashSet<>();
        for (RedisClusterNode master : masters) {
            replicas.add(REDIS.replicaOf(master));
        }
        assertEquals(3, replicas.size(), REDIS.clusterNodes());
        assertTrue(REDIS.clusterNodes().contains(" " + TOPOLOGY.upstreamHost() + ":7001@17001"), REDIS.clusterNodes());
    }

    @Test
    void theTestJvmCannotReachTheNodesButEachProxyNamespaceCan() {
        RedisClusterNode node = REDIS.nodes().get(0);
        // the test JVM: refused at once by the unreachable route
        assertThrows(NoRouteToHostException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(node.host(), node.port()), 5_000);
            }
        });
        // W1 and W2: redis-cli -h 198.18.100.1 -p 7001 ping
        for (int i = 1; i <= TOPOLOGY.proxies(); i++) {
            String pong = TOPOLOGY.proxy(i).run(List.of("redis-cli", "-h", node.host(), "-p", Integer.toString(node.port()),
                    "ping"), SHORT);
            assertEquals("PONG", pong.strip(), "from W" + i);
        }
    }

    @Test
    void clusterFailoverOnAReplicaSwapsItWithItsMaster() {
        // given
        RedisClusterNode master = REDIS.masters().get(0);
        RedisClusterNode replica = REDIS.replicaOf(master);
        int slot = Integer.parseInt(REDIS.cli(master, "CLUSTER", "KEYSLOT", "wharf:failover"));
        assertEquals("OK", REDIS.cli(REDIS.masterOf(slot), "SET", "wharf:failover", "before"));

        // when
        assertEquals("OK", REDIS.cli(replica, "CLUSTER", "FAILOVER"));
        awaitRole(replica, "master");
        awaitRole(master, "slave");
        REDIS.awaitHealthy(Duration.ofSeconds(30));

        // then the roles are swapped, the data kept, and the old master redirects to the new one
        assertTrue(REDIS.masters().contains(replica), REDIS.clusterNodes());
        assertFalse(REDIS.masters().contains(master), REDIS.clusterNodes());
        assertEquals(master, REDIS.replicaOf(replica));
        RedisClusterNode owner = REDIS.masterOf(slot);
        assertEquals("before", REDIS.cli(owner, "GET", "wharf:failover"));
        if (owner.equals(replica)) {
            assertEquals("MOVED " + slot + " " + replica.address(), REDIS.cli(master, "GET", "wharf:failover"));
        }
    }

    @Test
    void aKilledNodeComesBackUnderItsOldIdentity() {
        // given a replica
        RedisClusterNode master = REDIS.masters().get(1);
        RedisClusterNode replica = REDIS.replicaOf(master);
        String id = replica.id();

        // when it is killed
        REDIS.kill(replica);

        // then nothing answers on its port, from W1 either
        assertFalse(replica.isRunning());
        assertFalse(TOPOLOGY.proxy(1).connects(replica.host(), replica.port(), Duration.ofSeconds(2)));

        // when it is started again, it rejoins as the same node and the same master's replica
        REDIS.restart(replica);
        assertEquals(id, REDIS.cli(replica, "CLUSTER", "MYID"));
        assertEquals(replica, REDIS.replicaOf(master));
    }

    @Test
    void wharfInAProxyNamespaceIsTheBridgeFromTheTestJvmToANode() throws IOException {
        // given Wharf in W1 with a plain TCP listener to one node
        RedisClusterNode node = REDIS.nodes().get(2);
        String config = """
                wharf.listeners.redis {
                  host = "%s"
                  port = 16379
                  protocol = tcp
                  allow = ["%s"]
                  upstream.endpoints = ["%s"]
                }
                """.formatted(TOPOLOGY.proxyHost(1), TOPOLOGY.rootHost(1), node.address());
        try (WharfProcess wharf = WharfProcess.start(TOPOLOGY, 1, config);
             Socket client = new Socket()) {
            // when the test JVM sends PING to Wharf
            client.setSoTimeout(10_000);
            client.connect(new InetSocketAddress(TOPOLOGY.proxyHost(1), 16379), 5_000);
            client.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));

            // then the node's reply comes back, byte for byte
            assertEquals("+PONG\r\n", read(client.getInputStream(), 7), wharf.logTail(20));
            // and the node sees the session come from W1's leg, not from the test JVM
            String clients = REDIS.cli(node, "CLIENT", "LIST");
            assertTrue(clients.contains("addr=" + TOPOLOGY.proxyEgressHost(1) + ":"), clients);
            // and Wharf counted it, on the admin server the test JVM scrapes in W1
            assertEquals(1.0, PrometheusText.value(wharf.metrics(), "wharf_connections_total",
                    "listener", "redis", "outcome", "accepted"));
        }
    }

    private static String read(InputStream in, int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /** Waits until {@code node} itself reports {@code role} in {@code ROLE}'s first line. */
    private static void awaitRole(RedisClusterNode node, String role) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            last = REDIS.cli(node, "ROLE");
            if (last.lines().findFirst().orElse("").equals(role)) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        fail(node + " did not become " + role + " within 30 s: ROLE answered " + last);
    }
}
