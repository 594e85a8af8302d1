package dev.wharf.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.Jedis;

/**
 * A throwaway Redis server on 127.0.0.1 (and ::1 where the host has it) for integration tests,
 * with persistence off:
 *
 * <pre>{@code @RegisterExtension static final RedisServer REDIS = new RedisServer();}</pre>
 *
 * <p>{@link #info} and {@link #statLong} read the server's own counters over one long-lived
 * connection straight to it, so a test can tell what a proxy did upstream; that connection is
 * opened once at start, so reading the counters does not move {@code total_connections_received}
 * (it does count once in {@code connected_clients}).
 */
public final class RedisServer extends ChildProcess {

    private final boolean ipv6;
    private Jedis admin;

    /** Listens on 127.0.0.1, and on ::1 too if this host has an IPv6 loopback. */
    public RedisServer() {
        this(ipv6LoopbackAvailable());
    }

    private RedisServer(boolean ipv6) {
        super("redis");
        this.ipv6 = ipv6;
    }

    /** Listens on 127.0.0.1 only. */
    public static RedisServer ipv4Only() {
        return new RedisServer(false);
    }

    /** A new client connected straight to the server; the caller closes it. */
    public Jedis jedis() {
        return new Jedis(HOST, port());
    }

    /** The server's {@code INFO section} text, e.g. {@code info("stats")}. */
    public synchronized String info(String section) {
        return admin().info(section);
    }

    /** A numeric field of {@code INFO section}, e.g. {@code infoLong("clients", "connected_clients")}. */
    public long infoLong(String section, String field) {
        String prefix = field + ":";
        return info(section).lines()
                .filter(l -> l.startsWith(prefix))
                .mapToLong(l -> Long.parseLong(l.substring(prefix.length()).trim()))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("INFO " + section + " has no field " + field));
    }

    /** A numeric field of {@code INFO stats}, e.g. {@code statLong("total_connections_received")}. */
    public long statLong(String field) {
        return infoLong("stats", field);
    }

    @Override
    protected List<String> command(Path dir, int port) {
        List<String> bind = new ArrayList<>(List.of("--bind", HOST));
        if (ipv6) {
            bind.add("::1");
        }
        List<String> cmd = new ArrayList<>(List.of(
                findBinary("redis-server", "redis-server", List.of()).toString(),
                "--port", Integer.toString(port)));
        cmd.addAll(bind);
        cmd.addAll(List.of(
                "--save", "",
                "--appendonly", "no",
                // Otherwise clients from other loopback addresses (a proxy bound to 127.0.0.2) are refused.
                "--protected-mode", "no",
                "--daemonize", "no",
                "--dir", dir.toString()));
        return cmd;
    }

    @Override
    protected synchronized void probe() {
        // Through the admin connection, which then stays open for info().
        try {
            String pong = admin().ping();
            if (!"PONG".equals(pong)) {
                throw new IllegalStateException("PING answered " + pong);
            }
        } catch (RuntimeException notYet) {
            stopped(); // drop the failed connection; the next probe opens a fresh one
            throw notYet;
        }
    }

    @Override
    protected synchronized void stopped() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }

    private Jedis admin() {
        if (admin == null) {
            admin = jedis();
        }
        return admin;
    }

    private static boolean ipv6LoopbackAvailable() {
        try {
            new ServerSocket(0, 1, InetAddress.getByName("::1")).close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
