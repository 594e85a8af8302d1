package dev.wharf.config;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The {@code http} section of a {@code protocol = http} listener.
 *
 * @param hostHeader        the Host sent upstream; "" keeps the client's
 * @param retryMethods      methods retried on another endpoint besides the idempotent ones
 * @param authorizationFile a file holding {@code user:password} sent upstream as Basic authorization, or
 *                          null for none; only its name is kept here, the content is read when used
 * @param responseTimeout   how long the upstream may take, after the whole request, to send a response head
 * @param maxInitialLine    the longest request line, in bytes
 * @param maxHeaderSize     the largest request header block, in bytes
 * @param maxHeaders        the most request header fields
 * @param poolIdleTimeout   how long an idle upstream connection is kept for the next request
 * @param maxIdlePerEndpoint the most idle upstream connections kept per endpoint and event loop
 */
public record HttpSettings(String hostHeader, List<String> retryMethods, String authorizationFile,
                           Duration responseTimeout, int maxInitialLine, int maxHeaderSize, int maxHeaders,
                           Duration poolIdleTimeout, int maxIdlePerEndpoint) {
    /** Retried after a failed connect whatever retry-methods says: RFC 9110's idempotent methods. */
    public static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

    public HttpSettings {
        retryMethods = List.copyOf(retryMethods);
    }

    /** Whether a request with {@code method} may be sent again to another endpoint when nothing of it was written. */
    public boolean retries(String method) {
        // Method names are case-sensitive (RFC 9110 9.1): "get" is not GET.
        return IDEMPOTENT.contains(method) || retryMethods.contains(method);
    }
}
