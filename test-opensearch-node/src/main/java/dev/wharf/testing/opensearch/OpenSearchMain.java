package dev.wharf.testing.opensearch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * One real OpenSearch node, a single-node cluster of its own, in the foreground: the main class that
 * {@code dev.wharf.testing.OpenSearchNode} runs in a child JVM whose classpath is this module's (OpenSearch
 * 2.19 with Netty 4.1, its Jackson and Log4j), not the tests' (Netty 4.2).
 *
 * <p>{@code OpenSearchMain <cluster name> <http port> <transport port> <base dir> <max content length>}:
 * binds 127.0.0.1 only, keeps its data under {@code <base dir>/node_1/data} (so a restart on the same base dir
 * recovers the indices), and runs until killed or SIGTERM'd. The runner loads no security plugin.
 */
public final class OpenSearchMain {

    private OpenSearchMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: OpenSearchMain <cluster name> <http port> <transport port> <base dir> <max content length>"
                    + " (got " + args.length + " arguments)");
            System.exit(2);
        }
        String clusterName = args[0];
        int httpPort = Integer.parseInt(args[1]);
        int transportPort = Integer.parseInt(args[2]);
        Path baseDir = Path.of(args[3]).toAbsolutePath();
        String maxContentLength = args[4];
        Files.createDirectories(baseDir);

        OpenSearchRunner runner = new OpenSearchRunner();
        // Ports are given: without this the runner probes 9201.. for a free one it would not use anyway.
        runner.setMaxHttpPort(-1);
        runner.onBuild((index, settings) -> settings
                .put("node.name", clusterName + "-node")
                .put("network.host", "127.0.0.1")
                .put("http.port", String.valueOf(httpPort))
                .put("transport.port", String.valueOf(transportPort))
                .put("discovery.type", "single-node")
                // The bulk tests send one body over 100 MB, OpenSearch's default limit.
                .put("http.max_content_length", maxContentLength)
                // ...and a bulk request holds its whole size as coordinating bytes, limited to 10 % of the heap by default.
                .put("indexing_pressure.memory.limit", "60%")
                // A test machine's disk may be fuller than the 85/90 % watermarks: never block allocation or writes on it.
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                .put("action.auto_create_index", true));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("OpenSearchMain: close failed: " + e);
            } finally {
                stopped.countDown();
            }
        }, "opensearch-main-stop"));
        runner.build(new OpenSearchRunner.Configs()
                .basePath(baseDir.toString())
                .numOfNode(1)
                .baseHttpPort(httpPort - 1)
                .clusterName(clusterName)
                .printOnFailure());
        System.out.println("OpenSearchMain: " + clusterName + " started, http 127.0.0.1:" + httpPort
                + ", transport " + transportPort + ", base dir " + baseDir);
        stopped.await();
    }
}
