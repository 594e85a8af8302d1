package dev.wharf.protocol;

/** An address on the proxy that clients are told to use for an upstream node. */
public record ProxyAddress(String host, int port) {
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
