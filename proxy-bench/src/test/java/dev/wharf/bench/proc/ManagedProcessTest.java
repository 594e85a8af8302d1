package dev.wharf.bench.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagedProcessTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path work;

    @Test
    void aMissingBinaryNamesItsDebianPackage() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ManagedProcess.findBinary("no-such-tool-xyz", "xyz-tools"));
        assertTrue(e.getMessage().startsWith("no-such-tool-xyz not found: install the Debian package xyz-tools"), e.getMessage());
        assertTrue(ManagedProcess.findBinary("haproxy", "haproxy").toString().endsWith("/haproxy"), "found in /usr/sbin");
    }

    @Test
    void startsAServerWaitsForItsPortAndKillsIt() throws Exception {
        int port = ManagedProcess.freePort();
        ManagedProcess echo = ManagedProcess.start("echo", List.of("socat",
                "TCP-LISTEN:" + port + ",bind=127.0.0.1,fork,reuseaddr", "EXEC:cat"), work);
        try (echo) {
            echo.awaitPort(port, TIMEOUT);
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals("hello\n", new String(s.getInputStream().readNBytes(6), StandardCharsets.US_ASCII));
                assertTrue(echo.processTree().size() >= 2, "socat forked a child (and cat): " + echo.processTree());
            }
            assertTrue(Files.readString(echo.log()).startsWith("# socat TCP-LISTEN:"), "the log starts with the command");
        }
        assertFalse(echo.isAlive());
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
    }

    @Test
    void aServerThatExitsFailsWithTheTailOfItsLog() {
        ManagedProcess p = ManagedProcess.start("fails", List.of("sh", "-c", "echo 'cannot bind: boom' >&2; exit 3"), work);
        ManagedProcess.StartupException e = assertThrows(ManagedProcess.StartupException.class,
                () -> p.awaitPort(ManagedProcess.freePort(), TIMEOUT));
        assertTrue(e.getMessage().contains("fails exited with status 3"), e.getMessage());
        assertTrue(e.getMessage().contains("cannot bind: boom"), e.getMessage());
    }

    @Test
    void aServerThatDoesNotListenInTimeIsKilled() {
        ManagedProcess p = ManagedProcess.start("sleeper", List.of("sleep", "60"), work);
        ManagedProcess.StartupException e = assertThrows(ManagedProcess.StartupException.class,
                () -> p.awaitPort(ManagedProcess.freePort(), Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("sleeper did not get ready within PT0.3S"), e.getMessage());
        assertFalse(p.isAlive(), "killed on failure");
    }

    @Test
    void aPortSomeoneElseListensOnIsNotReadiness() throws Exception {
        try (ServerSocket other = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            ManagedProcess p = ManagedProcess.start("sleeper", List.of("sleep", "60"), work);
            assertThrows(ManagedProcess.StartupException.class, () -> p.awaitPort(other.getLocalPort(), Duration.ofMillis(300)));
        }
    }

    @Test
    void closeKillsTheWholeTreeEvenIfItIgnoresTheStopSignal() throws Exception {
        ManagedProcess p = ManagedProcess.start("stubborn", List.of("sh", "-c", "trap '' TERM; sleep 300 & sleep 300 & wait"), work)
                .stopWith("TERM", Duration.ofMillis(200));
        p.await("two children", TIMEOUT, () -> p.processTree().size() == 3);
        Set<Long> tree = p.processTree();

        p.close();

        tree.forEach(pid -> assertFalse(ProcStats.isRunning(pid), pid + " still runs"));
        p.close(); // again: nothing happens
    }

    @Test
    void runsTheCleanupOnceAfterTheProcessIsGone() {
        AtomicInteger cleanups = new AtomicInteger();
        ManagedProcess p = ManagedProcess.start("sleeper", List.of("sleep", "60"), work);
        p.afterExit(() -> {
            assertFalse(ProcStats.isRunning(p.pid()), "gone before the cleanup");
            cleanups.incrementAndGet();
        });
        p.close();
        p.close();
        assertEquals(1, cleanups.get());
    }

    @Test
    void stopsWithTheChosenSignal() throws Exception {
        ManagedProcess p = ManagedProcess.start("int",
                        List.of("sh", "-c", "trap 'echo got INT; exit 0' INT; while :; do sleep 0.05; done"), work)
                .stopWith("INT", TIMEOUT);
        Thread.sleep(300); // let the shell install its trap
        p.close();
        assertTrue(Files.readString(p.log()).contains("got INT"), p.logTail(5));
    }

    @Test
    void runReturnsTheOutputOrFailsWithIt() throws Exception {
        assertEquals("out\nerr\n", ManagedProcess.run(List.of("sh", "-c", "echo out; echo err >&2"), TIMEOUT));
        IOException e = assertThrows(IOException.class,
                () -> ManagedProcess.run(List.of("sh", "-c", "echo why; exit 2"), TIMEOUT));
        assertTrue(e.getMessage().contains("exited with status 2") && e.getMessage().contains("why"), e.getMessage());
        IOException slow = assertThrows(IOException.class,
                () -> ManagedProcess.run(List.of("sleep", "10"), Duration.ofMillis(200)));
        assertTrue(slow.getMessage().contains("did not finish within"), slow.getMessage());
    }

    @Test
    void retriesWhenAPortWasTakenMeanwhile() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        String result = ManagedProcess.retryOnPortClash(3, () -> {
            if (attempts.incrementAndGet() == 1) {
                throw new ManagedProcess.StartupException("x exited\nbind: Address already in use", null);
            }
            return "ok";
        });
        assertEquals("ok", result);
        assertEquals(2, attempts.get());
        assertThrows(ManagedProcess.StartupException.class, () -> ManagedProcess.retryOnPortClash(3, () -> {
            throw new ManagedProcess.StartupException("other failure", null);
        }));
    }

    @Test
    void readsTheHardOpenFilesLimit() throws Exception {
        String shell = ManagedProcess.run(List.of("sh", "-c", "ulimit -Hn"), TIMEOUT).trim();
        assertEquals(shell, Long.toString(ManagedProcess.hardOpenFilesLimit()));
    }
}
