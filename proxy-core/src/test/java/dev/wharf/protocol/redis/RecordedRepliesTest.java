package dev.wharf.protocol.redis;

import static dev.wharf.protocol.redis.CodecHarness.command;
import static dev.wharf.protocol.redis.TestRoutes.proxyHost;
import static dev.wharf.protocol.redis.TestRoutes.proxyPort;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.protocol.redis.RespReader.Value;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every reply recorded from a real Redis Cluster (src/test/resources/redis/replies), in RESP2 and
 * RESP3, goes through the codec: parsed again, the rewritten reply names only proxy addresses,
 * each host with its own node's port, and every other value is equal to the original's.
 */
class RecordedRepliesTest {
    private static final Path DIR = Path.of("src", "test", "resources", "redis", "replies");
    private static final List<String> VARIANTS = List.of("", "hostname-", "unknown-endpoint-");
    private static final List<String> REPLIES = List.of("cluster-slots", "cluster-shards", "cluster-nodes", "cluster-replicas", "moved");
    /** Chunk sizes the reply is fed in: whole, then byte by byte, then 5 bytes at a time. */
    private static final int[] CHUNKINGS = {Integer.MAX_VALUE, 1, 5};
    private static final Pattern NODE_PORT = Pattern.compile("(?<!\\d)1710[1-6](?!\\d)");
    private static final Pattern PROXY_HOST = Pattern.compile("wharf-([0-9a-f]+)\\.test");

    static Stream<Arguments> recordings() {
        List<Arguments> all = new ArrayList<>();
        for (int protocol : new int[] {2, 3}) {
            for (String variant : VARIANTS) {
                for (String reply : REPLIES) {
                    all.add(Arguments.of(variant + reply, protocol));
                }
            }
            all.add(Arguments.of("ask", protocol));
        }
        return all.stream();
    }

