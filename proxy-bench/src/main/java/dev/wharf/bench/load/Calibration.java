package dev.wharf.bench.load;

import dev.wharf.bench.scenario.RunContext;
import dev.wharf.bench.target.PortTarget;
import dev.wharf.bench.target.Target;
import dev.wharf.bench.target.Upstream;
import dev.wharf.bench.upstream.BenchUpstreamServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Shows that the load generator is not the bottleneck: the bulk upload (and download) against a
 * direct {@link BenchUpstreamServer}, to compare with {@code iperf3 -c 127.0.0.1} on the same
 * machine. The upstream runs in its own JVM, as in a bench run (with {@code --in-process} it
 * shares this one).
 *
 * <pre>java -cp wharf-bench.jar dev.wharf.bench.load.Calibration [--seconds 5] [--streams 1] [--in-process]</pre>
 */
public final class Calibration {
    private Calibration() {
    }

    public static void main(String[] args) throws Exception {
        // Keep Netty's DEBUG lines (an unconfigured logback prints them) out of the numbers.
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        int seconds = 5;
        int streams = 1;
        boolean inProcess = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--streams" -> streams = Integer.parseInt(args[++i]);
                case "--in-process" -> inProcess = true;
                default -> {
                    System.err.println("usage: Calibration [--seconds N] [--streams N] [--in-process]");
                    System.exit(2);
                }
            }
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2,
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        UpstreamProcess upstream = inProcess ? new InProcess() : new ChildJvm();
        try {
            RunContext context = new RunContext(Duration.ofSeconds(seconds), Duration.ofSeconds(1), false, false,
                    group, Map.of());
            Target direct = new PortTarget("direct", upstream.port());
            System.out.printf("load generator: %s, upstream %s%n", Connections.channelType(group).getSimpleName(),
                    inProcess ? "in this JVM" : "in its own JVM");
            BulkThroughput bulk = new BulkThroughput(List.of(streams));
            BulkThroughput.Transfer up = bulk.upload(direct, context, streams);
            System.out.printf("bulk-%d-upload   %6.2f Gbit/s (%d bytes in %.2f s)%n", streams, up.gbitPerSecond(),
                    up.bytes(), up.nanos() / 1e9);
            BulkThroughput.Transfer down = bulk.download(direct, context, streams);
            System.out.printf("bulk-%d-download %6.2f Gbit/s (%d bytes in %.2f s)%n", streams, down.gbitPerSecond(),
                    down.bytes(), down.nanos() / 1e9);
        } finally {
            upstream.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private interface UpstreamProcess extends AutoCloseable {
        int port();

        @Override
        void close();
    }

    private static final class InProcess implements UpstreamProcess {
        private final BenchUpstreamServer server;

        InProcess() throws InterruptedException {
            server = BenchUpstreamServer.start(0);
        }

        @Override
        public int port() {
            return server.port();
        }

        @Override
        public void close() {
            server.close();
        }
    }

    /** The upstream as a bench run starts it: {@code java -cp <this classpath> BenchUpstreamServer 0}. */
    private static final class ChildJvm implements UpstreamProcess {
        private final Process process;
        private final int port;

        ChildJvm() throws Exception {
            String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
            List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                    BenchUpstreamServer.class.getName(), "0"));
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.startsWith("ready ")) {
                process.destroyForcibly();
                throw new IllegalStateException("upstream did not start: " + line);
            }
            port = Integer.parseInt(line.substring("ready ".length()).trim());
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public void close() {
            process.destroy();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.destroyForcibly();
        }
    }
}
