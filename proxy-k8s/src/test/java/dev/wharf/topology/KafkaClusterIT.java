package dev.wharf.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.testing.KafkaBroker;
import dev.wharf.testing.KafkaCluster;
import dev.wharf.testing.KafkaCluster.PartitionState;
import dev.wharf.testing.NetworkTopology;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A three-node KRaft cluster in the upstream namespace of a network topology, which the test JVM cannot reach. */
class KafkaClusterIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    @Order(1)
    static final NetworkTopology TOPOLOGY = new NetworkTopology(2);

    @RegisterExtension
    @Order(2)
    static final KafkaCluster KAFKA = new KafkaCluster(TOPOLOGY::upstream);

    @Test
    void threeBrokersListenOnTheUpstreamAddressWhichTheTestJvmCannotReach() {
        String u = TOPOLOGY.upstreamHost();
        assertEquals(List.of(1, 2, 3), KAFKA.nodeIds());
        assertEquals(u + ":9091," + u + ":9092," + u + ":9093", KAFKA.bootstrap());
        assertThrows(NoRouteToHostException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(u, 9091), 5_000);
            }
        });
    }

    @Test
    void aProxyNamespaceReachesEveryBrokerAtItsAdvertisedAddress() {
        // an Admin client in W2, bootstrapped with the cluster's addresses, finds all three brokers
        String answer = KAFKA.admin(TOPOLOGY.proxy(2), Duration.ofSeconds(60), "await-brokers", "20000", "1,2,3");
        assertEquals("brokers [1, 2, 3]", answer.strip());
    }

    @Test
    void aKilledBrokerLosesItsLeadershipsWithinSecondsAndComesBackInSync() {
        // given a topic replicated on all three brokers
        List<PartitionState> created = KAFKA.createTopic("wharf-fixture", 3);
        assertEquals(3, created.size(), created.toString());
        created.forEach(p -> assertEquals(3, p.replicas().size(), p.toString()));
        KAFKA.awaitInSync(WAIT);
        int victimId = KAFKA.leaders("wharf-fixture").get(0);
        KafkaBroker victim = KAFKA.broker(victimId);
        List<Integer> others = KAFKA.nodeIds().stream().filter(id -> id != victimId).toList();

        // when the leader of partition 0 is killed
        long killed = System.nanoTime();
        victim.kill();

        // then within seconds it is fenced and no partition is led by it, or by nobody
        KAFKA.awaitBrokers(others, WAIT);
        Duration fenced = Duration.ofNanos(System.nanoTime() - killed);
        assertTrue(fenced.compareTo(Duration.ofSeconds(15)) < 0, "fenced after " + fenced);
        List<PartitionState> after = KAFKA.describeTopic("wharf-fixture");
        for (PartitionState p : after) {
            assertTrue(others.contains(p.leader()), "led by " + p.leader() + " after " + victimId + " was killed: " + after);
            assertFalse(p.isr().contains(victimId), after.toString());
        }

        // when it is started again, then it is a broker again and every replica catches up
        KAFKA.restart(victim);
        KAFKA.awaitInSync(Duration.ofSeconds(60));
        KAFKA.describeTopic("wharf-fixture").forEach(p -> assertEquals(3, p.isr().size(), p.toString()));
    }
}
