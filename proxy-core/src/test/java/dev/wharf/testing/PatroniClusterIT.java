package dev.wharf.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Patroni fixture itself: election, streaming, a kill -9 of the leader, a switchover, cleanup. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PatroniClusterIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final PatroniCluster CLUSTER = new PatroniCluster(3);

    @BeforeEach
    void threeNodesStreaming() {
        // Each test starts from a whole cluster, whatever the previous one left.
        for (PatroniNode node : CLUSTER.nodes()) {
            if (!node.isRunning()) {
                CLUSTER.restart(node);
            }
        }
        CLUSTER.awaitReplicasStreaming(TIMEOUT);
    }

    @Test
    @Order(1)
    void electsOneLeaderAndTheOthersStreamFromIt() throws Exception {
        PatroniNode leader = CLUSTER.awaitLeader(TIMEOUT);
        List<PatroniNode> nodes = CLUSTER.nodes();
        assertEquals(List.of("node1", "node2", "node3"), nodes.stream().map(PatroniNode::name).toList());
        Set<Integer> ports = nodes.stream().flatMap(n -> Stream.of(n.pgPort(), n.restPort()))
                .collect(Collectors.toSet());
        assertEquals(6, ports.size(), "every node has its own PostgreSQL and REST port");
        for (PatroniNode n : nodes) {
            boolean isLeader = n == leader;
            assertEquals(isLeader ? 200 : 503, n.restStatus("/primary"), n.name() + " /primary");
            assertEquals(isLeader ? 503 : 200, n.restStatus("/replica"), n.name() + " /replica");
            assertEquals(!isLeader, inRecovery(n), n.name() + " pg_is_in_recovery()");
        }
        assertTrue(CLUSTER.synchronousStandby().isPresent(), "synchronous mode has picked a standby");
    }

    @Test
    @Order(2)
    void aRowWrittenOnTheLeaderIsReadOnEveryReplica() throws Exception {
        PatroniNode leader = CLUSTER.awaitLeader(TIMEOUT);
        String value = UUID.randomUUID().toString();
        execute(leader, "create table if not exists berth (ship text primary key)");
        execute(leader, "insert into berth values ('" + value + "')");
        for (PatroniNode replica : CLUSTER.nodes()) {
            if (replica != leader) {
                awaitRow(replica, value);
                SQLException readOnly = assertThrows(SQLException.class, () -> execute(replica, "insert into berth values ('x')"));
                assertEquals("25006", readOnly.getSQLState(), "a replica refuses writes: " + readOnly.getMessage());
            }
        }
    }

    @Test
    @Order(3)
    void killOfTheLeaderElectsAnotherAndTheKilledNodeComesBackAsReplica() throws Exception {
        PatroniNode old = CLUSTER.awaitLeader(TIMEOUT);
        String value = UUID.randomUUID().toString();
        execute(old, "create table if not exists berth (ship text primary key)");
        execute(old, "insert into berth values ('" + value + "')");

        PatroniNode killed = CLUSTER.killLeader();

        assertSame(old, killed);
        assertFalse(killed.isRunning());
        assertTrue(PatroniNode.processesUnder(killed.dir()).findAny().isEmpty(), "Patroni and PostgreSQL are gone");
        assertRefused(killed.pgPort());
        PatroniNode next = CLUSTER.awaitLeaderOtherThan(killed, TIMEOUT);
        assertFalse(inRecovery(next), next.name() + " is promoted");
        awaitRow(next, value); // acknowledged before the kill: synchronous mode kept it

        CLUSTER.restart(killed);
        assertEquals(200, killed.restStatus("/replica"));
        awaitRow(killed, value);
    }

    @Test
    @Order(4)
    void switchoverMovesTheLeaderToTheCandidateOrToOneOfPatronisChoice() throws Exception {
        PatroniNode old = CLUSTER.awaitLeader(TIMEOUT);
        String candidate = CLUSTER.synchronousStandby().orElseThrow().name();

        PatroniNode next = CLUSTER.switchover(candidate);

        assertEquals(candidate, next.name());
        assertEquals(next, CLUSTER.awaitReplicasStreaming(TIMEOUT));
        assertEquals(200, old.restStatus("/replica"), "the old leader follows the new one");
        assertTrue(inRecovery(old));

        PatroniNode third = CLUSTER.switchover(null);
        assertNotEquals(next, third);
        assertFalse(inRecovery(third));
    }

    @Test
    @Order(5)
    void closeKillsEveryProcessAndDeletesTheDirectories() throws Exception {
        Path dir;
        int pgPort;
        try (PatroniCluster single = new PatroniCluster(1)) {
            single.start();
            PatroniNode only = single.awaitLeader(TIMEOUT);
            dir = only.dir();
            pgPort = only.pgPort();
            assertTrue(PatroniNode.processesUnder(dir).count() >= 2, "Patroni and a postmaster run in " + dir);
        }
        assertFalse(Files.exists(dir));
        assertTrue(PatroniNode.processesUnder(dir).findAny().isEmpty());
        assertRefused(pgPort);
    }

    private static boolean inRecovery(PatroniNode node) throws SQLException {
        try (Connection c = DriverManager.getConnection(node.jdbcUrl());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select pg_is_in_recovery()")) {
            assertTrue(rs.next());
            return rs.getBoolean(1);
        }
    }

    private static void execute(PatroniNode node, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(node.jdbcUrl()); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Replication is asynchronous to apply (synchronous mode waits for the flush): poll. */
    private static void awaitRow(PatroniNode node, String value) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            try (Connection c = DriverManager.getConnection(node.jdbcUrl());
                 PreparedStatement s = c.prepareStatement("select count(*) from berth where ship = ?")) {
                s.setString(1, value);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) == 1) {
                        return;
                    }
                }
            }
            assertTrue(System.nanoTime() < deadline, node.name() + " never showed the row " + value);
            Thread.sleep(50);
        }
    }

    private static void assertRefused(int port) {
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(ChildProcess.HOST, port), 1000);
            }
        }, "nothing listens on " + port);
    }
}
