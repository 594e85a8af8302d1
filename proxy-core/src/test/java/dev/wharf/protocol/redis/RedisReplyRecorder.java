package dev.wharf.protocol.redis;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Records the raw bytes of real Redis Cluster replies into {@code src/test/resources/redis/replies}
 * for {@link RecordedRepliesTest}. Plain sockets and a minimal RESP reader, so that what is stored
 * is exactly what the server sent. See that directory's README.md for how to start the cluster.
 *
 * <pre>
 * java -cp proxy-core/target/test-classes dev.wharf.protocol.redis.RedisReplyRecorder \
 *     127.0.0.1 17101 17106 proxy-core/src/test/resources/redis/replies
 * </pre>
 *
 * <p>Arguments: the nodes' host, the first and last node port (the nodes are on consecutive ports,
 * the first one a master), the directory to write. It changes the cluster while it runs (a slot in
 * migration for ASK, hostnames announced, the preferred endpoint type) and sets everything back.
 */
public final class RedisReplyRecorder {
    /** The RESP versions recorded: 2 (no HELLO) and 3 (after HELLO 3). */
    private static final int[] PROTOCOLS = {2, 3};

    private final String host;
    private final int firstPort;
    private final int lastPort;
    private final Path dir;

    private RedisReplyRecorder(String host, int firstPort, int lastPort, Path dir) {
        this.host = host;
        this.firstPort = firstPort;
        this.lastPort = lastPort;
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: RedisReplyRecorder HOST FIRST_PORT LAST_PORT DIR");
            System.exit(2);
        }
        new RedisReplyRecorder(args[0], Integer.parseInt(args[1]), Integer.parseInt(args[2]), Path.of(args[3])).record();
    }

    private void record() throws Exception {
        Files.createDirectories(dir);
        try (Connection c = connect(firstPort, 2)) {
            save("hello", 3, c.call("HELLO", "3"));
        }
        for (int protocol : PROTOCOLS) {
            recordTopology("", protocol);
            recordMoved("", protocol);
            recordAsk(protocol);
        }
        try {
            // Every node announces a hostname, and replies name nodes by it.
            for (int port = firstPort; port <= lastPort; port++) {
                command(port, "CONFIG", "SET", "cluster-announce-hostname", "node-" + port + ".redis.example");
                command(port, "CONFIG", "SET", "cluster-preferred-endpoint-type", "hostname");
            }
            awaitHostnamesGossiped();
            for (int protocol : PROTOCOLS) {
                recordTopology("hostname-", protocol);
                recordMoved("hostname-", protocol);
            }
            // Nodes name no endpoint at all: "the one you are connected to".
            for (int port = firstPort; port <= lastPort; port++) {
                command(port, "CONFIG", "SET", "cluster-preferred-endpoint-type", "unknown-endpoint");
            }
            for (int protocol : PROTOCOLS) {
                recordTopology("unknown-endpoint-", protocol);
                recordMoved("unknown-endpoint-", protocol);
            }
        } finally {
            for (int port = firstPort; port <= lastPort; port++) {
                command(port, "CONFIG", "SET", "cluster-preferred-endpoint-type", "ip");
                command(port, "CONFIG", "SET", "cluster-announce-hostname", "");
            }
        }
    }

    private void recordTopology(String prefix, int protocol) throws IOException {
        String myself = new String(content(command(firstPort, "CLUSTER", "MYID")), UTF_8);
        try (Connection c = connect(firstPort, protocol)) {
            save(prefix + "cluster-slots", protocol, c.call("CLUSTER", "SLOTS"));
            save(prefix + "cluster-shards", protocol, c.call("CLUSTER", "SHARDS"));
            save(prefix + "cluster-nodes", protocol, c.call("CLUSTER", "NODES"));
            save(prefix + "cluster-replicas", protocol, c.call("CLUSTER", "REPLICAS", myself));
        }
    }

    /** A GET, on the first node, of a key another node owns. */
    private void recordMoved(String prefix, int protocol) throws IOException {
        try (Connection c = connect(firstPort, protocol)) {
            for (int i = 0; ; i++) {
                byte[] reply = c.call("GET", "wharf:moved:" + i);
                if (startsWith(reply, "-MOVED ")) {
                    save(prefix + "moved", protocol, reply);
                    return;
                }
            }
        }
    }

    /** A GET of a missing key in a slot the first node is migrating to the second master. */
    private void recordAsk(int protocol) throws IOException {
        String key = "wharf:ask";
        int slot = Integer.parseInt(new String(command(firstPort, "CLUSTER", "KEYSLOT", key), UTF_8).substring(1).trim());
        int owner = -1;
        int target = -1;
        String ownerId = null;
        String targetId = null;
        for (String line : new String(content(command(firstPort, "CLUSTER", "NODES")), UTF_8).split("\n")) {
            String[] f = line.split(" ");
            if (!f[2].contains("master")) {
                continue;
            }
            int port = Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1, f[1].indexOf('@')));
            if (servesSlot(f, slot)) {
                owner = port;
                ownerId = f[0];
            } else if (target < 0) {
                target = port;
                targetId = f[0];
            }
        }
        command(target, "CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", ownerId);
        command(owner, "CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", targetId);
        try (Connection c = connect(owner, protocol)) {
            byte[] reply = c.call("GET", key);
            if (!startsWith(reply, "-ASK ")) {
                throw new IllegalStateException("expected ASK for " + key + ", got " + new String(reply, UTF_8));
            }
            save("ask", protocol, reply);
        } finally {
            command(owner, "CLUSTER", "SETSLOT", Integer.toString(slot), "STABLE");
            command(target, "CLUSTER", "SETSLOT", Integer.toString(slot), "STABLE");
        }
    }

    private static boolean servesSlot(String[] nodeLine, int slot) {
        for (int i = 8; i < nodeLine.length; i++) {
            String range = nodeLine[i];
            if (range.startsWith("[")) {
                continue;
            }
            int dash = range.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? range : range.substring(0, dash));
            int to = dash < 0 ? from : Integer.parseInt(range.substring(dash + 1));
            if (from <= slot && slot <= to) {
                return true;
            }
        }
        return false;
    }

    private void awaitHostnamesGossiped() throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            String nodes = new String(content(command(firstPort, "CLUSTER", "NODES")), UTF_8);
            long named = nodes.lines().filter(l -> l.split(" ")[1].contains(".redis.example")).count();
            if (named == lastPort - firstPort + 1) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("hostnames not gossiped within 30 s:\n" + nodes);
            }
            Thread.sleep(200);
        }
    }

    private void save(String name, int protocol, byte[] reply) throws IOException {
        Path file = dir.resolve(name + ".resp" + protocol);
        Files.write(file, reply);
        System.out.println(file + ": " + reply.length + " bytes");
    }

    private byte[] command(int port, String... args) throws IOException {
        try (Connection c = connect(port, 2)) {
            byte[] reply = c.call(args);
            if (reply[0] == '-') {
                throw new IllegalStateException(String.join(" ", args) + " on " + port + ": " + new String(reply, UTF_8).trim());
            }
            return reply;
        }
    }

    private Connection connect(int port, int protocol) throws IOException {
        Connection c = new Connection(new Socket(host, port));
        if (protocol == 3) {
            byte[] hello = c.call("HELLO", "3");
            if (hello[0] != '%') {
                c.close();
                throw new IllegalStateException("HELLO 3 on " + port + ": " + new String(hello, UTF_8).trim());
            }
        }
        return c;
    }

    private static boolean startsWith(byte[] reply, String prefix) {
        return new String(reply, 0, Math.min(reply.length, prefix.length()), UTF_8).equals(prefix);
    }

    /** The payload of a bulk or verbatim string reply (a verbatim string keeps its "txt:" prefix). */
    private static byte[] content(byte[] reply) {
        int headerEnd = indexOfCrlf(reply, 0);
        int length = Integer.parseInt(new String(reply, 1, headerEnd - 1, UTF_8));
        byte[] content = new byte[length];
        System.arraycopy(reply, headerEnd + 2, content, 0, length);
        return content;
    }

    private static int indexOfCrlf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length - 1; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                return i;
            }
        }
        throw new IllegalArgumentException("no CRLF");
    }

    /** One connection: writes commands as RESP arrays and returns each reply's raw bytes. */
    private static final class Connection implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(10_000);
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        byte[] call(String... args) throws IOException {
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.writeBytes(("*" + args.length + "\r\n").getBytes(UTF_8));
            for (String arg : args) {
                byte[] bytes = arg.getBytes(UTF_8);
                request.writeBytes(("$" + bytes.length + "\r\n").getBytes(UTF_8));
                request.writeBytes(bytes);
                request.writeBytes("\r\n".getBytes(UTF_8));
            }
            out.write(request.toByteArray());
            out.flush();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            readValue(reply);
            return reply.toByteArray();
        }

        /** Copies one complete RESP2/RESP3 value (an attribute and the value it annotates) to {@code to}. */
        private void readValue(ByteArrayOutputStream to) throws IOException {
            String line = readLine(to);
            char type = line.charAt(0);
            switch (type) {
                case '+', '-', ':', '_', ',', '#', '(' -> { }
                case '$', '!', '=' -> {
                    int length = Integer.parseInt(line.substring(1));
                    if (length >= 0) {
                        to.writeBytes(in.readNBytes(length + 2));
                    }
                }
                case '*', '~', '>' -> {
                    int count = Integer.parseInt(line.substring(1));
                    for (int i = 0; i < count; i++) {
                        readValue(to);
                    }
                }
                case '%', '|' -> {
                    int count = Integer.parseInt(line.substring(1));
                    for (int i = 0; i < 2 * count; i++) {
                        readValue(to);
                    }
                    if (type == '|') {
                        readValue(to);
                    }
                }
                default -> throw new IOException("unexpected RESP type " + type + " in " + line);
            }
        }

        private String readLine(ByteArrayOutputStream to) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int previous = -1;
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("connection closed mid-reply");
                }
                to.write(b);
                if (previous == '\r' && b == '\n') {
                    byte[] bytes = line.toByteArray();
                    return new String(bytes, 0, bytes.length - 1, UTF_8);
                }
                line.write(b);
                previous = b;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
