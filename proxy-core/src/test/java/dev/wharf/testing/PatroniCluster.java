package dev.wharf.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A real Patroni 3 cluster on 127.0.0.1 for integration tests: one etcd ({@link EtcdServer}) and
 * {@code size} {@link PatroniNode}s, each with its own PostgreSQL 15 and REST API port.
 *
 * <pre>{@code @RegisterExtension static final PatroniCluster CLUSTER = new PatroniCluster(3);}</pre>
 *
 * <p>Started before the class's tests (or with {@link #start()}), it returns once a leader is elected,
 * every other node streams from it and one of them is the synchronous standby. {@link #close()} (after the
 * class's tests, also when one fails) kills every process, PostgreSQL included, and deletes the directories;
 * a shutdown hook does the same if the JVM exits first.
 *
 * <p>The DCS settings are Patroni's usual ones scaled down ({@code ttl 10, loop_wait 2, retry_timeout 3}):
 * a {@code kill -9} of the leader elects another in 8-11 s, a switchover in ~2 s. Synchronous mode is on
 * (see {@link PatroniNode}), so acknowledged commits survive a failover and a switchover's candidate, if
 * named, must be the synchronous standby.
 */
public final class PatroniCluster extends ClassScoped {

    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration SWITCHOVER_TIMEOUT = Duration.ofSeconds(60);
    private static final int LOG_TAIL_LINES = 15;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int size;
    private final String scope = "wharf";
    private volatile EtcdServer etcd;
    // Volatile: the shutdown hook and polling threads read it without the lock.
    private volatile List<PatroniNode> nodes = List.of();
    private Thread shutdownHook;

    public PatroniCluster(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("size: " + size + " (expected: >= 1)");
        }
        this.size = size;
    }

    // ---- lifecycle ----

    /** Starts etcd and every node, and waits until the cluster has a leader and streaming replicas. */
    @Override
    public synchronized void start() {
        if (etcd != null) {
            return;
        }
        startOrClose(() -> {
            etcd = new EtcdServer();
            etcd.start();
            String etcdHosts = etcd.clientAddress();
            nodes = IntStream.rangeClosed(1, size).mapToObj(i -> new PatroniNode(scope, "node" + i, etcdHosts)).toList();
            registerShutdownHook();
            // In parallel: one bootstraps while the others wait for it and take a base backup.
            ChildProcess.startAll(nodes);
            awaitReplicasStreaming(START_TIMEOUT);
        });
    }

    /** Kills every node (Patroni and PostgreSQL) and etcd, and deletes their directories. Safe to call twice. */
    @Override
    public synchronized void close() {
        List<ChildProcess> all = new ArrayList<>(nodes);
        if (etcd != null) {
            all.add(etcd);
        }
        try {
            ChildProcess.closeAll(all);
        } finally {
            etcd = null;
            nodes = List.of();
            if (shutdownHook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException shuttingDown) {
                    // The hook is running or about to: it does the same cleanup.
                }
                shutdownHook = null;
            }
        }
    }


    // ---- state ----

    /** Every node, in name order ({@code node1}, {@code node2}, ...), running or not. */
    public List<PatroniNode> nodes() {
        List<PatroniNode> all = nodes;
        if (all.isEmpty()) {
            throw new IllegalStateException("the Patroni cluster has not been started");
        }
        return all;
    }

    public PatroniNode node(String name) {
        return nodes().stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name + " (expected one of "
                        + nodes().stream().map(PatroniNode::name).toList() + ")"));
    }

    /** {@code jdbc:postgresql://127.0.0.1:PGPORT/postgres?user=postgres} of {@code node}, bypassing any proxy. */
    public String jdbcUrl(PatroniNode node) {
        return node.jdbcUrl();
    }

    /**
     * The one running node whose REST API answers 200 on {@code /primary} right now, if exactly one does.
     * Patroni answers 200 as soon as it holds the leader lock, which is tens of milliseconds before its
     * PostgreSQL has left recovery; {@link #awaitLeader} also waits for that.
     */
    public Optional<PatroniNode> leaderNow() {
        List<PatroniNode> leaders = nodes().stream()
                .filter(PatroniNode::isRunning)
                .filter(n -> n.restStatus("/primary") == 200)
                .toList();
        return leaders.size() == 1 ? Optional.of(leaders.get(0)) : Optional.empty();
    }

    /**
     * Waits until exactly one node answers 200 on {@code GET /primary} and its PostgreSQL accepts writes
     * ({@code pg_is_in_recovery()} is false), and returns it.
     */
    public PatroniNode awaitLeader(Duration timeout) {
        return awaitLeader(timeout, n -> true, "a leader");
    }

    /** As {@link #awaitLeader}, for a node other than {@code previous}. */
    public PatroniNode awaitLeaderOtherThan(PatroniNode previous, Duration timeout) {
        return awaitLeader(timeout, n -> n != previous, "a leader other than " + previous.name());
    }

    /**
     * Waits until there is a leader, every other running node answers 200 on {@code GET /replica} and
     * streams from it ({@code pg_stat_replication.state = 'streaming'} on the leader), and, with more than
     * one node, one replica is the synchronous standby. Returns the leader.
     */
    public PatroniNode awaitReplicasStreaming(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no leader";
        while (true) {
            Optional<PatroniNode> leader = leaderNow();
            if (leader.isPresent()) {
                List<PatroniNode> replicas = nodes().stream().filter(n -> n != leader.get() && n.isRunning()).toList();
                List<String> notReplica = replicas.stream()
                        .filter(r -> r.restStatus("/replica") != 200).map(PatroniNode::name).toList();
                if (notReplica.isEmpty()) {
                    try {
                        Replication replication = replication(leader.get());
                        Set<String> missing = replicas.stream().map(PatroniNode::name).collect(Collectors.toCollection(HashSet::new));
                        missing.removeAll(replication.streaming());
                        // Patroni's choice (the one a failover may promote) and PostgreSQL's must agree.
                        Optional<String> sync = synchronousStandby(leader.get());
                        boolean syncAgreed = sync.isPresent() && sync.equals(replication.synchronous());
                        if (missing.isEmpty() && (replicas.isEmpty() || syncAgreed) && writable(leader.get())) {
                            return leader.get();
                        }
                        last = "leader " + leader.get().name() + ": not streaming " + missing + ", synchronous standby "
                                + sync.orElse("none") + " for Patroni, " + replication.synchronous().orElse("none")
                                + " for PostgreSQL";
                    } catch (SQLException | IOException e) {
                        last = "leader " + leader.get().name() + ": " + e;
                    }
                } else {
                    last = "leader " + leader.get().name() + ", not answering 200 on /replica: " + notReplica;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("replicas not streaming within " + timeout + " (" + last + ")" + diagnostics());
            }
            sleep(POLL);
        }
    }

    /**
     * The synchronous standby as Patroni records it in the DCS (role {@code sync_standby} in the leader's
     * {@code GET /cluster}): the only node a failover may promote and a switchover may name.
     */
    public Optional<PatroniNode> synchronousStandby() throws IOException {
        PatroniNode leader = leaderNow().orElseThrow(() -> new IllegalStateException("no leader" + diagnostics()));
        return synchronousStandby(leader).map(this::node);
    }

    // ---- faults and operations ----

    /**
     * {@code kill -9} of the leader: Patroni's process tree and PostgreSQL's (the postmaster is not
     * Patroni's descendant, see {@link PatroniNode}). Returns once both are gone and the port refuses
     * connections; returns the killed node, which {@link #restart} brings back as a replica.
     */
    public PatroniNode killLeader() {
        PatroniNode leader = awaitLeader(Duration.ofSeconds(30));
        leader.kill();
        leader.assertPostgresGone();
        return leader;
    }

    /**
     * A graceful switchover with {@code patronictl switchover --leader L [--candidate C] --force}; returns
     * the new leader once it alone answers 200 on {@code /primary} and accepts writes. With {@code candidate}
     * null Patroni picks one (the synchronous standby).
     */
    public PatroniNode switchover(String candidate) {
        PatroniNode leader = awaitLeader(Duration.ofSeconds(30));
        List<String> cmd = new ArrayList<>(List.of(
                ChildProcess.findBinary("python3", "python3", List.of(Path.of("/usr/bin"))).toString(),
                ChildProcess.findBinary("patronictl", "patroni", List.of(Path.of("/usr/bin"))).toString(),
                "-c", leader.configFile().toString(), "switchover", "--leader", leader.name(), "--force"));
        if (candidate != null) {
            cmd.addAll(List.of("--candidate", node(candidate).name()));
        }
        String output = runTool(cmd, SWITCHOVER_TIMEOUT);
        if (output.contains(" failed, details: ")) {
            // patronictl 3.0 exits 0 when the leader's REST API refuses the switchover (e.g. 412).
            throw new IllegalStateException("patronictl switchover from " + leader.name() + " refused:\n" + output);
        }
        PatroniNode next;
        try {
            next = awaitLeaderOtherThan(leader, SWITCHOVER_TIMEOUT);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("switchover from " + leader.name() + " did not happen; patronictl said:\n" + output, e);
        }
        if (candidate != null && !next.name().equals(candidate)) {
            throw new IllegalStateException("switchover to " + candidate + " elected " + next.name() + "; patronictl said:\n" + output);
        }
        return next;
    }

    /** Starts a killed or stopped node again (same ports) and waits until it streams as a replica. */
    public void restart(PatroniNode node) {
        node.start();
        awaitReplicasStreaming(START_TIMEOUT);
    }

    // ---- internals ----

    private PatroniNode awaitLeader(Duration timeout, Predicate<PatroniNode> eligible, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<PatroniNode> leader = leaderNow();
            if (leader.isPresent() && eligible.test(leader.get()) && writable(leader.get())) {
                return leader.get();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no " + what + " within " + timeout + diagnostics());
            }
            sleep(POLL);
        }
    }

    private static boolean writable(PatroniNode node) {
        try (Connection c = DriverManager.getConnection(node.jdbcUrl(), shortTimeouts());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select pg_is_in_recovery()")) {
            return rs.next() && !rs.getBoolean(1);
        } catch (SQLException notYet) {
            return false;
        }
    }

    private static Optional<String> synchronousStandby(PatroniNode leader) throws IOException {
        HttpResponse<String> response = leader.restGet("/cluster");
        if (response.statusCode() != 200) {
            throw new IOException(leader.name() + " GET /cluster answered " + response.statusCode() + ": " + response.body());
        }
        for (JsonNode member : JSON.readTree(response.body()).path("members")) {
            if ("sync_standby".equals(member.path("role").asText())) {
                return Optional.of(member.path("name").asText());
            }
        }
        return Optional.empty();
    }

    private static Properties shortTimeouts() {
        Properties props = new Properties();
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "5");
        return props;
    }

    private record Replication(Set<String> streaming, Optional<String> synchronous) {}

    private static Replication replication(PatroniNode leader) throws SQLException {
        Set<String> streaming = new HashSet<>();
        Optional<String> sync = Optional.empty();
        try (Connection c = DriverManager.getConnection(leader.jdbcUrl(), shortTimeouts());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select application_name, state, sync_state from pg_stat_replication")) {
            while (rs.next()) {
                if ("streaming".equals(rs.getString(2))) {
                    streaming.add(rs.getString(1));
                    if ("sync".equals(rs.getString(3))) {
                        sync = Optional.of(rs.getString(1));
                    }
                }
            }
        }
        return new Replication(streaming, sync);
    }

    /** Runs a short command to completion and returns its output; throws with the output if it fails. */
    private static String runTool(List<String> command, Duration timeout) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            // Small output: reading to EOF before waitFor cannot deadlock on a full pipe.
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout + ":\n" + output);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + output);
            }
            return output;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", command), e);
        }
    }

    /** Each node's REST answers and the tail of its log, for a failure message. */
    private String diagnostics() {
        StringBuilder sb = new StringBuilder();
        for (PatroniNode n : nodes) {
            sb.append("\n--- ").append(n.name()).append(": ");
            if (n.isRunning()) {
                sb.append("/primary ").append(n.restStatus("/primary")).append(", /replica ").append(n.restStatus("/replica"));
            } else {
                sb.append("not running");
            }
            sb.append(", last ").append(LOG_TAIL_LINES).append(" log lines ---\n").append(n.logTail(LOG_TAIL_LINES));
        }
        return sb.toString();
    }

    private void registerShutdownHook() {
        // The nodes' own hooks kill Patroni; this one also reaches the postmasters, which are not their
        // descendants. Unsynchronized on purpose: a test thread may hold the lock.
        shutdownHook = new Thread(() -> {
            for (PatroniNode node : nodes) {
                Path dir = node.dirForShutdownHook();
                if (dir != null) {
                    PatroniNode.killProcessesUnder(dir);
                }
            }
        }, "wharf-patroni-cleanup");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
