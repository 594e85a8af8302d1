package dev.wharf.bench.target;

import dev.wharf.bench.proc.Directories;
import dev.wharf.bench.proc.ManagedProcess;
import dev.wharf.bench.proc.PostgresBinaries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The servers every target relays to, each a child process on 127.0.0.1 with its log in the work
 * directory: the bench's own Netty server ({@link Upstream#ECHO}, in its own JVM so it shares no
 * heap or GC with the load generator), Redis, and PostgreSQL loaded by {@code pgbench -i}.
 */
public final class Upstreams implements AutoCloseable {
    /** The bench upstream's main class; it prints {@code ready PORT} once bound. */
    public static final String ECHO_MAIN_CLASS = "dev.wharf.bench.upstream.BenchUpstreamServer";

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration PGBENCH_INIT_TIMEOUT = Duration.ofMinutes(10);
    private static final int PORT_ATTEMPTS = 3;
    private static final String PG_USER = "postgres";

    /**
     * @param upstreams    which servers to start (the CI smoke test of the targets leaves out PostgreSQL)
     * @param pgbenchScale {@code pgbench -i -s}: 10 is 1M rows in pgbench_accounts (~1 s to load)
     * @param echoJvmArgs  JVM options of the bench upstream server's JVM
     * @param classpath    where the bench upstream server's class is: the running bench's own
     *                     classpath (the shaded jar, or the test classpath)
     */
    public record Options(Set<Upstream> upstreams, int pgbenchScale, List<String> echoJvmArgs, String classpath) {
        /** The child JVM runs in the work dir, so a relative entry would point nowhere there. */
        private static String absolute(String classpath) {
            return java.util.Arrays.stream(classpath.split(java.io.File.pathSeparator))
                    .map(entry -> java.nio.file.Path.of(entry).toAbsolutePath().toString())
                    .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        }

        public Options {
            upstreams = enumSet(upstreams);
            echoJvmArgs = List.copyOf(echoJvmArgs);
            if (pgbenchScale < 1) {
                throw new IllegalArgumentException("pgbenchScale must be >= 1: " + pgbenchScale);
            }
        }

        /** All three servers, {@code pgbench -i -s 10}, a 512 MB heap for the bench upstream. */
        public static Options defaults() {
            return new Options(EnumSet.allOf(Upstream.class), 10, List.of("-Xms256m", "-Xmx512m"),
                    absolute(System.getProperty("java.class.path")));
        }

        public Options withUpstreams(Set<Upstream> which) {
            return new Options(which, pgbenchScale, echoJvmArgs, classpath);
        }

        public Options withPgbenchScale(int scale) {
            return new Options(upstreams, scale, echoJvmArgs, classpath);
        }

        public Options withEchoJvmArgs(List<String> args) {
            return new Options(upstreams, pgbenchScale, args, classpath);
        }

        public Options withClasspath(String cp) {
            return new Options(upstreams, pgbenchScale, echoJvmArgs, cp);
        }
    }

    private final Map<Upstream, Integer> ports = new EnumMap<>(Upstream.class);
    private final Map<Upstream, ManagedProcess> processes = new EnumMap<>(Upstream.class);
    private Path postgresDir;

    private Upstreams() {
    }

    /** Starts all three upstreams in {@code workDir} with {@link Options#defaults()}. */
    public static Upstreams start(Path workDir) {
        return start(workDir, Options.defaults());
    }

    /** Starts the chosen upstreams in {@code workDir}; on any failure, stops those already started. */
    public static Upstreams start(Path workDir, Options options) {
        Upstreams u = new Upstreams();
        try {
            Files.createDirectories(workDir);
            if (options.upstreams().contains(Upstream.ECHO)) {
                u.startEcho(workDir, options);
            }
            if (options.upstreams().contains(Upstream.REDIS)) {
                u.startRedis(workDir);
            }
            if (options.upstreams().contains(Upstream.POSTGRES)) {
                u.startPostgres(workDir, options.pgbenchScale());
            }
            return u;
        } catch (RuntimeException e) {
            u.close();
            throw e;
        } catch (Exception e) {
            u.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("upstreams failed to start: " + e, e);
        }
    }

    /** The port of {@code upstream} on 127.0.0.1. */
    public int port(Upstream upstream) {
        Integer port = ports.get(upstream);
        if (port == null) {
            throw new IllegalArgumentException(upstream + " was not started");
        }
        return port;
    }

    /** The upstreams that run, in the order of {@link Upstream}. */
    public Set<Upstream> started() {
        return enumSet(ports.keySet());
    }

    /** The process of {@code upstream} (e.g. to read its CPU with ProcStats, or its log). */
    public ManagedProcess process(Upstream upstream) {
        ManagedProcess p = processes.get(upstream);
        if (p == null) {
            throw new IllegalArgumentException(upstream + " was not started");
        }
        return p;
    }

    /** Stops every upstream; PostgreSQL's data directory (hundreds of MB) is deleted, the logs stay. */
    @Override
    public void close() {
        ProxyTarget.closeAll(new ArrayList<>(processes.values()));
        processes.clear();
        ports.clear();
        if (postgresDir != null) {
            Directories.deleteTree(postgresDir);
            postgresDir = null;
        }
    }

    // ---- the servers

