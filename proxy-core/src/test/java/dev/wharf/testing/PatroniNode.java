package dev.wharf.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * One member of a {@link PatroniCluster}: Debian's Patroni (run by {@code /usr/bin/python3}) managing its
 * own PostgreSQL 15 on 127.0.0.1. {@link #port()} is the REST API port, {@link #pgPort()} PostgreSQL's;
 * both are kept across {@link #kill()}/{@link #start()}. As root, Patroni and so PostgreSQL run as the OS
 * user {@code postgres}, which owns the node's directory.
 *
 * <p>Patroni starts the postmaster as pg_ctl does, through a launcher that exits at once, so the
 * postmaster is re-parented to init and is not a descendant of the Patroni process: killing Patroni's
 * process tree leaves PostgreSQL running. {@link #stopped()} therefore also kills every process whose
 * command line names the node's directory (the postmaster's {@code -D}), with its descendants.
 */
public final class PatroniNode extends ChildProcess {

    private static final String OS_USER = "postgres";
    private static final Path DEBIAN_PG_BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final String scope;
    private final String name;
    private final String etcdHosts;
    // Volatile: the cluster's shutdown hook reads it without the lock.
    private volatile Path nodeDir;
    private int pgPort;
    private boolean served; // once true, pgPort is kept across restarts
    private Path python;
    private Path patroni;
    private Path pgBin;

    PatroniNode(String scope, String name, String etcdHosts) {
        super("patroni-" + name);
        this.scope = scope;
        this.name = name;
        this.etcdHosts = etcdHosts;
    }

    /** The Patroni member name, e.g. {@code node1}. */
    public String name() {
        return name;
    }

    /** PostgreSQL's port. */
    public synchronized int pgPort() {
        if (pgPort == 0) {
            throw new IllegalStateException(name + " has not been started");
        }
        return pgPort;
    }

    /** The Patroni REST API port (the one an HAProxy {@code check port} or a Wharf {@code check-port} names). */
    public int restPort() {
        return port();
    }

    /** {@code jdbc:postgresql://127.0.0.1:PGPORT/postgres?user=postgres}: straight to this node's PostgreSQL. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + HOST + ":" + pgPort() + "/postgres?user=" + OS_USER;
    }

    /** The node's Patroni configuration file, for {@code patronictl -c}. */
    public Path configFile() {
        return dir().resolve("patroni.yml");
    }

    /**
     * The status code of {@code GET path} on the REST API (e.g. 200 on {@code /primary} for the leader, 503
     * otherwise), or -1 if the API does not answer within a second.
     */
    public int restStatus(String path) {
        try {
            return restGet(path).statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    /** {@code GET path} on the REST API, e.g. {@code /cluster}, with a one-second timeout. */
    HttpResponse<String> restGet(String path) throws IOException {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + restPort() + path))
                            .timeout(Duration.ofSeconds(1)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return name + " (pg " + pgPort + ")";
    }

    // ---- ChildProcess ----

    @Override
    protected void prepare(Path dir) throws Exception {
        // Debian's python3, not a pyenv one first on PATH: only it has Patroni's modules.
        python = findBinary("python3", "python3", List.of(Path.of("/usr/bin")));
        patroni = findBinary("patroni", "patroni", List.of(Path.of("/usr/bin")));
        pgBin = findBinary("postgres", "postgresql-15", List.of(DEBIAN_PG_BIN)).getParent();
        try {
            run(List.of(python.toString(), "-c", "import etcd"), Duration.ofSeconds(30));
        } catch (IOException e) {
            throw new IllegalStateException(python + " cannot import etcd, which Patroni's etcd3 DCS needs: install the"
                    + " Debian package python3-etcd (apt-get install -y python3-etcd)", e);
        }
        nodeDir = dir;
        if (runningAsRoot()) {
            chownToServerUser(dir);
        }
    }

    @Override
    protected List<String> command(Path dir, int port) {
        if (!served) {
            // A fresh port for each launch until one serves: a retry may be for this port being taken.
            pgPort = LoopbackPorts.free();
        }
        Path config = dir.resolve("patroni.yml");
        try {
            Files.writeString(config, config(dir, port), StandardCharsets.UTF_8);
            if (runningAsRoot()) {
                chownToServerUser(config);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>();
        if (runningAsRoot()) {
            // setpriv execs: the child process is Patroni itself, so SIGTERM reaches it.
            cmd.addAll(List.of("setpriv", "--reuid=" + OS_USER, "--regid=" + OS_USER, "--init-groups", "--"));
        }
        cmd.addAll(List.of(python.toString(), patroni.toString(), config.toString()));
        return cmd;
    }

    /** Ready once PostgreSQL runs under Patroni: {@code GET /health} answers 200 (a primary or a replica). */
    @Override
    protected void probe() {
        int status = restStatus("/health");
        if (status != 200) {
            throw new IllegalStateException(name + " GET /health answered " + status);
        }
        served = true;
    }

    @Override
    protected void stopped() {
        Path dir = nodeDir;
        if (dir != null) {
            killProcessesUnder(dir);
        }
    }

    // ---- for the cluster ----

    /** Throws if a process still runs in this node's directory or PostgreSQL still accepts connections. */
    void assertPostgresGone() {
        List<ProcessHandle> alive = processesUnder(nodeDir).toList();
        if (!alive.isEmpty()) {
            throw new IllegalStateException(name + ": still running after the kill: " + describe(alive));
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(HOST, pgPort), 1000);
            throw new IllegalStateException(name + ": PostgreSQL still accepts connections on port " + pgPort);
        } catch (ConnectException expected) {
            // refused: nothing listens
        } catch (IOException e) {
            throw new IllegalStateException(name + ": cannot tell whether PostgreSQL still listens on " + pgPort, e);
        }
    }

    /** Called by the cluster's shutdown hook, without locks: the node's directory, or null. */
    Path dirForShutdownHook() {
        return nodeDir;
    }

    /**
     * SIGKILLs every process whose command line names a file under {@code dir} (Patroni names its config
     * file, the postmaster its data directory), with all their descendants (the backends), and waits
     * until they are gone.
     */
    static void killProcessesUnder(Path dir) {
        List<ProcessHandle> tree = new ArrayList<>();
        // Descendants first: once the postmaster dies its backends are re-parented and no longer found.
        processesUnder(dir).forEach(root -> {
            tree.addAll(root.descendants().toList());
            tree.add(root);
        });
        tree.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + KILL_WAIT.toNanos();
        while (tree.stream().anyMatch(h -> !exited(h)) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return; // best effort here; assertPostgresGone() is the check that fails loudly
            }
        }
    }

    /**
     * Gone, or a zombie: it has exited and closed its sockets, and waits only for its parent to reap it.
     * The postmaster's parent is init, which may reap late (over a second on some hosts), and Java
     * counts a zombie as alive.
     */
    private static boolean exited(ProcessHandle h) {
        if (!h.isAlive()) {
            return true;
        }
        // Not Files.readString: it trusts the size procfs reports (0) and returns the first byte only.
        try (InputStream in = Files.newInputStream(Path.of("/proc", Long.toString(h.pid()), "stat"))) {
            String stat = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            // pid (comm) state ...: comm may hold spaces, so look after its closing parenthesis.
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException | RuntimeException gone) {
            return true;
        }
    }

    /** Running (not zombie) processes whose command line names a file under {@code dir}. */
    static Stream<ProcessHandle> processesUnder(Path dir) {
        String prefix = dir + File.separator;
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses()
                .filter(h -> h.pid() != self && !exited(h))
                .filter(h -> h.info().arguments().map(args -> Arrays.stream(args).anyMatch(a -> a.contains(prefix))).orElse(false));
    }

    private static String describe(List<ProcessHandle> processes) {
        return processes.stream()
                .map(h -> h.pid() + " " + h.info().commandLine().orElse("?"))
                .toList()
                .toString();
    }

    private static void chownToServerUser(Path path) throws IOException {
        UserPrincipal owner = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(OS_USER);
        try (Stream<Path> files = Files.walk(path)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.setOwner(f, owner);
            }
        }
    }

    /**
     * The node's Patroni config. {@code bootstrap.dcs} only counts for the member that initializes the
     * cluster; the others read it from etcd. Synchronous mode: Patroni keeps one replica synchronous and
     * fails over only to it, so a commit acknowledged before a {@code kill -9} of the leader survives.
     */
    private String config(Path dir, int restPort) {
        return """
                scope: %1$s
                name: %2$s
                log:
                  level: INFO
                restapi:
                  listen: %3$s:%4$d
                  connect_address: %3$s:%4$d
                etcd3:
                  hosts: %5$s
                bootstrap:
                  dcs:
                    ttl: 10
                    loop_wait: 2
                    retry_timeout: 3
                    maximum_lag_on_failover: 1048576
                    synchronous_mode: true
                    postgresql:
                      use_pg_rewind: true
                      parameters:
                        wal_keep_size: 256MB
                  initdb:
                  - encoding: UTF8
                  - locale: C.UTF-8
                  pg_hba:
                  - local all all trust
                  - host all all 127.0.0.1/32 trust
                  - host replication all 127.0.0.1/32 trust
                postgresql:
                  listen: %3$s:%6$d
                  connect_address: %3$s:%6$d
                  data_dir: '%7$s'
                  bin_dir: '%8$s'
                  pgpass: '%9$s'
                  # A former leader that pg_rewind cannot bring back is rebuilt from a base backup.
                  remove_data_directory_on_rewind_failure: true
                  remove_data_directory_on_diverged_timelines: true
                  basebackup:
                  - checkpoint: fast
                  authentication:
                    superuser:
                      username: %10$s
                    replication:
                      username: %10$s
                  parameters:
                    unix_socket_directories: '%11$s'
                    # Only processes are killed here, never the host: the page cache survives, so fsync buys nothing.
                    fsync: 'off'
                """.formatted(scope, name, HOST, restPort, etcdHosts, pgPort, dir.resolve("data"), pgBin,
                dir.resolve("pgpass"), OS_USER, dir);
    }
}
