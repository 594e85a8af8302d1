package dev.wharf.protocol;

import io.netty.util.NetUtil;

/** An address on the proxy that clients are told to use for an upstream node. */
public record ProxyAddress(String host, int port) {
    @Override
    public String toString() {
        return NetUtil.toSocketAddressString(host, port);
    }
}
