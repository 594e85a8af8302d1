package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.it.FailoverWriter.Ack;
import dev.wharf.it.FailoverWriter.Failure;
import dev.wharf.it.FailoverWriter.Session;
import dev.wharf.testing.HaproxyProcess;
import dev.wharf.testing.PatroniCluster;
import dev.wharf.testing.PatroniNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HAProxy (the canonical Patroni setup) and Wharf side by side in front of one real Patroni cluster,
 * each with a JDBC client writing through it, through a {@code kill -9} of the leader and a graceful
 * switchover. Wharf runs two listeners: {@code pg} checks {@code OPTIONS /primary} for a 200 as HAProxy
 * does; {@code pg-role} is the README's setup, which also requires the body's role to be master.
 * Prints, and appends to {@code target/failover-results.txt}, Patroni's promotion time and each
 * proxy's write outage; asserts only outcomes (writes resume, no acknowledged write lost, no session
 * on a replica, the old leader's session closed), never durations: the timeouts are hang guards.
 *
 * <p>Patroni answers 200 on {@code /primary} once it holds the leader lock and promotes PostgreSQL
 * after that, so a check of the status alone (HAProxy, {@code pg}) may open a session on the new
 * leader while it still refuses writes (25006); that window is the one place such a session is
 * allowed for them. {@code pg-role} must never open one.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PatroniFailoverIT {

    private static final Duration CLUSTER_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration HANG_GUARD = Duration.ofSeconds(60);
    private static final Duration WRITES_BEFORE = Duration.ofSeconds(3);
    private static final Duration WRITES_AFTER = Duration.ofSeconds(3);
    private static final String READ_ONLY_SQL_TRANSACTION = "25006";

    @RegisterExtension
    static final PatroniCluster CLUSTER = new PatroniCluster(3);

    /**
     * A proxy in front of the cluster: its name (the writer's label), its listening port, and whether its
     * check also waits for the end of the promotion (no session in recovery at all).
     */
    private record Proxy(String name, int port, boolean checksRole) {
        String jdbcUrl() {
            return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
        }
    }

    private static HaproxyProcess haproxy;
    private static TestWharf wharf;
    private static final List<Proxy> PROXIES = new ArrayList<>();

    @BeforeAll
    static void proxies() throws Exception {
        List<PatroniNode> nodes = CLUSTER.nodes();
        haproxy = new HaproxyProcess(haproxyConfig(nodes));
        haproxy.start();
        PROXIES.add(new Proxy("haproxy", haproxy.port(), false));
        wharf = TestWharf.start(wharfConfig(Clients.freePort(), Clients.freePort(), nodes));
        PROXIES.add(new Proxy("wharf", wharf.port("pg"), false));
        PROXIES.add(new Proxy("wharf-role", wharf.port("pg-role"), true));
        try (Connection c = DriverManager.getConnection(CLUSTER.awaitLeader(CLUSTER_TIMEOUT).jdbcUrl());
             Statement s = c.createStatement()) {
            s.execute("create table writes (proxy text not null, seq bigint not null, primary key (proxy, seq))");
        }
    }

    @AfterAll
    static void stopProxies() {
        try {
            if (wharf != null) {
                wharf.close();
            }
        } finally {
            if (haproxy != null) {
                haproxy.close();
            }
        }
    }

    /** HAProxy as Patroni's documentation sets it up: only the node answering 200 on /primary is up. */
    static String haproxyConfig(List<PatroniNode> nodes) {
        StringBuilder cfg = new StringBuilder("""
                global
                    maxconn 4096
                defaults
                    mode tcp
                    timeout connect 2s
                    timeout client 60s
                    timeout server 60s
                    timeout check 1s
                listen pg
                    bind 127.0.0.1:%PORT%
                    option httpchk OPTIONS /primary
                    http-check expect status 200
                    default-server inter 1s fall 1 rise 1 on-marked-down shutdown-sessions
                """);
        for (PatroniNode n : nodes) {
            cfg.append("    server ").append(n.name()).append(" 127.0.0.1:").append(n.pgPort())
                    .append(" check port ").append(n.restPort()).append('\n');
        }
        return cfg.toString();
    }

    /**
     * {@code pg}: HAProxy's policy in Wharf's terms. {@code pg-role}: the README's, which also matches the
     * role in the body of {@code GET /primary} and checks down endpoints every 500 ms.
     */
    static String wharfConfig(int port, int rolePort, List<PatroniNode> nodes) {
        String endpoints = nodes.stream()
                .map(n -> "{ address = \"127.0.0.1:" + n.pgPort() + "\", check-port = " + n.restPort() + " }")
                .collect(Collectors.joining(", "));
        return """
                wharf.listeners.pg {
                  port = %1$d
                  host = "127.0.0.1"
                  allow = ["127.0.0.0/8"]
                  upstream {
                    endpoints = [ %3$s ]
                    balance = first-healthy
                    health-check { type = http, method = OPTIONS, path = "/primary", expect-status = 200, interval = 1s, timeout = 1s, rise = 1, fall = 1 }
                    on-unhealthy = close-sessions
                  }
                }
                wharf.listeners.pg-role {
                  port = %2$d
                  host = "127.0.0.1"
                  allow = ["127.0.0.0/8"]
                  upstream {
                    endpoints = [ %3$s ]
                    balance = first-healthy
                    health-check {
                      type = http
                      path = "/primary"
                      expect-body = "\\"role\\"\\\\s*:\\\\s*\\"(master|primary)\\""
                      interval = 1s, down-interval = 500ms, timeout = 1s, rise = 1, fall = 1
                    }
                    on-unhealthy = close-sessions
                  }
                }
                """.formatted(port, rolePort, endpoints);
    }

    @Test
    @Order(1)
    void killOfTheLeader() throws Exception {
        episode("kill -9 of the leader", CLUSTER::killLeader);
    }

    @Test
    @Order(2)
    void gracefulSwitchover() throws Exception {
        episode("switchover", () -> {
            PatroniNode old = CLUSTER.awaitLeader(CLUSTER_TIMEOUT);
            CLUSTER.switchover(null);
            return old;
        });
    }

    /**
     * Writers through every proxy; {@code trigger} takes the leader away and returns the old leader. Runs
     * until every writer has written for {@link #WRITES_AFTER} on the new leader, then reports and asserts.
     */
    private void episode(String name, Supplier<PatroniNode> trigger) throws Exception {
        // given a whole cluster, each proxy routing to its leader, and a writer through each proxy
        restoreCluster();
        PatroniNode old = CLUSTER.awaitLeader(CLUSTER_TIMEOUT);
        for (Proxy p : PROXIES) {
            awaitRoutedTo(p, old);
        }
        try (Connection c = DriverManager.getConnection(old.jdbcUrl()); Statement s = c.createStatement()) {
            s.execute("truncate writes");
        }
        List<FailoverWriter> writers = PROXIES.stream().map(p -> new FailoverWriter(p.name(), p.jdbcUrl()).start()).toList();
        try {
            for (FailoverWriter w : writers) {
                awaitUntil(() -> !w.acks().isEmpty(), w.proxy() + " writes before the " + name);
            }
            Thread.sleep(WRITES_BEFORE.toMillis());

            // when the leader goes away
            PromotionWatch watch = PromotionWatch.start(CLUSTER.nodes(), old);
            long triggered = System.nanoTime();
            PatroniNode before = trigger.get();
            assertEquals(old, before, "the leader the episode started with");
            PromotionWatch.Promotion promotion = watch.await(HANG_GUARD);
            // then writers keep going until each has written WRITES_AFTER on the new leader (or the hang guard)
            long deadline = triggered + HANG_GUARD.toNanos();
            while (System.nanoTime() < deadline
                    && !writers.stream().allMatch(w -> writtenOn(w, promotion.node()) >= WRITES_AFTER.toNanos())) {
                Thread.sleep(100);
            }
            for (FailoverWriter w : writers) {
                w.close();
            }
            report(name, triggered, old, promotion, writers);
            for (int i = 0; i < writers.size(); i++) {
                assertOutcome(name, triggered, old, promotion.node(), PROXIES.get(i), writers.get(i));
            }
        } finally {
            for (FailoverWriter w : writers) {
                w.close();
            }
        }
    }

    /** Restarts a node an earlier episode killed, so that every episode starts from three streaming nodes. */
    private static void restoreCluster() {
        for (PatroniNode n : CLUSTER.nodes()) {
            if (!n.isRunning()) {
                CLUSTER.restart(n);
            }
        }
        CLUSTER.awaitReplicasStreaming(CLUSTER_TIMEOUT);
    }

    /**
     * Waits until three sessions in a row through the proxy land on {@code leader}: both proxies treat every
     * endpoint as up until their first checks, and those are not what the episodes measure.
     */
    private static void awaitRoutedTo(Proxy proxy, PatroniNode leader) throws Exception {
        int inARow = 0;
        long deadline = System.nanoTime() + HANG_GUARD.toNanos();
        while (inARow < 3) {
            assertTrue(System.nanoTime() < deadline, proxy.name() + " never routed to the leader " + leader.name());
            try (Connection c = DriverManager.getConnection(proxy.jdbcUrl(), timeouts());
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select inet_server_port()")) {
                rs.next();
                inARow = rs.getInt(1) == leader.pgPort() ? inARow + 1 : 0;
            } catch (SQLException notYet) {
                inARow = 0;
            }
            Thread.sleep(200);
        }
    }

    /** How long {@code w} has been writing on {@code node}: from its first acknowledged insert there to its last. */
    private static long writtenOn(FailoverWriter w, PatroniNode node) {
        List<Ack> acks = acksOn(w, node);
        return acks.isEmpty() ? 0 : acks.get(acks.size() - 1).atNanos() - acks.get(0).atNanos();
    }

    private static List<Ack> acksOn(FailoverWriter w, PatroniNode node) {
        Set<Integer> sessions = w.sessions().stream().filter(s -> s.serverPort() == node.pgPort())
                .map(Session::id).collect(Collectors.toSet());
        return w.acks().stream().filter(a -> sessions.contains(a.session())).toList();
    }

    private static void report(String episode, long triggered, PatroniNode old, PromotionWatch.Promotion promotion,
                               List<FailoverWriter> writers) throws IOException {
        StringBuilder line = new StringBuilder()
                .append(Instant.now()).append(" episode=\"").append(episode).append("\"")
                .append(" old_leader=").append(old.name())
                .append(" new_leader=").append(promotion.node().name())
                .append(" promotion_ms=").append(millis(promotion.atNanos() - triggered))
                .append(" writable_ms=").append(millis(promotion.writableNanos() - triggered));
        for (FailoverWriter w : writers) {
            List<Ack> onOld = acksOn(w, old);
            List<Ack> onNew = acksOn(w, promotion.node());
            String outage = onOld.isEmpty() || onNew.isEmpty()
                    ? "n/a"
                    : Long.toString(millis(onNew.get(0).atNanos() - onOld.get(onOld.size() - 1).atNanos()));
            Map<String, Long> errors = w.failures().stream()
                    .collect(Collectors.groupingBy(f -> String.valueOf(f.sqlState()), TreeMap::new, Collectors.counting()));
            line.append(" | ").append(w.proxy())
                    .append(": outage_ms=").append(outage)
                    .append(" resumed_after_trigger_ms=").append(onNew.isEmpty() ? "n/a" : millis(onNew.get(0).atNanos() - triggered))
                    .append(" acks=").append(w.acks().size())
                    .append(" failed=").append(w.failures().size()).append(' ').append(errors)
                    .append(" sessions=").append(w.sessions().size())
                    .append(" sessions_in_recovery=").append(w.sessions().stream().filter(Session::inRecovery).count());
        }
        System.out.println("FAILOVER " + line);
        Path results = Path.of("target", "failover-results.txt");
        Files.createDirectories(results.getParent());
        Files.writeString(results, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static void assertOutcome(String episode, long triggered, PatroniNode old, PatroniNode next, Proxy proxy,
                                      FailoverWriter w) throws SQLException {
        String who = w.proxy() + " (" + episode + ")";
        List<Failure> failures = w.failures();
        String lastFailures = failures.subList(Math.max(0, failures.size() - 5), failures.size()).toString();

        // writes resumed on the new leader
        assertFalse(acksOn(w, next).isEmpty(), who + ": no acknowledged write on the new leader " + next.name()
                + "; last failures: " + lastFailures);

        // every acknowledged write is in the table
        Set<Long> stored = new HashSet<>();
        try (Connection c = DriverManager.getConnection(next.jdbcUrl());
             PreparedStatement s = c.prepareStatement("select seq from writes where proxy = ?")) {
            s.setString(1, w.proxy());
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    stored.add(rs.getLong(1));
                }
            }
        }
        List<Long> lost = w.acks().stream().map(Ack::seq).filter(seq -> !stored.contains(seq)).toList();
        assertEquals(List.of(), lost, who + ": acknowledged writes missing on " + next.name());

        // sessions went to the old leader, then to the new one, never to the third node
        List<Session> elsewhere = w.sessions().stream()
                .filter(s -> s.serverPort() != old.pgPort() && s.serverPort() != next.pgPort()).toList();
        assertEquals(List.of(), elsewhere, who + ": sessions served by a node that was never the leader");
        List<Session> inRecovery = w.sessions().stream().filter(Session::inRecovery).toList();
        List<Failure> readOnly = failures.stream().filter(f -> READ_ONLY_SQL_TRANSACTION.equals(f.sqlState())).toList();
        if (proxy.checksRole()) {
            assertEquals(List.of(), inRecovery, who + ": sessions served by a node in recovery");
            assertEquals(List.of(), readOnly, who + ": writes refused as read-only");
        } else {
            // Only the new leader between its /primary answering 200 and the end of its promotion (see
            // PromotionWatch), and only there a write may be refused as read-only. Such a session lives on
            // through the promotion, so its later writes may well be acknowledged.
            for (Session s : inRecovery) {
                assertEquals(next.pgPort(), s.serverPort(), who + ": a session served by a node in recovery other than"
                        + " the new leader " + next.name() + " while promoting: " + s);
            }
            Set<Integer> promoting = inRecovery.stream().map(Session::id).collect(Collectors.toSet());
            assertEquals(List.of(), readOnly.stream().filter(f -> !promoting.contains(f.session())).toList(),
                    who + ": writes refused as read-only outside the new leader's promotion");
        }

        // the session open on the old leader when the episode began was closed under the writer
        Optional<Ack> lastBefore = w.acks().stream().filter(a -> a.atNanos() < triggered).reduce((a, b) -> b);
        assertTrue(lastBefore.isPresent(), who + ": no write before the trigger");
        int session = lastBefore.get().session();
        Session open = w.sessions().stream().filter(s -> s.id() == session).findFirst().orElse(null);
        assertNotNull(open);
        assertEquals(old.pgPort(), open.serverPort(), who + ": the session open at the trigger was on the old leader");
        assertTrue(failures.stream().anyMatch(f -> f.session() == session),
                who + ": the session open on the old leader " + old.name() + " never failed; failures: " + lastFailures);
    }

    private static void awaitUntil(Supplier<Boolean> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + HANG_GUARD.toNanos();
        while (!condition.get()) {
            assertTrue(System.nanoTime() < deadline, "hang guard: no " + what + " within " + HANG_GUARD);
            Thread.sleep(50);
        }
    }

    private static Properties timeouts() {
        Properties props = new Properties();
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "5");
        return props;
    }

    private static long millis(long nanos) {
        return Duration.ofNanos(nanos).toMillis();
    }

    /**
     * Patroni's promotion as a client sees it: every 100 ms, {@code GET /primary} on every node but the old
     * leader, until one answers 200; then, every 10 ms, {@code pg_is_in_recovery()} on that node until it
     * is false. Patroni answers 200 once it holds the leader lock and promotes PostgreSQL after that, so a
     * proxy checking {@code /primary} may open a session on it while it still refuses writes.
     */
    private static final class PromotionWatch {
        /** {@code node} answered 200 on /primary at {@code atNanos}, and accepted writes at {@code writableNanos}. */
        record Promotion(PatroniNode node, long atNanos, long writableNanos) {}

        private final Thread thread;
        private volatile Promotion promotion;

        private PromotionWatch(List<PatroniNode> nodes, PatroniNode old) {
            thread = new Thread(() -> {
                try {
                    PatroniNode next = null;
                    long at = 0;
                    while (next == null) {
                        for (PatroniNode n : nodes) {
                            if (n != old && n.isRunning() && n.restStatus("/primary") == 200) {
                                next = n;
                                at = System.nanoTime();
                                break;
                            }
                        }
                        if (next == null) {
                            Thread.sleep(100);
                        }
                    }
                    while (inRecovery(next)) {
                        Thread.sleep(10);
                    }
                    promotion = new Promotion(next, at, System.nanoTime());
                } catch (InterruptedException stop) {
                    // the hang guard ran out
                }
            }, "promotion-watch");
            thread.setDaemon(true);
        }

        static PromotionWatch start(List<PatroniNode> nodes, PatroniNode old) {
            PromotionWatch watch = new PromotionWatch(nodes, old);
            watch.thread.start();
            return watch;
        }

        Promotion await(Duration timeout) throws InterruptedException {
            thread.join(timeout.toMillis());
            thread.interrupt();
            assertNotNull(promotion, "hang guard: no node answered 200 on /primary and accepted writes within " + timeout);
            return promotion;
        }

        private static boolean inRecovery(PatroniNode node) {
            try (Connection c = DriverManager.getConnection(node.jdbcUrl(), timeouts());
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select pg_is_in_recovery()")) {
                return !rs.next() || rs.getBoolean(1);
            } catch (SQLException notYet) {
                return true;
            }
        }
    }
}
