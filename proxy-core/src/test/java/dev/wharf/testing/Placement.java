package dev.wharf.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where a child process runs: the network namespace it is started in (by a command prefix such as
 * {@code ip netns exec NS}; none for the test JVM's own) and the address its servers bind and announce.
 *
 * <p>{@link #LOOPBACK} is 127.0.0.1 in the test JVM's namespace; a {@link NetworkTopology} hands out
 * placements in its namespaces, whose addresses the test JVM may not be able to reach.
 */
public record Placement(String host, List<String> commandPrefix) {

    /** 127.0.0.1, in the test JVM's own network namespace. */
    public static final Placement LOOPBACK = new Placement(ChildProcess.HOST, List.of());

    public Placement {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: \"" + host + "\" (expected: an address)");
        }
        commandPrefix = List.copyOf(commandPrefix);
    }

    /** True if processes run in the test JVM's own network namespace, so that it can bind and probe ports itself. */
    public boolean inTestNamespace() {
        return commandPrefix.isEmpty();
    }

    /** {@code command} run here: the prefix, then the command. */
    public List<String> command(List<String> command) {
        List<String> full = new ArrayList<>(commandPrefix);
        full.addAll(command);
        return full;
    }

    /**
     * Runs a short command here to completion and returns its output (stdout and stderr together);
     * throws with the output if it exits non-zero or outlives {@code timeout}.
     */
    public String run(List<String> command, Duration timeout) {
        Completed done = attempt(command, timeout);
        if (done.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", command(command)) + " exited with " + done.exitCode()
                    + ":\n" + done.output());
        }
        return done.output();
    }

    /** As {@link #run}, but a non-zero exit is returned rather than thrown; a timeout still throws. */
    public Completed attempt(List<String> command, Duration timeout) {
        List<String> full = command(command);
        Path output = null;
        try {
            // A file, not a pipe: reading a pipe to EOF would block past the timeout if the command hangs.
            output = Files.createTempFile("wharf-cmd-", ".out");
            Process p = new ProcessBuilder(full)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new IllegalStateException(String.join(" ", full) + " did not finish within " + timeout + ":\n"
                        + new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
            }
            return new Completed(p.exitValue(), new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", full) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", full), e);
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException ignored) {
                    // a leftover temp file must not hide the command's own result
                }
            }
        }
    }

    /**
     * Whether a TCP connect from here to {@code host:port} succeeds within {@code timeout} (bash's
     * {@code /dev/tcp}, so that it also works in a namespace the test JVM cannot reach).
     */
    public boolean connects(String host, int port, Duration timeout) {
        long seconds = Math.max(1, timeout.toSeconds());
        return attempt(List.of("timeout", Long.toString(seconds), "bash", "-c",
                "exec 3<>/dev/tcp/" + host + "/" + port), timeout.plusSeconds(5)).exitCode() == 0;
    }

    @Override
    public String toString() {
        return inTestNamespace() ? host : host + " via " + String.join(" ", commandPrefix);
    }

    /** A finished command: its exit code and its output, stdout and stderr together. */
    public record Completed(int exitCode, String output) {}
}
