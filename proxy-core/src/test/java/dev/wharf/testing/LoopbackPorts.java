package dev.wharf.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for a server's second listener (etcd's peer port, a Patroni node's PostgreSQL port), which
 * {@link ChildProcess} does not pick and does not retry, and for the listeners of an in-process Wharf
 * under test (whose config names its ports before it binds them).
 *
 * <p>They come from below the kernel's ephemeral range: a port picked there (as {@code new ServerSocket(0)}
 * does) can be taken as the local port of some outgoing connection before the server binds it, seconds
 * later for PostgreSQL under Patroni, and a client socket, even in TIME_WAIT, then blocks the bind. The
 * failover tests open thousands of such connections.
 */
public final class LoopbackPorts {

    private static final int LOWEST = 20000;
    private static final int ATTEMPTS = 100;

    private LoopbackPorts() {
    }

    /** A port below the ephemeral range that nothing on 127.0.0.1 is bound to right now. */
    public static int free() {
        int highest = ephemeralLow() - 1;
        if (highest <= LOWEST) {
            throw new IllegalStateException("the ephemeral port range starts at " + (highest + 1) + " (expected: > " + LOWEST + ")");
        }
        for (int i = 0; i < ATTEMPTS; i++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, highest + 1);
            if (bindable(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port in " + LOWEST + "-" + highest + " after " + ATTEMPTS + " tries");
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false); // so that a socket in TIME_WAIT also counts as taken
            s.bind(new InetSocketAddress(ChildProcess.HOST, port), 1);
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** The first port of {@code net.ipv4.ip_local_port_range} (32768 by default). */
    private static int ephemeralLow() {
        // Not Files.readString: it trusts the size procfs reports (0) and returns the first byte only.
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            String range = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return Integer.parseInt(range.trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException unreadable) {
            return 32768;
        }
    }
}
