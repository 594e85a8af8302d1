package dev.wharf.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.testing.NetworkTopology;
import dev.wharf.testing.Placement;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The namespaces, links and routes themselves; the servers placed in them are {@code *ClusterIT}'s subject. */
class NetworkTopologyIT {

    private static final Duration SHORT = Duration.ofSeconds(10);

    @RegisterExtension
    static final NetworkTopology TOPOLOGY = new NetworkTopology(2);

    @Test
    void aConnectFromTheTestJvmToTheUpstreamNamespaceFailsAtOnce() {
        // when the test JVM connects to U's address, with a long connect timeout
        long started = System.nanoTime();
        assertThrows(NoRouteToHostException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(TOPOLOGY.upstreamHost(), 6379), 10_000);
            }
        });
        // then the unreachable route refuses it at once, rather than the packet leaving by the default route
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertTrue(took.compareTo(Duration.ofSeconds(1)) < 0, "took " + took);
    }

    @Test
    void eachProxyNamespaceRoutesToTheUpstreamNamespaceAndNowhereElse() {
        for (int i = 1; i <= TOPOLOGY.proxies(); i++) {
            Placement w = TOPOLOGY.proxy(i);
            // W reaches U through its own leg
            String route = w.run(List.of("ip", "-4", "route", "get", TOPOLOGY.upstreamHost()), SHORT);
            assertTrue(route.contains("dev to-up") && route.contains("src " + TOPOLOGY.proxyEgressHost(i)), route);
            // and the test JVM's side of its link, but no default route: nothing beyond the two links
            assertEquals("", w.run(List.of("ip", "-4", "route", "show", "default"), SHORT));
            String outside = "192.0.2.2";
            assertNotEquals(0, w.attempt(List.of("ip", "-4", "route", "get", outside), SHORT).exitCode());
        }
        // U answers the proxies' legs but has no way back to the test JVM
        Placement u = TOPOLOGY.upstream();
        for (int i = 1; i <= TOPOLOGY.proxies(); i++) {
            assertEquals(0, u.attempt(List.of("ip", "-4", "route", "get", TOPOLOGY.proxyEgressHost(i)), SHORT).exitCode());
            Placement.Completed back = u.attempt(List.of("ip", "-4", "route", "get", TOPOLOGY.rootHost(i)), SHORT);
            assertNotEquals(0, back.exitCode(), back.output());
        }
    }

    @Test
    void noNamespaceForwardsPacketsOrHasIpv6() {
        for (String ns : TOPOLOGY.namespaces()) {
            assertEquals("0", run(ns, "cat", "/proc/sys/net/ipv4/ip_forward").trim(), ns);
            assertEquals("", run(ns, "ip", "-6", "-o", "addr", "show").trim(), ns);
        }
    }

    @Test
    void closeRemovesEverythingAndStartRemovesWhatDeadJvmsLeft() throws Exception {
        // given what a JVM killed while it held slot 11 leaves: a namespace, a root veth and the route
        long deadPid = deadPid();
        String leftoverNamespace = "wharf-" + deadPid + "-11-up";
        String leftoverLink = "wh" + deadPid + "s11p1";
        Placement root = Placement.LOOPBACK;
        root.run(List.of("ip", "netns", "add", leftoverNamespace), SHORT);
        root.run(List.of("ip", "link", "add", leftoverLink, "type", "veth", "peer", "name", "to-root", "netns",
                leftoverNamespace), SHORT);
        root.run(List.of("ip", "route", "add", "unreachable", "198.18.111.0/24"), SHORT);

        // when another topology starts
        NetworkTopology second = new NetworkTopology(1);
        List<String> itsNamespaces;
        String itsNetwork;
        try {
            second.start();
            itsNamespaces = second.namespaces();
            itsNetwork = second.upstreamNetwork();
            // then the leftovers are gone
            assertFalse(netnsList().contains(leftoverNamespace), netnsList().toString());
            assertFalse(root.run(List.of("ip", "-o", "link", "show"), SHORT).contains(leftoverLink));
            assertFalse(routes().contains("198.18.111.0/24"), routes());
            // and it took a slot of its own
            assertNotEquals(TOPOLOGY.upstreamNetwork(), itsNetwork);
            assertTrue(routes().contains("unreachable " + itsNetwork), routes());
        } finally {
            second.close();
        }
        // and once closed, nothing of it is left, while the class's topology is untouched
        for (String ns : itsNamespaces) {
            assertFalse(netnsList().contains(ns), netnsList().toString());
        }
        assertFalse(routes().contains(itsNetwork), routes());
        assertTrue(netnsList().containsAll(TOPOLOGY.namespaces()), netnsList().toString());
        assertTrue(routes().contains("unreachable " + TOPOLOGY.upstreamNetwork()), routes());
    }

    private static String run(String namespace, String... cmd) {
        return Placement.LOOPBACK.run(TOPOLOGY.command(namespace, List.of(cmd)), SHORT);
    }

    private static List<String> netnsList() {
        return Placement.LOOPBACK.run(List.of("ip", "netns", "list"), SHORT).lines().map(l -> l.split("\\s+")[0]).toList();
    }

    private static String routes() {
        return Placement.LOOPBACK.run(List.of("ip", "route", "show", "table", "main"), SHORT);
    }

    /** The pid of a process that has exited. */
    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }
}