    @Test
    void everyRecordingIsTested() throws IOException {
        Set<String> tested = recordings().map(a -> a.get()[0] + ".resp" + a.get()[1]).collect(Collectors.toCollection(TreeSet::new));
        tested.add("hello.resp3");
        tested.add("README.md");
        tested.add(".gitattributes");
        try (Stream<Path> files = Files.list(DIR)) {
            assertEquals(tested, files.map(f -> f.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new)));
        }
    }

    @ParameterizedTest(name = "{0}.resp{1}")
    @MethodSource("recordings")
    void theRewrittenReplyNamesOnlyProxyAddressesAndKeepsEverythingElse(String name, int protocol) throws IOException {
        byte[] original = recording(name + ".resp" + protocol);
        byte[] first = null;
        for (int chunk : CHUNKINGS) {
            try (CodecHarness codec = new CodecHarness()) {
                // given a client that asked for it (after HELLO 3 for RESP3)
                if (protocol == 3) {
                    byte[] hello = recording("hello.resp3");
                    codec.request(command("HELLO", "3"));
                    codec.reply(hello);
                    assertArrayEquals(hello, codec.repliesOut(), "HELLO's reply passes unchanged");
                }
                codec.request(request(name));

                // when the recorded reply arrives in chunks
                codec.reply(chunks(original, chunk));
                byte[] rewritten = codec.repliesOut();

                // then
                assertRewritten(name, original, rewritten);
                assertRoutedAsReported(codec.routes.calls, name);
                if (name.endsWith("moved")) {
                    assertEquals(1, codec.redirects("moved"));
                } else if (name.equals("ask")) {
                    assertEquals(1, codec.redirects("ask"));
                } else {
                    String metric = name.substring(name.indexOf("cluster-")).replace('-', '_');
                    assertEquals(1, codec.rewrites(metric), metric);
                }
                // and in any chunking the same bytes
                if (first == null) {
                    first = rewritten;
                } else {
                    assertArrayEquals(first, rewritten, "rewritten in chunks of " + chunk);
                }
                assertEquals(0, codec.upstream.inboundMessages().size());
            }
        }
    }

    @Test
    void clusterSlavesIsRewrittenAsClusterReplicas() throws IOException {
        try (CodecHarness codec = new CodecHarness()) {
            byte[] original = recording("hostname-cluster-replicas.resp2");
            codec.request(command("CLUSTER", "SLAVES", "7abc866a8ff4d03f35dbde7de5e3b96381de74bc"));
            codec.reply(original);
            assertRewritten("cluster-replicas", original, codec.repliesOut());
            assertEquals(1, codec.rewrites("cluster_replicas"));
        }
    }

    @Test
    void pipelinedTopologyCommandsAreMatchedInOrder() throws IOException {
        for (int protocol : new int[] {2, 3}) {
            try (CodecHarness codec = new CodecHarness()) {
                // given a client that pipelines HELLO and every topology command with a GET in between
                StringBuilder requests = new StringBuilder(command("HELLO", Integer.toString(protocol)));
                List<String> names = List.of("cluster-slots", "moved", "cluster-shards", "cluster-nodes", "cluster-replicas");
                for (String name : names) {
                    requests.append(request(name)).append(command("GET", "k"));
                }
                codec.request(requests.toString());
                // when all replies arrive at once
                List<byte[]> replies = new ArrayList<>();
                byte[] hello = protocol == 3 ? recording("hello.resp3") : "*2\r\n$5\r\nproto\r\n:2\r\n".getBytes(ISO_8859_1);
                replies.add(hello);
                for (String name : names) {
                    replies.add(recording(name + ".resp" + protocol));
                    replies.add("$1\r\nv\r\n".getBytes(ISO_8859_1));
                }
                codec.reply(concat(replies));

                // then each comes out in order, the topology ones rewritten
                List<Value> out = RespReader.parseAll(codec.repliesOut());
                assertEquals(replies.size(), out.size());
                assertEquals(RespReader.parse(hello), out.get(0));
                for (int i = 0; i < names.size(); i++) {
                    Value original = RespReader.parse(replies.get(1 + 2 * i));
                    compare(names.get(i), original, out.get(1 + 2 * i), "reply " + (1 + 2 * i));
                    assertEquals(new Value('$', "v"), out.get(2 + 2 * i));
                }
            }
        }
    }

    private static String request(String name) {
        String reply = name.substring(name.lastIndexOf("-") + 1);
        return switch (reply) {
            case "slots" -> command("CLUSTER", "SLOTS");
            case "shards" -> command("CLUSTER", "SHARDS");
            case "nodes" -> command("CLUSTER", "NODES");
            case "replicas" -> command("CLUSTER", "REPLICAS", "7abc866a8ff4d03f35dbde7de5e3b96381de74bc");
            default -> command("GET", "some-key");
        };
    }

    private static void assertRewritten(String name, byte[] original, byte[] rewritten) {
        String text = new String(rewritten, ISO_8859_1);
        assertFalse(text.contains("127.0.0.1"), () -> "a node IP is left in " + text);
        assertFalse(text.contains("redis.example"), () -> "a node hostname is left in " + text);
        Matcher port = NODE_PORT.matcher(text);
        assertFalse(port.find(), () -> "a node port is left in " + text);
        compare(name, RespReader.parse(original), RespReader.parse(rewritten), "reply");
    }

    /** Equal but for addresses, which must be proxy addresses of the same node. */
    private static void compare(String name, Value original, Value rewritten, String path) {
        if (original.equals(rewritten)) {
            return;
        }
        if (original.value() instanceof List<?>) {
            assertEquals(original.type(), rewritten.type(), path);
            assertEquals(original.elements().size(), rewritten.elements().size(), path);
            for (int i = 0; i < original.elements().size(); i++) {
                compare(name, original.elements().get(i), rewritten.elements().get(i), path + "[" + i + "]");
            }
            assertOneNode(rewritten, path);
        } else if (original.type() == '-') {
            String[] o = original.text().split(" ");
            String[] r = rewritten.text().split(" ");
            int port = Integer.parseInt(o[2].substring(o[2].lastIndexOf(':') + 1));
            assertEquals(List.of(o[0], o[1], proxyHost(port) + ":" + proxyPort(port)), List.of(r), path);
        } else if (original.type() == ':') {
            long port = (Long) original.value();
            assertTrue(port >= 17101 && port <= 17106, path + ": " + original + " changed to " + rewritten);
            assertEquals(new Value(':', (long) proxyPort((int) port)), rewritten, path);
        } else if (name.contains("nodes") || name.contains("replicas")) {
            assertEquals(original.type(), rewritten.type(), path);
            assertEquals(expectedNodeLines(original.text()), rewritten.text(), path);
        } else {
            String host = original.value() == null ? "" : original.text();
            assertTrue(host.isEmpty() || host.equals("127.0.0.1") || host.matches("node-1710[1-6]\\.redis\\.example"),
                    path + ": " + original + " changed to " + rewritten);
            assertTrue(rewritten.type() == '$' && PROXY_HOST.matcher(rewritten.text()).matches(), path + ": " + rewritten);
        }
    }

    /** Every proxy host in an aggregate holding proxy ports (and in its metadata) belongs to that port's node. */
    private static void assertOneNode(Value aggregate, String path) {
        Set<String> ports = new HashSet<>();
        for (Value element : aggregate.elements()) {
            if (element.type() == ':' && (Long) element.value() >= 40_000) {
                ports.add(Long.toString((Long) element.value() - 40_000 + 10_000));
            }
        }
        if (ports.isEmpty()) {
            return;
        }
        assertEquals(1, ports.size(), path + " holds the proxy ports of several nodes: " + aggregate);
        Set<String> hosts = new HashSet<>();
        collectProxyHosts(aggregate, hosts);
        assertEquals(Set.of(ports.iterator().next()), hosts, path + ": hosts and port of different nodes: " + aggregate);
    }

    private static void collectProxyHosts(Value value, Set<String> hosts) {
        if (value.value() instanceof String text) {
            Matcher host = PROXY_HOST.matcher(text);
            if (host.matches()) {
                hosts.add(Integer.toString(Integer.parseInt(host.group(1), 16)));
            }
        } else if (value.value() instanceof List<?>) {
            value.elements().forEach(v -> collectProxyHosts(v, hosts));
        }
    }

    /** CLUSTER NODES text with each {@code ip:port@cport[,hostname]} as the codec should write it. */
    private static String expectedNodeLines(String text) {
        String prefix = text.startsWith("txt:") ? "txt:" : "";
        String[] lines = text.substring(prefix.length()).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            String[] fields = lines[i].split(" ");
            String address = fields[1];
            int at = address.indexOf('@');
            int port = Integer.parseInt(address.substring(address.lastIndexOf(':', at) + 1, at));
            String busAndHostname = address.substring(at);
            int comma = busAndHostname.indexOf(',');
            if (comma >= 0 && comma + 1 < busAndHostname.length()) {
                busAndHostname = busAndHostname.substring(0, comma + 1) + proxyHost(port);
            }
            fields[1] = proxyHost(port) + ":" + proxyPort(port) + busAndHostname;
            lines[i] = String.join(" ", fields);
        }
        return prefix + String.join("\n", lines);
    }

    /** Every node was routed by the address the server reported (an empty host meaning the upstream's). */
    private static void assertRoutedAsReported(List<String> calls, String name) {
        assertFalse(calls.isEmpty(), "no node routed");
        for (String call : calls) {
            String[] parts = call.split(" ");
            assertEquals(parts[1] + ":" + parts[2], parts[0], call);
            assertTrue(parts[1].equals("127.0.0.1") || parts[1].equals("node-" + parts[2] + ".redis.example"), call);
            if (name.startsWith("unknown-endpoint-") && !name.contains("nodes") && !name.contains("replicas")) {
                assertEquals("127.0.0.1", parts[1], "a null or empty endpoint is the upstream's host: " + call);
            }
        }
    }

    static byte[] recording(String file) throws IOException {
        try (InputStream in = RecordedRepliesTest.class.getResourceAsStream("/redis/replies/" + file)) {
            if (in == null) {
                throw new IOException("no recording " + file);
            }
            return in.readAllBytes();
        }
    }

    static byte[][] chunks(byte[] bytes, int size) {
        int chunk = Math.max(1, Math.min(size, bytes.length));
        byte[][] chunks = new byte[Math.max(1, (bytes.length + chunk - 1) / chunk)][];
        for (int i = 0; i < chunks.length; i++) {
            int from = i * chunk;
            chunks[i] = Arrays.copyOfRange(bytes, from, Math.min(from + chunk, bytes.length));
        }
        return chunks;
    }

    static byte[] concat(List<byte[]> parts) {
        int length = parts.stream().mapToInt(p -> p.length).sum();
        byte[] all = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }
}
