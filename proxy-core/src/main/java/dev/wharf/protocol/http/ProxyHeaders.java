package dev.wharf.protocol.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The header rules of an HTTP proxy (RFC 9110 7.6): what is hop-by-hop, and what a proxy adds. */
final class ProxyHeaders {
    static final String X_FORWARDED_FOR = "x-forwarded-for";
    static final String FORWARDED = "forwarded";
    private ProxyHeaders() {
    }

    /**
     * Removes the hop-by-hop fields: Connection and every field it names, Keep-Alive, TE, Trailer,
     * Upgrade and Proxy-*. Transfer-Encoding stays: the codecs re-frame the body with it on each hop.
     */
    static void stripHopByHop(HttpHeaders headers) {
        for (String connection : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : connection.split(",")) {
                String name = token.trim();
                if (!name.isEmpty() && !name.equalsIgnoreCase(HttpHeaderNames.TRANSFER_ENCODING.toString())) {
                    headers.remove(name);
                }
            }
        }
        headers.remove(HttpHeaderNames.CONNECTION);
        headers.remove(HttpHeaderNames.KEEP_ALIVE);
        headers.remove(HttpHeaderNames.TE);
        headers.remove(HttpHeaderNames.TRAILER);
        headers.remove(HttpHeaderNames.UPGRADE);
        List<String> proxyFields = new ArrayList<>();
        for (var field : headers) {
            if (field.getKey().toLowerCase(Locale.ROOT).startsWith("proxy-")) {
                proxyFields.add(field.getKey());
            }
        }
        proxyFields.forEach(headers::remove);
    }

    /** Appends the client to X-Forwarded-For (one field, comma-separated) and Forwarded (RFC 7239). */
    static void addForwarded(HttpHeaders headers, InetSocketAddress source) {
        String ip = source.getAddress().getHostAddress();
        List<String> xff = new ArrayList<>(headers.getAll(X_FORWARDED_FOR));
        xff.add(ip);
        headers.set(X_FORWARDED_FOR, String.join(", ", xff));
        // An IPv6 node is quoted and bracketed in Forwarded (RFC 7239 section 6).
        String node = source.getAddress() instanceof Inet6Address ? "\"[" + ip + "]\"" : ip;
        List<String> forwarded = new ArrayList<>(headers.getAll(FORWARDED));
        forwarded.add("for=" + node + ";proto=http");
        headers.set(FORWARDED, String.join(", ", forwarded));
    }
}
