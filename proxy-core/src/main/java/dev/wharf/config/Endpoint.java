package dev.wharf.config;

import io.netty.util.NetUtil;

/**
 * One upstream address. {@code checkPort} is the port health checks use (0: the endpoint's own port).
 * {@code host} is a literal IP address or a DNS name, without brackets.
 */
public record Endpoint(String host, int port, int checkPort) {
    public Endpoint {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host: empty (expected: an IP address or a DNS name)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
        }
        if (checkPort < 0 || checkPort > 65535) {
            throw new IllegalArgumentException("check-port: " + checkPort + " (expected: 1-65535)");
        }
    }

    /** {@code host:port}, with IPv6 literals in brackets: the form the config uses and logs show. */
    public String address() {
        return NetUtil.toSocketAddressString(host, port);
    }

    @Override
    public String toString() {
        return address();
    }
}
