package dev.wharf.bench.target;

import dev.wharf.bench.proc.ManagedProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * socat, the fork-per-connection relay: one listening process per upstream, each forking a child
 * for every connection. CPU and memory are summed over the listeners and their children (those
 * already reaped count through the listeners' cutime/cstime).
 */
public final class SocatTarget extends ProxyTarget {
    public static final String NAME = "socat";

    /** socat's own default backlog is 5, which refuses a burst of 50 clients connecting at once. */
    private static final String LISTEN = "TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr,backlog=512";
    private static final String CONNECT = "TCP:127.0.0.1:${upstreamPort}";

    private SocatTarget(Map<Upstream, Integer> ports, List<ManagedProcess> processes) {
        super(NAME, ports, processes);
    }

    /** Starts one socat per upstream in {@code workDir/socat}. */
    public static SocatTarget start(Upstreams upstreams, Path workDir) {
        Path socat = ManagedProcess.findBinary("socat", "socat");
        Path dir = directory(workDir, NAME);
        return launch(NAME, () -> {
            Map<Upstream, Integer> ports = freePorts(upstreams.started());
            List<ManagedProcess> started = new ArrayList<>();
            try {
                for (Map.Entry<Upstream, Integer> e : ports.entrySet()) {
                    Map<String, Object> values = Map.of("port", e.getValue(), "upstreamPort", upstreams.port(e.getKey()));
                    List<String> cmd = List.of(socat.toString(), Template.render(LISTEN, values), Template.render(CONNECT, values));
                    started.add(ManagedProcess.start(NAME + "-" + listenerName(e.getKey()), cmd, dir)
                            .awaitPort(e.getValue(), STARTUP_TIMEOUT));
                }
            } catch (RuntimeException failed) {
                closeAll(started);
                throw failed;
            }
            return new SocatTarget(ports, started);
        });
    }
}
