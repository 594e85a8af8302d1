package dev.wharf.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL server (trust auth, user {@code postgres}, database {@code postgres}) on
 * 127.0.0.1 for integration tests:
 *
 * <pre>{@code @RegisterExtension static final PostgresServer PG = new PostgresServer();}</pre>
 *
 * <p>The postmaster runs in the foreground as a child of the test JVM, not daemonized by
 * {@code pg_ctl start}, so that the JVM can kill its whole process tree (and its shutdown hook can
 * reach it). PostgreSQL refuses to run as root; as root, every server command runs as the OS user
 * {@code postgres}, which owns the temporary directory.
 */
public final class PostgresServer extends ChildProcess {

    private static final String OS_USER = "postgres";
    private static final String DEBIAN_PACKAGE = "postgresql-15";

    private Path bin;

    public PostgresServer() {
        super("postgres");
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/postgres?user=postgres}: straight to the server. */
    public String jdbcUrl() {
        return jdbcUrl(HOST, port());
    }

    /** The same database and user reached through {@code host:port}, e.g. a proxy in front of this server. */
    public String jdbcUrl(String host, int port) {
        return "jdbc:postgresql://" + host + ":" + port + "/postgres?user=" + OS_USER;
    }

    /** A new JDBC connection straight to the server; the caller closes it. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    @Override
    protected void prepare(Path dir) throws Exception {
        // Looked up here rather than in the constructor so that a missing install fails the test class
        // with this message, not with an ExceptionInInitializerError around it.
        bin = findBinary("initdb", DEBIAN_PACKAGE, debianBinDirs()).getParent();
        if (runningAsRoot()) {
            UserPrincipal owner = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(OS_USER);
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.setOwner(f, owner);
                }
            }
        }
        run(asServerUser(bin.resolve("initdb").toString(), "-D", dataDir(dir).toString(), "-U", OS_USER,
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"), Duration.ofSeconds(60));
    }

    @Override
    protected List<String> command(Path dir, int port) {
        return asServerUser(bin.resolve("postgres").toString(), "-D", dataDir(dir).toString(),
                "-p", Integer.toString(port),
                "-c", "listen_addresses=" + HOST,
                // The default socket directory (/var/run/postgresql) may be missing or shared with another server.
                "-c", "unix_socket_directories=" + dir,
                // Durability is irrelevant for a throwaway server; this makes DDL and commits cheap.
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off");
    }

    @Override
    protected void probe() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", OS_USER);
        props.setProperty("connectTimeout", "2");
        try (Connection c = DriverManager.getConnection(jdbcUrl(), props); Statement s = c.createStatement()) {
            s.execute("select 1");
        }
    }

    /** Fast shutdown: the server ends client sessions (as an operator's restart would) and exits. */
    @Override
    protected void requestStop(Process process) throws IOException, InterruptedException {
        run(asServerUser(bin.resolve("pg_ctl").toString(), "-D", dataDir(dir()).toString(), "-m", "fast", "-w",
                "stop"), Duration.ofSeconds(30));
    }

    private static Path dataDir(Path dir) {
        return dir.resolve("data");
    }

    /** As root, drop to the postgres user with setpriv, which execs: the child process is the server itself. */
    private static List<String> asServerUser(String... command) {
        List<String> cmd = new ArrayList<>();
        if (runningAsRoot()) {
            cmd.addAll(List.of("setpriv", "--reuid=" + OS_USER, "--regid=" + OS_USER, "--init-groups", "--"));
        }
        cmd.addAll(List.of(command));
        return cmd;
    }

    /** Debian's /usr/lib/postgresql/VERSION/bin directories, newest version first. */
    private static List<Path> debianBinDirs() {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions
                    .filter(v -> v.getFileName().toString().matches("\\d+"))
                    .sorted(Comparator.comparingInt((Path v) -> Integer.parseInt(v.getFileName().toString())).reversed())
                    .map(v -> v.resolve("bin"))
                    .toList();
        } catch (IOException noneInstalled) {
            return List.of();
        }
    }
}
