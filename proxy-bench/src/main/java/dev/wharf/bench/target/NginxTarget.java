package dev.wharf.bench.target;

import dev.wharf.bench.proc.ManagedProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * nginx's stream module as a TCP relay: a master and {@link Targets#THREADS} workers in the
 * foreground, with every file it writes (pid, error log) in its work directory, so it never
 * touches /var.
 */
public final class NginxTarget extends ProxyTarget {
    public static final String NAME = "nginx";
    /** Where Debian's libnginx-mod-stream puts the module. */
    public static final Path STREAM_MODULE = Path.of("/usr/lib/nginx/modules/ngx_stream_module.so");

    private static final String CONFIG = """
            # Written by the Wharf benchmark harness.
            load_module ${module};
            daemon off;
            master_process on;
            worker_processes ${workers};
            worker_rlimit_nofile ${fdLimit};
            pid ${dir}/nginx.pid;
            error_log ${dir}/error.log warn;

            events {
                # Per worker, and a relayed session takes two. Each worker has its own fd limit and
                # accepts are not spread evenly, so one worker may hold nearly all idle sessions.
                worker_connections 19500;
            }

            stream {
                proxy_connect_timeout 5s;
                proxy_timeout 1h;
                # Without it nginx ends the whole session when the client shuts down its side,
                # dropping the reply still on its way (HAProxy, socat and Wharf forward the FIN).
                proxy_half_close on;
            ${servers}}
            """;
    private static final String SERVER = """
                server {
                    listen 127.0.0.1:${port};
                    proxy_pass 127.0.0.1:${upstreamPort};
                }
            """;

    private NginxTarget(Map<Upstream, Integer> ports, ManagedProcess process) {
        super(NAME, ports, List.of(process));
    }

    /** Starts nginx in {@code workDir/nginx}. */
    public static NginxTarget start(Upstreams upstreams, Path workDir) {
        Path nginx = ManagedProcess.findBinary("nginx", "nginx");
        if (!Files.isRegularFile(STREAM_MODULE)) {
            throw new IllegalStateException("nginx's stream module not found at " + STREAM_MODULE
                    + ": install the Debian package libnginx-mod-stream (apt-get install -y libnginx-mod-stream)");
        }
        Path dir = directory(workDir, NAME);
        return launch(NAME, () -> {
            Map<Upstream, Integer> ports = freePorts(upstreams.started());
            Path conf = write(dir.resolve("nginx.conf"), config(upstreams::port, ports, dir, ManagedProcess.hardOpenFilesLimit()));
            // -p: relative paths resolve in the work dir; -e: the error log before the config is
            // read goes there too, not to the compiled-in /var/log/nginx/error.log.
            List<String> cmd = List.of(nginx.toString(), "-p", dir + "/", "-c", conf.toString(),
                    "-e", dir.resolve("error.log").toString());
            ManagedProcess p = ManagedProcess.start(NAME, cmd, dir).awaitPorts(ports.values(), STARTUP_TIMEOUT);
            return new NginxTarget(ports, p);
        });
    }

    static String config(ToIntFunction<Upstream> upstreamPort, Map<Upstream, Integer> ports, Path dir, long fdLimit) {
        String servers = ports.entrySet().stream()
                .map(e -> Template.render(SERVER, Map.of("port", e.getValue(), "upstreamPort", upstreamPort.applyAsInt(e.getKey()))))
                .collect(Collectors.joining());
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("module", STREAM_MODULE);
        values.put("workers", Targets.THREADS);
        // Workers may raise their soft limit up to the hard one, not beyond.
        values.put("fdLimit", Math.min(fdLimit, 1_000_000));
        values.put("dir", dir);
        values.put("servers", servers);
        return Template.render(CONFIG, values);
    }
}
