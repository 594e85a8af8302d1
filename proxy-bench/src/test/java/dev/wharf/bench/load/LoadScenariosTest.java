package dev.wharf.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.bench.model.Measurement;
import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.scenario.Scenario;
import dev.wharf.bench.target.PortTarget;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.target.Upstream;
import dev.wharf.bench.upstream.BenchUpstreamServer;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every scenario against a direct, in-process {@link BenchUpstreamServer} with the smoke test's
 * settings: the metrics it promises come out, sane and consistent. No speed is asserted.
 */
@Timeout(120)
class LoadScenariosTest {
    private static BenchUpstreamServer upstream;
    private static EventLoopGroup group;
    private static RunContext smoke;

    @BeforeAll
    static void start() throws InterruptedException {
        upstream = BenchUpstreamServer.start(0);
        group = new MultiThreadIoEventLoopGroup(2,
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        smoke = new RunContext(Duration.ofMillis(300), Duration.ofMillis(100), true, true, group,
                Map.of(64, 2000.0, 4096, 2000.0));
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        upstream.close();
    }

    /** Pretends to be a proxy by reporting this JVM's own CPU, RSS and pooled direct memory. */
    record SelfMeasuringTarget(int port) implements Target {
        @Override
        public String name() {
            return "self";
        }

        @Override
        public int port(Upstream u) {
            return port;
        }

        @Override
        public double cpuSeconds() {
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            return os.getProcessCpuTime() / 1e9;
        }

        @Override
        public long memoryBytes() {
            try {
                String[] statm = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
                return Long.parseLong(statm[1]) * 4096;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }

        @Override
        public long directMemoryBytes() {
            return PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        }

        @Override
        public void close() {
        }
    }

    private static Target direct() {
        return new PortTarget("direct", upstream.port());
    }

    /** scenario -> metric -> value, checking every measurement names the target. */
    private static Map<String, Map<String, Double>> byScenario(List<Measurement> ms, String target) {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        for (Measurement m : ms) {
            assertEquals(target, m.target(), m.toString());
            assertFalse(Double.isNaN(m.value()) || Double.isInfinite(m.value()), m.toString());
            Double previous = out.computeIfAbsent(m.scenario(), k -> new LinkedHashMap<>()).put(m.metric(), m.value());
            assertEquals(null, previous, "metric reported twice: " + m);
        }
        return out;
    }

    private static void assertLatencies(Map<String, Double> metrics, String scenario) {
        double p50 = metrics.get("p50");
        double p99 = metrics.get("p99");
        double p999 = metrics.get("p99.9");
        assertTrue(p50 > 0, scenario + " p50 " + p50);
        assertTrue(p50 <= p99 && p99 <= p999, scenario + " p50 <= p99 <= p99.9: " + metrics);
    }

    private static void assertUnits(List<Measurement> ms, Predicate<Measurement> ok) {
        for (Measurement m : ms) {
            assertTrue(ok.test(m), "unexpected unit: " + m);
        }
    }

    @Test
    void bulkThroughput() throws Exception {
        List<Measurement> ms = new BulkThroughput().run(direct(), smoke);
        Map<String, Map<String, Double>> s = byScenario(ms, "direct");
        assertEquals(List.of("bulk-1-upload", "bulk-1-download", "bulk-8-upload", "bulk-8-download"),
                List.copyOf(s.keySet()));
        for (var e : s.entrySet()) {
            assertEquals(Set.of("throughput"), e.getValue().keySet(), "no cpu-per-GB for the direct target");
            assertTrue(e.getValue().get("throughput") > 0, e.toString());
        }
        assertUnits(ms, m -> m.unit().equals("Gbit/s"));
    }

    @Test
    void bulkThroughputReportsCpuPerGbWhenTheTargetHasCpu() throws Exception {
        List<Measurement> ms = new BulkThroughput(List.of(1)).run(new SelfMeasuringTarget(upstream.port()), smoke);
        Map<String, Map<String, Double>> s = byScenario(ms, "self");
        assertEquals(Set.of("bulk-1-upload", "bulk-1-download"), s.keySet());
        for (var e : s.entrySet()) {
            assertEquals(Set.of("throughput", "cpu-per-GB"), e.getValue().keySet());
            assertTrue(e.getValue().get("cpu-per-GB") > 0, e.toString());
        }
        assertTrue(ms.stream().filter(m -> m.metric().equals("cpu-per-GB")).allMatch(m -> m.unit().equals("s/GB")));
    }

    @Test
    void requestResponseClosedLoop() throws Exception {
        List<Measurement> ms = new RequestResponse().run(direct(), smoke);
        Map<String, Map<String, Double>> s = byScenario(ms, "direct");
        assertEquals(List.of("rr-closed-64B", "rr-closed-4KiB"), List.copyOf(s.keySet()));
        for (var e : s.entrySet()) {
            assertEquals(List.of("rate", "p50", "p99", "p99.9"), List.copyOf(e.getValue().keySet()));
            assertTrue(e.getValue().get("rate") > 0, e.toString());
            assertLatencies(e.getValue(), e.getKey());
        }
        assertUnits(ms, m -> m.unit().equals(m.metric().equals("rate") ? "req/s" : "µs"));
    }

    @Test
    void openLoop() throws Exception {
        List<Measurement> ms = new OpenLoop().run(direct(), smoke);
        Map<String, Map<String, Double>> s = byScenario(ms, "direct");
        assertEquals(List.of("rr-open-64B", "rr-open-4KiB"), List.copyOf(s.keySet()));
        for (var e : s.entrySet()) {
            assertEquals(List.of("offered-rate", "achieved-rate", "p50", "p99", "p99.9", "send-lag-p50", "send-lag-p99"),
                    List.copyOf(e.getValue().keySet()));
            assertTrue(e.getValue().get("send-lag-p50") <= e.getValue().get("send-lag-p99"), e.toString());
            assertEquals(2000.0, e.getValue().get("offered-rate"));
            assertTrue(e.getValue().get("achieved-rate") > 0, e.toString());
            assertLatencies(e.getValue(), e.getKey());
        }
        assertUnits(ms, m -> m.unit().equals(m.metric().endsWith("rate") ? "req/s" : "µs"));
    }

    @Test
    void openLoopSkipsSizesWithoutARate() throws Exception {
        RunContext only64 = new RunContext(smoke.measureFor(), smoke.warmUp(), true, true, group, Map.of(64, 1000.0));
        List<Measurement> ms = new OpenLoop().run(direct(), only64);
        assertEquals(Set.of("rr-open-64B"), byScenario(ms, "direct").keySet());
    }

    @Test
    void calibrationRunsTheClosedLoop() throws Exception {
        assertTrue(OpenLoop.calibrate(direct(), smoke, 64) > 0);
    }

    @Test
    void connectionRate() throws Exception {
        List<Measurement> ms = new ConnectionRate().run(direct(), smoke);
        Map<String, Map<String, Double>> s = byScenario(ms, "direct");
        assertEquals(Set.of("conn-rate"), s.keySet());
        Map<String, Double> metrics = s.get("conn-rate");
        assertEquals(List.of("rate", "errors"), List.copyOf(metrics.keySet()));
        assertTrue(metrics.get("rate") > 0, metrics.toString());
        assertEquals(0.0, metrics.get("errors"));
        assertUnits(ms, m -> m.unit().equals(m.metric().equals("rate") ? "conn/s" : "count"));
    }

    @Test
    void idleConnections() throws Exception {
        List<Measurement> ms = new IdleConnections().run(direct(), smoke);
        Map<String, Double> metrics = byScenario(ms, "direct").get("idle");
        assertEquals(List.of("connections", "memory-per-conn", "memory-before", "memory-after"), List.copyOf(metrics.keySet()),
                "no direct-per-conn: the target reports no direct memory");
        assertEquals(IdleConnections.SMOKE, metrics.get("connections"));
        assertEquals(0.0, metrics.get("memory-per-conn"));
    }

    @Test
    void idleConnectionsReportsDirectMemoryWhereTheTargetHasIt() throws Exception {
        List<Measurement> ms = new IdleConnections(20).run(new SelfMeasuringTarget(upstream.port()), smoke);
        Map<String, Double> metrics = byScenario(ms, "self").get("idle");
        assertEquals(Set.of("connections", "memory-per-conn", "memory-before", "memory-after", "direct-per-conn"),
                metrics.keySet());
        assertEquals(20.0, metrics.get("connections"));
        assertTrue(metrics.get("memory-before") > 0 && metrics.get("memory-after") > 0, metrics.toString());
    }

    @Test
    void idleConnectionCountFollowsTheRun() {
        IdleConnections idle = new IdleConnections();
        assertEquals(50, idle.connections(smoke));
        assertEquals(2000, idle.connections(new RunContext(Duration.ofSeconds(1), Duration.ZERO, true, false, group, Map.of())));
        assertEquals(9500, idle.connections(new RunContext(Duration.ofSeconds(1), Duration.ZERO, false, false, group, Map.of())));
        assertEquals(7, new IdleConnections(7).connections(smoke));
    }

    @Test
    void theLeadCanBuildEveryScenarioWithoutArguments() {
        List<Scenario> all = List.of(new BulkThroughput(), new RequestResponse(), new OpenLoop(),
                new ConnectionRate(), new IdleConnections());
        assertEquals(List.of("bulk", "rr-closed", "rr-open", "conn-rate", "idle"),
                all.stream().map(Scenario::name).toList());
    }

    // ------------------------------------------------- the consistency checks fail when they should

    /** A blocking one-connection-at-a-time server on 127.0.0.1 that misbehaves on purpose. */
    private interface Misbehaviour {
        void serve(Socket socket) throws IOException;
    }

    private static ServerSocket misbehaving(Misbehaviour m) throws IOException {
        ServerSocket server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread worker = new Thread(() -> {
                        try (s) {
                            m.serve(s);
                        } catch (IOException ignored) {
                            // the client gave up: expected in these tests
                        }
                    });
                    worker.setDaemon(true);
                    worker.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server;
    }

    @Test
    void uploadFailsWhenTheSinkCountDiffersFromWhatWasSent() throws Exception {
        try (ServerSocket lossy = misbehaving(s -> {
            InputStream in = s.getInputStream();
            long count = -1; // not counting the mode byte
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) != -1) {
                count += n;
            }
            new DataOutputStream(s.getOutputStream()).writeLong(count - 1); // one byte "lost"
        })) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new BulkThroughput(List.of(1)).upload(new PortTarget("lossy", lossy.getLocalPort()), smoke, 1));
            assertTrue(e.getMessage().contains("sink counted"), e.getMessage());
        }
    }

    @Test
    void downloadFailsWhenTheSourceDeliversLessThanAskedFor() throws Exception {
        try (ServerSocket shortchanging = misbehaving(s -> {
            DataInputStream in = new DataInputStream(s.getInputStream());
            in.readByte();
            long n = in.readLong();
            byte[] buf = new byte[64 * 1024];
            var out = s.getOutputStream();
            for (long left = n - 1; left > 0; ) { // one byte short
                int chunk = (int) Math.min(buf.length, left);
                out.write(buf, 0, chunk);
                left -= chunk;
            }
        })) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new BulkThroughput(List.of(1)).download(new PortTarget("short", shortchanging.getLocalPort()), smoke, 1));
            assertTrue(e.getMessage().contains("bytes asked for"), e.getMessage());
        }
    }

    @Test
    void closedLoopFailsWhenTheEchoReturnsExtraBytes() throws Exception {
        try (ServerSocket chatty = misbehaving(s -> {
            InputStream in = s.getInputStream();
            var out = s.getOutputStream();
            in.read(); // mode
            s.setTcpNoDelay(true);
            byte[] buf = new byte[65];
            in.readNBytes(buf, 0, 64);
            out.write(buf); // the echo and one byte nobody asked for, in one segment
            out.flush();
            in.readAllBytes();
        })) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new RequestResponse(1, 1).measure(new PortTarget("chatty", chatty.getLocalPort()), smoke, 64));
            assertTrue(e.getMessage().contains("more bytes"), e.getMessage());
        }
    }
}
