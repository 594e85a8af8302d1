package dev.wharf.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real server run as a child process, for integration tests: on 127.0.0.1 by default, or at a
 * {@link Placement} such as a namespace of a {@link NetworkTopology}.
 *
 * <p>Use it as {@code @RegisterExtension static final X SERVER = new X();} (started before the class's
 * tests, closed after them, also when a test fails) or programmatically with {@link #start()} in a
 * try-with-resources block. Each instance owns a temporary directory holding the server's files and
 * its log ({@code server.log}); {@link #close()} kills the process tree and deletes the directory.
 */
public abstract class ChildProcess extends ClassScoped {

    public static final String HOST = "127.0.0.1";

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final int PORT_ATTEMPTS = 5;
    private static final int LOG_TAIL_LINES = 40;

    private final String name;
    private final Placement placement;
    private final int configuredPort;
    // Volatile: the shutdown hook reads them without the lock.
    private volatile Path dir;
    private volatile Path log;
    private int port;
    private long launchLogOffset;
    private volatile Process process;
    private Thread shutdownHook;

    /** On 127.0.0.1, on a free port picked at the first start. */
    protected ChildProcess(String name) {
        this(name, Placement.LOOPBACK, 0);
    }

    /**
     * At {@code placement}, on {@code port}; 0 picks a free one at the first start, which only a placement
     * in the test JVM's own network namespace can do (it binds the port to find out).
     */
    protected ChildProcess(String name, Placement placement, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
        if (port == 0 && !placement.inTestNamespace()) {
            throw new IllegalArgumentException(name + " port: 0 (expected: a fixed port in " + placement
                    + ", where the test JVM cannot look for a free one)");
        }
        this.name = name;
        this.placement = placement;
        this.configuredPort = port;
        this.port = port;
    }

    // ---- what a concrete server supplies ----

    /** Runs once per temporary directory, before the first launch (e.g. initdb). */
    protected void prepare(Path dir) throws Exception {}

    /** The command line that runs the server in the foreground on {@code port}. */
    protected abstract List<String> command(Path dir, int port);

    /** Returns normally once the server serves requests; throws while it does not yet. */
    protected abstract void probe() throws Exception;

    /** Asks the server to shut down cleanly; {@link #stop()} waits for the exit and kills it if it hangs. */
    protected void requestStop(Process process) throws Exception {
        process.destroy();
    }

    /** Called after the process has exited, to drop client state such as cached connections. */
    protected void stopped() {}

    /** Closes every process, also when some fail; throws the first failure, the others suppressed in it. */
    public static void closeAll(List<? extends ChildProcess> processes) {
        RuntimeException failure = null;
        for (ChildProcess process : processes) {
            try {
                process.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    // ---- lifecycle ----

    /**
     * Starts the server and waits until it serves requests. Does nothing if it is running. After
     * {@link #stop()} or {@link #kill()} it starts again on the same port, so clients (a proxy under
     * test) configured with that port reach it again.
     */
    @Override
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("wharf-" + name + "-");
                log = dir.resolve("server.log");
                Files.createFile(log);
                registerShutdownHook();
                prepare(dir);
            }
            // A fixed port (configured, or kept for a restart) is kept even if taken: moving would strand
            // the clients using it.
            boolean fixedPort = port != 0;
            for (int attempt = 1; ; attempt++) {
                if (!fixedPort) {
                    port = freePort();
                }
                launch();
                try {
                    awaitReady();
                    return;
                } catch (StartupException e) {
                    kill();
                    // Another process may grab the port between freePort() and the server's bind: retry.
                    if (fixedPort || !logSinceLaunch().toLowerCase(java.util.Locale.ROOT).contains("address already in use") || attempt == PORT_ATTEMPTS) {
                        throw e;
                    }
                }
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            StartupException failure = e instanceof StartupException se
                    ? se
                    : new StartupException(name + " failed to start: " + e + logTailForMessage(), e);
            close();
            throw failure;
        }
    }

    /** Shuts the server down cleanly and waits for it to exit; its files stay for a later {@link #start()}. */
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        try {
            if (p.isAlive()) {
                requestStop(p);
            }
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(name + " did not stop within " + STOP_TIMEOUT);
            }
        } catch (Exception e) {
            kill();
            throw new IllegalStateException(name + " did not stop cleanly; killed it" + logTailForMessage(), e);
        }
        kill(); // reaps leftover descendants, if any, and resets state
    }

    /** Kills the server's whole process tree at once (SIGKILL), like a crash or a lost host. */
    public synchronized void kill() {
        killTree(process);
        process = null;
        stopped();
    }

    /**
     * Kills the server and deletes its temporary directory. Safe to call more than once. No graceful
     * shutdown first: the files are deleted anyway, and SIGKILL of the whole tree is quickest and
     * leaves nothing behind, however the test left the server.
     */
    @Override
    public synchronized void close() {
        kill();
        deleteDir();
        port = configuredPort;
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or about to: it does the same cleanup.
            }
            shutdownHook = null;
        }
    }


    /**
     * Starts {@code servers} in parallel and waits for them all: for cluster members that become ready only
     * together (a quorum, a primary and its replicas). Throws the first failure, with the others suppressed.
     */
    public static void startAll(List<? extends ChildProcess> servers) {
        List<RuntimeException> failures = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (ChildProcess server : servers) {
            Thread t = new Thread(() -> {
                try {
                    server.start();
                } catch (RuntimeException e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            }, "wharf-start-" + server.name);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting " + servers.stream().map((ChildProcess s) -> s.name).toList(), e);
            }
        }
        synchronized (failures) {
            if (!failures.isEmpty()) {
                RuntimeException first = failures.get(0);
                failures.subList(1, failures.size()).forEach(first::addSuppressed);
                throw first;
            }
        }
    }

    // ---- state ----

    /** The address the server binds and announces. */
    public final String host() {
        return placement.host();
    }

    /** Where the server runs. */
    public final Placement placement() {
        return placement;
    }

    /** The port the server listens on; kept across {@link #stop()}/{@link #start()}. */
    public final synchronized int port() {
        if (port == 0) {
            throw new IllegalStateException(name + " has not been started");
        }
        return port;
    }

    public final boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** The temporary directory that holds the server's files; deleted by {@link #close()}. */
    public final synchronized Path dir() {
        if (dir == null) {
            throw new IllegalStateException(name + " has not been started");
        }
        return dir;
    }

    /** Everything the server (and the helper commands run for it) wrote so far; "" before the first start. */
    public final synchronized String log() {
        if (log == null || !Files.exists(log)) {
            return "";
        }
        try {
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + log, e);
        }
    }

    /** The last {@code lines} lines of the server's output, for a failing test's message. */
    public final synchronized String logTail(int lines) {
        if (log == null || !Files.exists(log)) {
            return "";
        }
        try {
            List<String> all = new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    // ---- helpers for subclasses ----

    /**
     * Runs a short helper command (e.g. initdb) to completion where the server runs, appending its output
     * to the server log.
     */
    protected final void run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(placement.command(command))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            killTree(p);
            throw new IOException(String.join(" ", command) + " did not finish within " + timeout);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + p.exitValue());
        }
    }

    /** What the server has written to its log since it was last launched (for a probe that waits for a line). */
    protected final synchronized String logSinceLaunch() throws IOException {
        return logSince(launchLogOffset);
    }

    /**
     * Finds an executable, first in {@code preferredDirs} (in order), then on PATH. A missing binary
     * fails loudly rather than skipping: a skipped integration suite looks green while testing nothing.
     */
    protected static Path findBinary(String binary, String debianPackage, List<Path> preferredDirs) {
        Stream<Path> pathDirs = Stream.of(Optional.ofNullable(System.getenv("PATH")).orElse("").split(File.pathSeparator))
                .filter(s -> !s.isEmpty())
                .map(Path::of);
        return Stream.concat(preferredDirs.stream(), pathDirs)
                .map(d -> d.resolve(binary))
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(binary + " not found"
                        + (preferredDirs.isEmpty() ? "" : " in " + preferredDirs + " or")
                        + " on PATH: install the Debian package " + debianPackage
                        + " (apt-get install -y " + debianPackage + ")"));
    }

    protected static boolean runningAsRoot() {
        return "root".equals(ProcessHandle.current().info().user().orElse(System.getProperty("user.name")));
    }

    // ---- internals ----

    private void launch() throws IOException {
        launchLogOffset = Files.size(log);
        process = new ProcessBuilder(placement.command(command(dir, port)))
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new StartupException(name + " exited with status " + process.exitValue()
                        + " while starting on port " + port + logTailForMessage(), last);
            }
            try {
                probe();
                return;
            } catch (Exception notYet) {
                last = notYet;
            }
            Thread.sleep(50);
        }
        throw new StartupException(name + " did not serve on port " + port + " within " + STARTUP_TIMEOUT
                + logTailForMessage(), last);
    }

    /** SIGKILLs a process and all its descendants, and waits until they are gone (the port is free). */
    private static void killTree(Process p) {
        if (p == null) {
            return;
        }
        // Collect descendants first: once the root dies they are re-parented and no longer found.
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().collect(Collectors.toList()));
        tree.add(p.toHandle());
        tree.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // Best effort: a zombie we cannot reap must not hide the test's own result.
            }
        }
    }

    private void registerShutdownHook() {
        // Runs if the test JVM exits without reaching afterAll (Ctrl-C, surefire timeout, System.exit):
        // no orphaned servers holding ports. Unsynchronized on purpose: a test thread may hold the lock.
        shutdownHook = new Thread(() -> {
            killTree(process);
            deleteDir();
        }, "wharf-" + name + "-cleanup");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    private void deleteDir() {
        Path d = dir;
        if (d == null) {
            return;
        }
        try (Stream<Path> walk = Files.walk(d)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("wharf: could not delete " + d + ": " + e);
        }
        dir = null;
        log = null;
    }

    private String logSince(long byteOffset) throws IOException {
        byte[] all = Files.readAllBytes(log);
        int from = (int) Math.min(byteOffset, all.length);
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }

    private String logTailForMessage() {
        String tail = logTail(LOG_TAIL_LINES);
        return tail.isEmpty() ? "" : "\n--- last " + LOG_TAIL_LINES + " lines of " + log + " ---\n" + tail;
    }

    private int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(placement.host()))) {
            return s.getLocalPort();
        }
    }

    /** The server did not come up; the message carries the tail of its log. */
    public static final class StartupException extends IllegalStateException {
        StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
