package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.wharf.testing.RedisCluster;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * How a redis-cluster listener gives nodes their ports, against a real 6-node cluster on
 * loopback: nodes in node-ports get theirs, the others ports of dynamic-ports (each logged as a
 * warning, since another replica may hand out the same port to another node) which are released
 * once no reply has named their node for release-after, and bound again when one does.
 */
class RedisClusterNodePortsIT {
    @RegisterExtension
    static final RedisCluster REDIS = new RedisCluster();

    private static final Pattern NODE_LINE = Pattern.compile("^\\S+ (\\S+):(\\d+)@", Pattern.MULTILINE);
    private static final Pattern NODE_PORT = Pattern.compile("\"node\" : \"([^\"]+)\",\\s*\"port\" : (\\d+),"
            + "\\s*\"upstream\" : \"[^\"]+\",\\s*\"configured\" : (true|false)");

    @Test
    void nodesMissingFromNodePortsGetDynamicPortsThatAreReleasedWhenUnseen() throws Exception {
        // given: three nodes mapped, three left to a range
        List<String> nodes = REDIS.addresses();
        int first = Clients.freePort();
        int seed = portOutside(first);
        int[] ports = {portOutside(first), portOutside(first), portOutside(first)};
        String nodePorts = "\"" + nodes.get(0) + "\" = " + ports[0] + ", \"" + nodes.get(1) + "\" = " + ports[1]
                + ", \"" + nodes.get(2) + "\" = " + ports[2];
        ListAppender<ILoggingEvent> logs = captureLogs();
        try (TestWharf wharf = TestWharf.start(RelayIT.listener("redis", seed, "protocol = redis-cluster,"
                + " redis-cluster { advertised-host = \"127.0.0.1\", node-ports { " + nodePorts + " },"
                + " dynamic-ports = \"" + first + "-" + (first + 9) + "\", release-after = 1s },", nodes.get(0)))) {
            Map<String, String> atStart = nodePorts(wharf);

            // when a client asks for the topology
            Map<String, Integer> told = clusterNodes(seed);
            Map<String, String> afterReply = nodePorts(wharf);

            // then the mapped nodes were bound at start, the others when the reply named them
            assertEquals(Map.of(nodes.get(0), ports[0] + "/true", nodes.get(1), ports[1] + "/true",
                    nodes.get(2), ports[2] + "/true"), atStart);
            assertEquals(6, told.size(), "nodes told: " + told);
            for (int i = 0; i < 3; i++) {
                assertEquals(ports[i], told.get(nodes.get(i)), "node-ports entry of " + nodes.get(i));
            }
            for (int i = 3; i < 6; i++) {
                int port = told.get(nodes.get(i));
                assertTrue(port >= first && port <= first + 9, nodes.get(i) + " got " + port);
                assertEquals(port + "/false", afterReply.get(nodes.get(i)));
                // and the port reaches that very node
                try (Jedis viaProxy = new Jedis("127.0.0.1", port)) {
                    assertEquals(REDIS.node(nodes.get(i)).id(), viaProxy.clusterMyId());
                }
            }
            List<String> warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("dynamic port")).toList();
            assertEquals(3, warnings.size(), "one warning per dynamic port: " + warnings);

            // when no reply names them for release-after
            Map<String, String> released = awaitNodePorts(wharf, 3);

            // then only the configured ports stay; a reply naming the nodes binds them again
            assertEquals(atStart, released);
            Map<String, Integer> toldAgain = clusterNodes(seed);
            assertEquals(6, toldAgain.size());
            assertEquals(6, nodePorts(wharf).size());
        } finally {
            ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        }
    }

    /** A free port not in the dynamic range that starts at {@code first}. */
    private static int portOutside(int first) throws java.io.IOException {
        int port;
        do {
            port = Clients.freePort();
        } while (port >= first && port <= first + 9);
        return port;
    }

    /** CLUSTER NODES through Wharf: each node's real address (matched by id) to the port Wharf told. */
    private static Map<String, Integer> clusterNodes(int port) {
        String reply;
        try (Jedis jedis = new Jedis("127.0.0.1", port)) {
            reply = jedis.clusterNodes();
        }
        Map<String, Integer> told = new TreeMap<>();
        for (String line : reply.split("\n")) {
            String id = line.split(" ")[0];
            Matcher m = NODE_LINE.matcher(line);
            assertTrue(m.find(), line);
            assertEquals("127.0.0.1", m.group(1), line);
            String real = REDIS.nodes().stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow().address();
            told.put(real, Integer.parseInt(m.group(2)));
        }
        return told;
    }

    /** Node to "port/configured" of every node port bound now. */
    private static Map<String, String> nodePorts(TestWharf wharf) {
        Map<String, String> ports = new TreeMap<>();
        Matcher m = NODE_PORT.matcher(wharf.admin("/upstreams").body());
        while (m.find()) {
            ports.put(m.group(1), m.group(2) + "/" + m.group(3));
        }
        return ports;
    }

    private static Map<String, String> awaitNodePorts(TestWharf wharf, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        Map<String, String> ports = nodePorts(wharf);
        while (ports.size() != count && System.nanoTime() < deadline) {
            Thread.sleep(100);
            ports = nodePorts(wharf);
        }
        return ports;
    }

    private static ListAppender<ILoggingEvent> captureLogs() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(appender);
        return appender;
    }
}
