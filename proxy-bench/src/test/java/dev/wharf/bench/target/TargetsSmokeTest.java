package dev.wharf.bench.target;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.bench.proc.ManagedProcess;
import dev.wharf.bench.proc.ProcStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every proxy starts from its generated config, relays to the bench upstream and to Redis, reports
 * its CPU and memory, and leaves no process behind when closed. PostgreSQL is left out to keep it
 * quick (the real-client test covers it).
 */
class TargetsSmokeTest {
    private static final int ECHO_BYTES = 8 << 20;

    @TempDir
    static Path work;
    static Upstreams upstreams;

    @BeforeAll
    static void startUpstreams() {
        upstreams = Upstreams.start(work, Upstreams.Options.defaults().withUpstreams(EnumSet.of(Upstream.ECHO, Upstream.REDIS)));
    }

    @AfterAll
    static void stopUpstreams() {
        if (upstreams == null) {
            return;
        }
        Set<Long> pids = new HashSet<>();
        upstreams.started().forEach(u -> pids.addAll(upstreams.process(u).processTree()));
        upstreams.close();
        assertNoneRunning(pids);
    }

    @Test
    void directIsTheUpstreamsThemselves() throws Exception {
        Target direct = PortTarget.direct(upstreams);
        assertEquals(upstreams.port(Upstream.REDIS), direct.port(Upstream.REDIS));
        assertEquals("+PONG", ping(direct.port(Upstream.REDIS)));
        echo(direct.port(Upstream.ECHO), 1024);
        assertEquals(0, direct.cpuSeconds());
        assertEquals(0, direct.memoryBytes());
        assertEquals(-1, direct.directMemoryBytes());
        assertThrows(IllegalArgumentException.class, () -> direct.port(Upstream.POSTGRES), "not started");
    }

    @ParameterizedTest
    @ValueSource(strings = {"haproxy", "haproxy-splice", "nginx", "socat", "wharf"})
    void relaysReportsAndStopsCleanly(String name) throws Exception {
        if (name.equals(WharfTarget.NAME)) {
            assertTrue(Files.isRegularFile(WharfTarget.defaultJar()), WharfTarget.defaultJar().toAbsolutePath()
                    + " is missing: run `./mvnw -B package -DskipTests` in the project's top directory first");
        }
        Set<Long> pids = new HashSet<>();
        List<Integer> ports = new ArrayList<>();
        try (Target target = Targets.startAll(upstreams, work, (Path) null, List.of(name)).get(name)) {
            assertEquals(name, target.name());
            ports.add(target.port(Upstream.ECHO));
            ports.add(target.port(Upstream.REDIS));
            assertFalse(ports.contains(upstreams.port(Upstream.REDIS)), "a port of its own");

            assertEquals("+PONG", ping(target.port(Upstream.REDIS)));
            // Traffic until the CPU counters (10 ms ticks) move: nginx relays 8 MB in less than a tick,
            // and socat's per-connection children count only once their parent has reaped them.
            for (int i = 0; i < 40 && (i == 0 || target.cpuSeconds() == 0); i++) {
                echo(target.port(Upstream.ECHO), ECHO_BYTES);
                Thread.sleep(i < 20 ? 0 : 50);
            }

            ProxyTarget proxy = (ProxyTarget) target;
            proxy.processes().forEach(p -> pids.addAll(p.processTree()));
            assertTrue(proxy.isAlive());
            assertTrue(target.cpuSeconds() > 0, name + " cpu " + proxy.usage());
            assertTrue(target.memoryBytes() > 100_000, name + " pss " + target.memoryBytes());
            if (name.equals(WharfTarget.NAME)) {
                assertTrue(target.directMemoryBytes() > 0, "wharf's direct memory " + target.directMemoryBytes());
            } else {
                assertEquals(-1, target.directMemoryBytes());
            }
            if (target instanceof HaproxyTarget haproxy) {
                long pipes = haproxy.info("PipesUsed") + haproxy.info("PipesFree");
                assertEquals(name.equals(HaproxyTarget.SPLICE_NAME), pipes > 0, name + " allocated " + pipes + " pipes");
            }
        }
        assertNoneRunning(pids);
        for (int port : ports) {
            assertThrows(ConnectException.class, () -> new Socket(ManagedProcess.HOST, port).close(), "port " + port + " closed");
        }
    }

    @Test
    void startsASubsetByName() {
        Map<String, Target> targets = Targets.startAll(upstreams, work, WharfTarget.defaultJar(), List.of("direct", "socat"));
        try {
            assertEquals(List.of("direct", "socat"), List.copyOf(targets.keySet()));
            assertEquals(3 - 1, ((ProxyTarget) targets.get("socat")).processes().size(), "one socat per upstream");
        } finally {
            targets.values().forEach(Target::close);
        }
    }

    /** Redis' inline PING. */
    private static String ping(int port) throws IOException {
        try (Socket s = new Socket(ManagedProcess.HOST, port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII);
        }
    }

    /** Sends {@code size} random bytes to the bench upstream in echo mode and checks they come back. */
    private static void echo(int port, int size) throws Exception {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        try (Socket s = new Socket(ManagedProcess.HOST, port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write('E');
            // Written from another thread: the echo comes back while we are still sending.
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                try {
                    out.write(data);
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] back = in.readNBytes(size);
            writing.get(10, TimeUnit.SECONDS);
            assertArrayEquals(data, back);
        }
    }

    private static void assertNoneRunning(Set<Long> pids) {
        assertFalse(pids.isEmpty());
        List<Long> left = pids.stream().filter(ProcStats::isRunning).toList();
        assertTrue(left.isEmpty(), "still running: " + left);
    }
}