    private void startEcho(Path workDir, Options options) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        started(Upstream.ECHO, ManagedProcess.retryOnPortClash(PORT_ATTEMPTS, () -> {
            int port = ManagedProcess.freePort();
            List<String> cmd = new ArrayList<>(List.of(java.toString()));
            cmd.addAll(options.echoJvmArgs());
            cmd.addAll(List.of("-cp", options.classpath(), ECHO_MAIN_CLASS, Integer.toString(port)));
            return new Started(port, ManagedProcess.start("upstream-echo", cmd, workDir).awaitPort(port, STARTUP_TIMEOUT));
        }));
    }

    private void startRedis(Path workDir) throws Exception {
        Path redis = ManagedProcess.findBinary("redis-server", "redis-server");
        Path dir = Files.createDirectories(workDir.resolve("redis"));
        started(Upstream.REDIS, ManagedProcess.retryOnPortClash(PORT_ATTEMPTS, () -> {
            int port = ManagedProcess.freePort();
            List<String> cmd = List.of(redis.toString(),
                    "--port", Integer.toString(port),
                    "--bind", ManagedProcess.HOST,
                    // A benchmark store: no snapshots, no append-only file, nothing written to disk.
                    "--save", "",
                    "--appendonly", "no",
                    // Without it Redis refuses clients that come from another loopback address.
                    "--protected-mode", "no",
                    "--daemonize", "no",
                    "--dir", dir.toString());
            return new Started(port, ManagedProcess.start("upstream-redis", cmd, workDir).awaitPort(port, STARTUP_TIMEOUT));
        }));
    }

    private void startPostgres(Path workDir, int scale) throws Exception {
        Path initdb = PostgresBinaries.find("initdb", "postgresql-15");
        Path postgres = PostgresBinaries.find("postgres", "postgresql-15");
        Path isReady = PostgresBinaries.find("pg_isready", "postgresql-client-15");
        Path pgbench = PostgresBinaries.find("pgbench", "postgresql-client-15");
        Path log = workDir.resolve("upstream-postgres-init.log");
        // The server refuses to run as root, so as root it runs as the postgres user, which must
        // own its data directory and reach it: a fresh directory under the system temp dir (which
        // everyone may traverse), not under the work dir, whose parents may be private to root.
        postgresDir = Files.createTempDirectory("wharf-bench-postgres-");
        Path data = postgresDir.resolve("data");
        if (runningAsRoot()) {
            UserPrincipal owner = postgresDir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(PG_USER);
            Files.setOwner(postgresDir, owner);
        }
        ManagedProcess.run(asPostgresUser(initdb.toString(), "-D", data.toString(), "-U", PG_USER, "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"), Duration.ofMinutes(2), Map.of(), log);
        Started pg = ManagedProcess.retryOnPortClash(PORT_ATTEMPTS, () -> {
            int port = ManagedProcess.freePort();
            List<String> cmd = asPostgresUser(postgres.toString(), "-D", data.toString(),
                    "-p", Integer.toString(port),
                    "-c", "listen_addresses=" + ManagedProcess.HOST,
                    // The default socket directory (/var/run/postgresql) may be missing or another server's.
                    "-c", "unix_socket_directories=" + postgresDir,
                    // A throwaway database: durability costs time and measures nothing here.
                    "-c", "fsync=off",
                    // pgbench uses 8 clients; a few more for tools, far below the fd limit.
                    "-c", "max_connections=200");
            ManagedProcess p = ManagedProcess.start("upstream-postgres", cmd, workDir)
                    // SIGINT is the fast shutdown: sessions end, shared memory is released (a
                    // SIGKILLed postmaster leaves its SysV segment behind).
                    .stopWith("INT", Duration.ofSeconds(10))
                    .awaitPort(port, STARTUP_TIMEOUT)
                    // The port opens before recovery ends; pg_isready tells when sessions are accepted.
                    .await("pg_isready", STARTUP_TIMEOUT, () -> {
                        ManagedProcess.run(List.of(isReady.toString(), "-q", "-h", ManagedProcess.HOST,
                                "-p", Integer.toString(port), "-t", "2"), Duration.ofSeconds(5));
                        return true;
                    });
            return new Started(port, p);
        });
        started(Upstream.POSTGRES, pg);
        // Also when the JVM exits without close(): the loaded database is hundreds of MB.
        Path dir = postgresDir;
        pg.process().afterExit(() -> Directories.deleteTree(dir));
        ManagedProcess.run(List.of(pgbench.toString(), "-i", "-s", Integer.toString(scale), "-q",
                        "-h", ManagedProcess.HOST, "-p", Integer.toString(pg.port()), "-U", PG_USER, "postgres"),
                PGBENCH_INIT_TIMEOUT, Map.of(), log);
    }

    private record Started(int port, ManagedProcess process) {
    }

    private void started(Upstream upstream, Started s) {
        ports.put(upstream, s.port());
        processes.put(upstream, s.process());
    }

    /** As root, drops to the postgres user with setpriv, which execs: the child is the server itself. */
    private static List<String> asPostgresUser(String... command) {
        List<String> cmd = new ArrayList<>();
        if (runningAsRoot()) {
            Path setpriv = ManagedProcess.findBinary("setpriv", "util-linux");
            cmd.addAll(List.of(setpriv.toString(), "--reuid=" + PG_USER, "--regid=" + PG_USER, "--init-groups", "--"));
        }
        cmd.addAll(List.of(command));
        return cmd;
    }

    private static Set<Upstream> enumSet(Collection<Upstream> upstreams) {
        EnumSet<Upstream> set = EnumSet.noneOf(Upstream.class);
        set.addAll(upstreams);
        return Collections.unmodifiableSet(set);
    }

    private static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
