package dev.wharf.bench.target;

import dev.wharf.bench.proc.ManagedProcess;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * HAProxy (2.6) in TCP mode, in the foreground ({@code haproxy -f haproxy.cfg -db}), one
 * {@code listen} section per upstream; with {@code splice} it moves data through kernel pipes
 * ({@code option splice-request} + {@code option splice-response}; {@code splice-auto} never
 * allocated a pipe on these machines).
 */
public final class HaproxyTarget extends ProxyTarget {
    public static final String NAME = "haproxy";
    public static final String SPLICE_NAME = "haproxy-splice";

    /**
     * File descriptors HAProxy needs besides its connections' and pipes': 19 were counted here
     * (3 listeners, per-thread pollers and wake-up pipes, the stats socket); the rest is margin.
     */
    private static final int OWN_FDS = 64;
    /** Left out of 2 x maxconn for HAProxy's own descriptors and, with splice, its pipes. */
    private static final int RESERVED_FDS = 400;

    private static final String CONFIG = """
            # Written by the Wharf benchmark harness.
            global
                nbthread ${threads}
                # HAProxy refuses to start when 2 x maxconn + 2 x maxpipes + its own descriptors
                # exceed the hard fd limit (${fdLimit}); it sets its own ulimit-n to what it needs.
                maxconn ${maxconn}
            ${maxpipes}    stats socket ${dir}/haproxy.sock mode 600 level admin

            defaults
                mode tcp
                no log
                timeout connect 5s
                timeout client 1h
                timeout server 1h
            ${splice}
            ${listeners}""";
    private static final String SPLICE = """
                option splice-request
                option splice-response
            """;
    private static final String MAXPIPES = """
                # A pipe is only held while spliced data is in flight, so a few hundred suffice.
                maxpipes ${maxpipes}
            """;
    private static final String LISTEN = """
            listen ${name}
                bind 127.0.0.1:${port}
                server ${name} 127.0.0.1:${upstreamPort}

            """;

    private final Path statsSocket;

    private HaproxyTarget(String name, Map<Upstream, Integer> ports, ManagedProcess process, Path statsSocket) {
        super(name, ports, List.of(process));
        this.statsSocket = statsSocket;
    }

    /** Starts HAProxy in {@code workDir/haproxy} (or {@code workDir/haproxy-splice}). */
    public static HaproxyTarget start(Upstreams upstreams, Path workDir, boolean splice) {
        Path haproxy = ManagedProcess.findBinary("haproxy", "haproxy");
        String name = splice ? SPLICE_NAME : NAME;
        Path dir = directory(workDir, name);
        return launch(name, () -> {
            Map<Upstream, Integer> ports = freePorts(upstreams.started());
            Path cfg = write(dir.resolve("haproxy.cfg"), config(upstreams::port, ports, splice, dir,
                    ManagedProcess.hardOpenFilesLimit()));
            ManagedProcess p = ManagedProcess.start(name, List.of(haproxy.toString(), "-f", cfg.toString(), "-db"), dir)
                    .awaitPorts(ports.values(), STARTUP_TIMEOUT);
            return new HaproxyTarget(name, ports, p, dir.resolve("haproxy.sock"));
        });
    }

    /** The largest maxconn whose 2 descriptors per connection fit the hard fd limit, with room to spare. */
    static int maxconn(long fdLimit) {
        return (int) Math.max(256, (Math.min(fdLimit, 1_000_000) - RESERVED_FDS) / 2);
    }

    static String config(ToIntFunction<Upstream> upstreamPort, Map<Upstream, Integer> ports, boolean splice, Path dir,
                         long fdLimit) {
        int maxconn = maxconn(fdLimit);
        // Left unset, HAProxy would allocate maxconn / 4 pipes (2 fds each) and no longer fit the limit.
        long maxpipes = Math.max(16, (Math.min(fdLimit, 1_000_000) - 2L * maxconn - OWN_FDS) / 2);
        String listeners = ports.entrySet().stream()
                .map(e -> Template.render(LISTEN, Map.of("name", listenerName(e.getKey()), "port", e.getValue(),
                        "upstreamPort", upstreamPort.applyAsInt(e.getKey()))))
                .collect(Collectors.joining());
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("threads", Targets.THREADS);
        values.put("fdLimit", fdLimit);
        values.put("maxconn", maxconn);
        values.put("maxpipes", splice ? Template.render(MAXPIPES, Map.of("maxpipes", maxpipes)) : "");
        values.put("dir", dir);
        values.put("splice", splice ? SPLICE : "");
        values.put("listeners", listeners);
        return Template.render(CONFIG, values);
    }

    /**
     * The answer to {@code show info} on HAProxy's stats socket, e.g. to check that splicing
     * happens ({@code PipesUsed} + {@code PipesFree} > 0 once data went through).
     */
    public String showInfo() throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(statsSocket));
            ch.write(ByteBuffer.wrap("show info\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (ch.read(buf) >= 0 && buf.hasRemaining()) {
                // HAProxy closes the socket after answering a single command.
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
        }
    }

    /** A numeric field of {@link #showInfo()}, e.g. "PipesFree". */
    public long info(String field) throws IOException {
        String prefix = field + ":";
        return showInfo().lines()
                .filter(l -> l.startsWith(prefix))
                .mapToLong(l -> Long.parseLong(l.substring(prefix.length()).trim()))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("show info has no field " + field));
    }
}
