package dev.wharf.protocol.redis;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The cluster commands whose replies name nodes, each with its hook: it finds every node address
 * in the parsed reply and tells the {@link ReplyRewrite} which bytes hold it. A reply of another
 * shape (an error, a +QUEUED inside MULTI) yields nothing and passes unchanged.
 */
enum Topology {
    /**
     * An array of slot ranges {@code [from, to, node...]}, each node {@code [endpoint, port, id,
     * metadata]}; the endpoint is an IP, a hostname, {@code ?} or null, the metadata a map (a flat
     * array in RESP2) that may hold {@code ip} and {@code hostname}.
     */
    SLOTS("cluster_slots") {
        @Override
        void find(RespValue reply, ByteBuf buf, ReplyRewrite rewrite) {
            for (RespValue range : children(reply)) {
                List<RespValue> fields = children(range);
                for (int i = 2; i < fields.size(); i++) {
                    List<RespValue> entry = children(fields.get(i));
                    if (entry.size() < 2 || !(entry.get(0).isString() || entry.get(0).isNull)) {
                        continue;
                    }
                    RespValue endpoint = entry.get(0);
                    String node = rewrite.node(endpoint.isNull ? "" : endpoint.text(buf), entry.get(1).integer(buf));
                    if (node == null) {
                        continue;
                    }
                    rewrite.host(node, endpoint);
                    rewrite.port(node, entry.get(1));
                    List<RespValue> metadata = entry.size() > 3 ? children(entry.get(3)) : List.of();
                    for (int k = 0; k + 1 < metadata.size(); k += 2) {
                        if ((metadata.get(k).is(buf, "ip") || metadata.get(k).is(buf, "hostname")) && metadata.get(k + 1).isString()) {
                            rewrite.host(node, metadata.get(k + 1));
                        }
                    }
                }
            }
        }
    },
    /**
     * An array of shards, each a map (a flat array in RESP2) whose {@code nodes} holds node maps
     * with {@code ip}, {@code endpoint}, {@code hostname}, {@code port} and {@code tls-port}. The
     * node is named by its endpoint (the preferred one, as MOVED names it); {@code port} and
     * {@code tls-port} are routed each by its own value; the host fields take the proxy host of
     * {@code port} (of {@code tls-port} when there is no plain port).
     */
    SHARDS("cluster_shards") {
        @Override
        void find(RespValue reply, ByteBuf buf, ReplyRewrite rewrite) {
            for (RespValue shard : children(reply)) {
                List<RespValue> shardFields = children(shard);
                for (int k = 0; k + 1 < shardFields.size(); k += 2) {
                    if (shardFields.get(k).is(buf, "nodes")) {
                        for (RespValue node : children(shardFields.get(k + 1))) {
                            shardNode(children(node), buf, rewrite);
                        }
                    }
                }
            }
        }

        private void shardNode(List<RespValue> fields, ByteBuf buf, ReplyRewrite rewrite) {
            RespValue endpoint = value(fields, buf, "endpoint");
            RespValue ip = value(fields, buf, "ip");
            RespValue port = value(fields, buf, "port");
            RespValue tlsPort = value(fields, buf, "tls-port");
            RespValue named = endpoint != null ? endpoint : ip;
            if (named == null || !(named.isString() || named.isNull)) {
                return;
            }
            String host = named.isNull ? "" : named.text(buf);
            String plain = port == null ? null : rewrite.node(host, port.integer(buf));
            String tls = tlsPort == null ? null : rewrite.node(host, tlsPort.integer(buf));
            String primary = plain != null ? plain : tls;
            if (primary == null) {
                return;
            }
            for (int k = 0; k + 1 < fields.size(); k += 2) {
                RespValue key = fields.get(k);
                RespValue value = fields.get(k + 1);
                if ((key.is(buf, "ip") || key.is(buf, "endpoint") || key.is(buf, "hostname")) && (value.isString() || value.isNull)) {
                    rewrite.host(primary, value);
                } else if (key.is(buf, "port") && plain != null) {
                    rewrite.port(plain, value);
                } else if (key.is(buf, "tls-port") && tls != null) {
                    rewrite.port(tls, value);
                }
            }
        }
    },
    /** A bulk or verbatim string of lines {@code id ip:port@cport[,hostname[,aux=value...]] flags ...}. */
    NODES("cluster_nodes") {
        @Override
        void find(RespValue reply, ByteBuf buf, ReplyRewrite rewrite) {
            nodeLines(reply, buf, rewrite);
        }
    },
    /** CLUSTER REPLICAS and CLUSTER SLAVES: an array of strings, each a line as CLUSTER NODES writes it. */
    REPLICAS("cluster_replicas") {
        @Override
        void find(RespValue reply, ByteBuf buf, ReplyRewrite rewrite) {
            if (reply.isString()) {
                nodeLines(reply, buf, rewrite);
            }
            for (RespValue line : children(reply)) {
                nodeLines(line, buf, rewrite);
            }
        }
    };

