package dev.wharf.app;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code java -jar target/wharf.jar} as a child process, the way a user runs it: its stdout and
 * stderr go to files, the admin server is reached over HTTP on 127.0.0.1, SIGTERM is
 * {@link Process#destroy()}. {@link #close()} kills it (SIGKILL) whatever state the test left it in.
 */
final class WharfProcess implements AutoCloseable {
    static final Path JAR = Path.of(System.getProperty("basedir", "."), "target", "wharf.jar");
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Duration STARTUP = Duration.ofSeconds(15);
    private static final int TAIL_LINES = 60;

    private final Process process;
    private final int adminPort;
    private final Path dir;
    private final Path stdout;
    private final Path stderr;
    private final Thread killOnExit;

    private WharfProcess(Process process, int adminPort, Path dir) {
        this.process = process;
        this.adminPort = adminPort;
        this.dir = dir;
        this.stdout = dir.resolve("stdout.log");
        this.stderr = dir.resolve("stderr.log");
        // Should the test JVM die without reaching close(), the child must not keep holding ports.
        this.killOnExit = new Thread(process::destroyForcibly, "wharf-process-kill");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /**
     * Starts the jar with {@code args}, with {@code env} added to this JVM's environment (minus any
     * WHARF_LOG_FORMAT of its own). {@code adminPort} is where {@link #adminGet} looks for the admin server.
     */
    static WharfProcess start(int adminPort, Map<String, String> env, String... args) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run `./mvnw verify -pl proxy-k8s`,"
                    + " whose package phase builds it before the *IT classes run");
        }
        Path dir = Files.createTempDirectory("wharf-jar-");
        List<String> command = new ArrayList<>(List.of(JAVA.toString(), "-jar", JAR.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .redirectError(dir.resolve("stderr.log").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().remove("WHARF_LOG_FORMAT");
        builder.environment().putAll(env);
        return new WharfProcess(builder.start(), adminPort, dir);
    }

    static WharfProcess start(int adminPort, String... args) throws IOException {
        return start(adminPort, Map.of(), args);
    }

    // ---- output

    String stdout() {
        return read(stdout);
    }

    String stderr() {
        return read(stderr);
    }

    List<String> stdoutLines() {
        return stdout().lines().toList();
    }

    /** Waits for a stdout line that contains a match of {@code pattern}, and returns it. */
    String awaitLine(Pattern pattern, Duration timeout) {
        String[] found = new String[1];
        await("a stdout line matching /" + pattern + "/", timeout, () -> {
            Optional<String> line = stdoutLines().stream().filter(l -> pattern.matcher(l).find()).findFirst();
            line.ifPresent(l -> found[0] = l);
            return line.isPresent();
        });
        return found[0];
    }

    /** The last lines of stdout and stderr, for assertion messages. */
    String describe() {
        return "\n--- wharf stdout (last " + TAIL_LINES + " lines) ---\n" + tail(stdout())
                + "\n--- wharf stderr (last " + TAIL_LINES + " lines) ---\n" + tail(stderr());
    }

    // ---- admin server

    /** GET {@code path} from the admin server; throws if it cannot be reached. */
    HttpResponse<String> adminGet(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + path + " on admin port " + adminPort + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The HTTP status of GET {@code path}, or -1 if the admin server cannot be reached. */
    int adminStatus(String path) {
        try {
            return adminGet(path).statusCode();
        } catch (UncheckedIOException e) {
            return -1;
        }
    }

    /** Waits until {@code GET /readyz} answers 200; fails at once if the process exits. */
    WharfProcess awaitReady() {
        await("GET /readyz on port " + adminPort + " to answer 200", STARTUP, () -> adminStatus("/readyz") == 200);
        return this;
    }

    // ---- lifecycle

    boolean alive() {
        return process.isAlive();
    }

    /** Asks Wharf to stop the way Kubernetes does (Process.destroy() is SIGTERM on Linux). */
    void sigterm() {
        process.destroy();
    }

    /** Waits for the process to exit and returns its status; fails if it is still running after {@code timeout}. */
    int exitCode(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("wharf still running after " + timeout + describe());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return process.exitValue();
    }

    /**
     * Polls {@code condition} every 50 ms until it holds; fails after {@code timeout}, or as soon as the
     * process has exited while the condition does not hold.
     */
    void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean exited = !process.isAlive();
            if (condition.getAsBoolean()) {
                return;
            }
            if (exited) {
                throw new AssertionError("wharf exited with status " + process.exitValue() + " before " + what
                        + describe());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " within " + timeout + describe());
            }
            sleep(50);
        }
    }

    /** Kills the process (SIGKILL) if it still runs, and deletes its output files. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it does the same
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temp dir must not hide the test's own result
        }
    }

    // ---- helpers

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String read(Path file) {
        try {
            // Not Files.readString: a line being written may end in half a character.
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
    }
}
