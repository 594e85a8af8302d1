package dev.wharf.bench.proc;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * A server run as a child process for the benchmark (a proxy, an upstream), the one way every
 * process of the harness is launched.
 *
 * <p>Its stdout and stderr go to {@code <workDir>/<name>.log}, which stays after it ends so a run
 * can be diagnosed. Readiness is awaited explicitly ({@link #awaitPort}, {@link #await}); a
 * process that exits or does not get ready in time fails with a {@link StartupException} that
 * carries the tail of its log. {@link #close()} asks it to stop, then kills its whole process tree
 * (nginx workers, socat's forked children, PostgreSQL's backends); a JVM shutdown hook does the
 * same for processes still running when the JVM exits, so an interrupted run leaves no server
 * holding ports.
 */
public final class ManagedProcess implements AutoCloseable {
    /** Every listener of the bench is on this address. */
    public static final String HOST = "127.0.0.1";

    private static final Duration DEFAULT_GRACE = Duration.ofSeconds(5);
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    private static final int LOG_TAIL_LINES = 40;
    /** How long the shutdown hook lets every process stop by itself before killing what is left. */
    private static final Duration HOOK_GRACE = Duration.ofSeconds(3);
    private static final Set<ManagedProcess> RUNNING = ConcurrentHashMap.newKeySet();
    private static final Set<Process> RUNNING_COMMANDS = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ManagedProcess::stopAllAtExit, "bench-process-cleanup"));
    }

    private final String name;
    private final Process process;
    private final Path log;
    private final AtomicBoolean cleanedUp = new AtomicBoolean();
    private volatile String stopSignal = "TERM";
    private volatile Duration grace = DEFAULT_GRACE;
    private volatile Runnable afterExit = () -> { };
    private boolean closed;

    private ManagedProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code command} in {@code workDir} with this JVM's environment. */
    public static ManagedProcess start(String name, List<String> command, Path workDir) {
        return start(name, command, workDir, Map.of());
    }

    /**
     * Starts {@code command} in {@code workDir} (created if missing), with {@code env} added to this
     * JVM's environment; output is appended to {@code <workDir>/<name>.log}. Does not wait for
     * readiness.
     */
    public static ManagedProcess start(String name, List<String> command, Path workDir, Map<String, String> env) {
        try {
            Files.createDirectories(workDir);
            Path log = workDir.resolve(name + ".log");
            Files.writeString(log, "# " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            builder.environment().putAll(env);
            ManagedProcess p = new ManagedProcess(name, builder.start(), log);
            RUNNING.add(p);
            return p;
        } catch (IOException e) {
            throw new StartupException(name + " could not be started (" + String.join(" ", command) + "): " + e, e);
        }
    }

    // ---- readiness

    /** A readiness probe: true once ready; false or an exception while not yet. */
    @FunctionalInterface
    public interface Check {
        boolean ready() throws Exception;
    }

    /**
     * Waits until {@code check} passes. Fails at once if the process exits, or at the deadline; the
     * process is closed (killed) on failure, and the exception carries the tail of its log.
     */
    public ManagedProcess await(String what, Duration timeout, Check check) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        try {
            while (true) {
                if (!process.isAlive()) {
                    throw new StartupException(name + " exited with status " + process.exitValue()
                            + " while waiting for " + what + describeLog(), last);
                }
                try {
                    if (check.ready()) {
                        return this;
                    }
                } catch (Exception notYet) {
                    last = notYet;
                }
                if (System.nanoTime() > deadline) {
                    throw new StartupException(name + " did not get ready within " + timeout + ": waited for "
                            + what + (last == null ? "" : " (last: " + last + ")") + describeLog(), last);
                }
                Thread.sleep(25);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new StartupException(name + ": interrupted while waiting for " + what, e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Waits until {@code port} on 127.0.0.1 accepts TCP connections, on a socket that this process
     * (or one of its descendants) listens on: a port someone else took after {@link #freePort()}
     * must not pass for ours.
     */
    public ManagedProcess awaitPort(int port, Duration timeout) {
        return await("port " + port + " to accept connections", timeout, () -> {
            if (!ListeningSockets.ownedBy(port, processTree())) {
                return false;
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOST, port), 1000);
                return true;
            }
        });
    }

    public ManagedProcess awaitPorts(Collection<Integer> ports, Duration timeout) {
        ports.forEach(port -> awaitPort(port, timeout));
        return this;
    }

    /**
     * How {@link #close()} stops the process before killing what is left: {@code signal} (a name
     * kill(1) knows, e.g. "INT" for PostgreSQL's fast shutdown; default "TERM"), then up to
     * {@code grace} for it to exit.
     */
    public ManagedProcess stopWith(String signal, Duration grace) {
        this.stopSignal = signal;
        this.grace = grace;
        return this;
    }

    /**
     * Something to do once the process is gone, whether closed or stopped at JVM exit (e.g.
     * delete PostgreSQL's data directory).
     */
    public ManagedProcess afterExit(Runnable cleanup) {
        this.afterExit = cleanup;
        return this;
    }

    // ---- state

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The file holding the process's stdout and stderr. */
    public Path log() {
        return log;
    }

    /** This process and all its live descendants (pids), from /proc. */
    public Set<Long> processTree() {
        return new HashSet<>(ProcStats.tree(process.pid()));
    }

    /** The last {@code lines} lines of the log. */
    public String logTail(int lines) {
        return tail(log, lines);
    }

    // ---- stop

    /**
     * Sends the stop signal, waits up to the grace period, then SIGKILLs whatever is left of the
     * process tree and waits for it to be gone, so the ports are free when this returns. Safe to
     * call more than once.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Collected before the stop: once the root has exited its children are re-parented and
        // can no longer be found from it.
        List<ProcessHandle> descendants = process.descendants().toList();
        try {
            signalStop();
            process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            killAndCleanUp(descendants);
        }
    }

    /**
     * At JVM exit: every process gets its stop signal at once (PostgreSQL then releases its
     * shared memory), a short grace in total, then the kill. Deliberately without the instances'
     * locks: a thread stuck in close() must not hang the JVM's exit.
     */
    private static void stopAllAtExit() {
        RUNNING_COMMANDS.forEach(p -> killTree(p.toHandle(), p.descendants().toList()));
        Map<ManagedProcess, List<ProcessHandle>> trees = new HashMap<>();
        RUNNING.forEach(p -> trees.put(p, p.process.descendants().toList()));
        trees.keySet().forEach(ManagedProcess::signalStop);
        long deadline = System.nanoTime() + HOOK_GRACE.toNanos();
        while (trees.keySet().stream().anyMatch(p -> p.process.isAlive()) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                break;
            }
        }
        trees.forEach(ManagedProcess::killAndCleanUp);
    }

    /** Sends the stop signal; a failure to send it is left to the kill that follows. */
    private void signalStop() {
        if (!process.isAlive()) {
            return;
        }
        if (stopSignal.equals("TERM")) {
            process.destroy();
            return;
        }
        try {
            new ProcessBuilder("kill", "-s", stopSignal, Long.toString(process.pid()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start()
                    .waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            // The kill below does the job.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void killAndCleanUp(List<ProcessHandle> descendants) {
        try {
            killTree(process.toHandle(), descendants);
        } finally {
            RUNNING.remove(this);
            if (cleanedUp.compareAndSet(false, true)) {
                afterExit.run();
            }
        }
    }

    /** SIGKILLs the root first (so nginx cannot respawn workers), then every descendant, and waits. */
    private static void killTree(ProcessHandle root, List<ProcessHandle> descendants) {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(root);
        all.addAll(descendants);
        root.descendants().filter(h -> !all.contains(h)).forEach(all::add);
        all.forEach(ProcessHandle::destroyForcibly);
        // Polled rather than onExit(): the JDK watches non-child processes with a back-off of up
        // to seconds, and counts a zombie as alive; a killed grandchild stays a zombie until init
        // reaps it (1.6 s here), though it holds no port or memory any more. A process we cannot
        // see end must not hide the caller's own result, so this gives up quietly at the deadline.
        long deadline = System.nanoTime() + KILL_WAIT.toNanos();
        while (all.stream().anyMatch(h -> ProcStats.isRunning(h.pid())) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public String toString() {
        return name + "[" + process.pid() + "]";
    }

    // ---- one-shot commands

    /**
     * Runs {@code command} to completion and returns its output (stdout and stderr merged). A
     * non-zero exit or a timeout is an {@link IOException} whose message holds the command and
     * the tail of its output. With {@code log} non-null the output is also appended there.
     */
    public static String run(List<String> command, Duration timeout, Map<String, String> env, Path log)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("bench-cmd-", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            builder.environment().putAll(env);
            Process p = builder.start();
            RUNNING_COMMANDS.add(p);
            boolean finished;
            try {
                finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } finally {
                if (p.isAlive()) {
                    killTree(p.toHandle(), p.descendants().toList());
                }
                RUNNING_COMMANDS.remove(p);
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            if (log != null) {
                Files.writeString(log, "# " + String.join(" ", command) + "\n" + output, StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            if (!finished) {
                throw new IOException(String.join(" ", command) + " did not finish within " + timeout
                        + lastLines(output, LOG_TAIL_LINES));
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " exited with status " + p.exitValue()
                        + lastLines(output, LOG_TAIL_LINES));
            }
            return output;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    public static String run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        return run(command, timeout, Map.of(), null);
    }

    // ---- helpers for launching

    /**
     * Finds an executable, first in {@code preferredDirs}, then on PATH. A missing one is an
     * {@link IllegalStateException} naming the Debian package that provides it: a benchmark that
     * quietly leaves out a peer would compare against nothing.
     */
    public static Path findBinary(String binary, String debianPackage, List<Path> preferredDirs) {
        Stream<Path> pathDirs = Stream.of(Optional.ofNullable(System.getenv("PATH")).orElse("").split(File.pathSeparator))
                .filter(s -> !s.isEmpty())
                .map(Path::of);
        // /usr/sbin is not on every PATH (haproxy and nginx live there on Debian).
        Stream<Path> sbin = Stream.of(Path.of("/usr/sbin"), Path.of("/sbin"));
        return Stream.of(preferredDirs.stream(), pathDirs, sbin).flatMap(s -> s)
                .map(d -> d.resolve(binary))
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(binary + " not found: install the Debian package "
                        + debianPackage + " (apt-get install -y " + debianPackage + ")"));
    }

    public static Path findBinary(String binary, String debianPackage) {
        return findBinary(binary, debianPackage, List.of());
    }

    /** A port on 127.0.0.1 that is free right now (bound to port 0, then released). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + HOST, e);
        }
    }

    /** What a launch attempt does; may throw. */
    @FunctionalInterface
    public interface Attempt<T> {
        T run() throws Exception;
    }

    /**
     * Runs {@code attempt} again (up to {@code attempts} times) when it failed because a port
     * picked by {@link #freePort()} was taken before the server bound it ("Address already in use"
     * in its log): each attempt is expected to pick fresh ports.
     */
    public static <T> T retryOnPortClash(int attempts, Attempt<T> attempt) throws Exception {
        for (int i = 1; ; i++) {
            try {
                return attempt.run();
            } catch (StartupException e) {
                if (i >= attempts || e.getMessage() == null || !e.getMessage().contains("Address already in use")) {
                    throw e;
                }
            }
        }
    }

    /**
     * The hard limit on open files of this process (children inherit it), from /proc/self/limits;
     * peers' connection limits are sized from it.
     */
    public static long hardOpenFilesLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return f[1].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        throw new IllegalStateException("cannot read the open files limit from /proc/self/limits");
    }

    private String describeLog() {
        String tail = logTail(LOG_TAIL_LINES);
        return tail.isEmpty() ? " (no output)" : "\n--- last lines of " + log + " ---\n" + tail;
    }

    static String tail(Path file, int lines) {
        try {
            return lastLinesOnly(Files.readString(file, StandardCharsets.UTF_8), lines);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    private static String lastLines(String output, int lines) {
        String tail = lastLinesOnly(output, lines);
        return tail.isEmpty() ? " (no output)" : "\n--- output ---\n" + tail;
    }

    private static String lastLinesOnly(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** A server did not come up; the message carries the tail of its log. */
    public static final class StartupException extends IllegalStateException {
        public StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