    /** The {@code command} tag of {@code wharf_redis_rewrites_total}. */
    final String command;
    /** For messages: e.g. CLUSTER SLOTS. */
    final String title;

    Topology(String command) {
        this.command = command;
        this.title = command.replace('_', ' ').toUpperCase(Locale.ROOT);
    }

    /** Tells {@code rewrite} where the node addresses of {@code reply} (parsed from {@code buf}) are. */
    abstract void find(RespValue reply, ByteBuf buf, ReplyRewrite rewrite);

    private static List<RespValue> children(RespValue value) {
        return value.children == null ? List.of() : value.children;
    }

    /** The value of {@code key} in a map or a flat key/value array, or null. */
    private static RespValue value(List<RespValue> fields, ByteBuf buf, String key) {
        for (int k = 0; k + 1 < fields.size(); k += 2) {
            if (fields.get(k).is(buf, key)) {
                return fields.get(k + 1);
            }
        }
        return null;
    }

    /** CLUSTER NODES text: {@code ip:port} becomes the proxy's {@code host:port}, a hostname the proxy host; {@code :0@0} stays. */
    private static void nodeLines(RespValue string, ByteBuf buf, ReplyRewrite rewrite) {
        if (!(string.type == '$' || string.type == '=') || string.isNull) {
            return;
        }
        int textStart = string.payloadStart + (string.type == '=' ? 4 : 0); // a verbatim string's "txt:"
        List<ReplyRewrite.TextEdit> edits = new ArrayList<>();
        for (int line = textStart; line < string.payloadEnd; ) {
            int lf = buf.indexOf(line, string.payloadEnd, (byte) '\n');
            int lineEnd = lf < 0 ? string.payloadEnd : lf;
            nodeLine(buf, line, lineEnd, rewrite, edits);
            line = lineEnd + 1;
        }
        if (!edits.isEmpty()) {
            rewrite.add(new ReplyRewrite.StringEdit(string.start, string.end, string.type, string.payloadStart, string.payloadEnd, edits));
        }
    }

    private static void nodeLine(ByteBuf buf, int from, int to, ReplyRewrite rewrite, List<ReplyRewrite.TextEdit> edits) {
        int space = buf.indexOf(from, to, (byte) ' ');
        if (space < 0) {
            return;
        }
        int fieldStart = space + 1;
        int fieldEnd = buf.indexOf(fieldStart, to, (byte) ' ');
        String field = buf.toString(fieldStart, (fieldEnd < 0 ? to : fieldEnd) - fieldStart, ISO_8859_1);
        int at = field.indexOf('@');
        int comma = field.indexOf(',', Math.max(at, 0));
        int addressEnd = at >= 0 ? at : comma >= 0 ? comma : field.length();
        int colon = field.lastIndexOf(':', addressEnd - 1);
        if (colon < 0) {
            return;
        }
        String node = rewrite.node(field.substring(0, colon), ReplyRewrite.port(field.substring(colon + 1, addressEnd)));
        if (node == null) {
            return;
        }
        edits.add(new ReplyRewrite.TextEdit(fieldStart, fieldStart + addressEnd, node, true));
        if (comma >= 0) {
            int hostnameEnd = field.indexOf(',', comma + 1);
            String hostname = field.substring(comma + 1, hostnameEnd < 0 ? field.length() : hostnameEnd);
            if (!hostname.isEmpty() && hostname.indexOf('=') < 0) {
                edits.add(new ReplyRewrite.TextEdit(fieldStart + comma + 1, fieldStart + comma + 1 + hostname.length(), node, false));
            }
        }
    }
}
