package dev.wharf.it;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.netty.buffer.Unpooled;
import java.util.List;

/** PROXY protocol headers as a real proxy sends them, encoded by Netty's HAProxyMessageEncoder. */
public final class ProxyHeaders {
    /** The v2 signature, for hand-made malformed headers. */
    public static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private ProxyHeaders() {
    }

    /** "PROXY TCP4 source destination sourcePort destinationPort\r\n". */
    public static byte[] v1(String source, int sourcePort) {
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V1, HAProxyCommand.PROXY, protocol(source),
                source, destination(source), sourcePort, 15432));
    }

    /** A v2 PROXY header for a TCP connection from {@code source}. */
    public static byte[] v2(String source, int sourcePort) {
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, protocol(source),
                source, destination(source), sourcePort, 15432));
    }

    /** A v2 PROXY header carrying one TLV of {@code tlvBytes} value bytes. */
    public static byte[] v2WithTlv(String source, int sourcePort, int tlvBytes) {
        HAProxyTLV tlv = new HAProxyTLV(HAProxyTLV.Type.PP2_TYPE_AUTHORITY, Unpooled.wrappedBuffer(new byte[tlvBytes]));
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, protocol(source),
                source, destination(source), sourcePort, 15432, List.of(tlv)));
    }

    /** A v2 LOCAL header: the proxy's own connection, such as a health check. */
    public static byte[] v2Local() {
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0));
    }

    /** A v2 header for UDP over IPv4, which a TCP listener has no use for. */
    public static byte[] v2Udp(String source, int sourcePort) {
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, HAProxyProxiedProtocol.UDP4,
                source, "10.9.9.9", sourcePort, 15432));
    }

    /** "PROXY UNKNOWN\r\n": v1's way of saying the proxy does not know (or will not tell) the source. */
    public static byte[] v1Unknown() {
        // By hand: the encoder needs addresses even for UNKNOWN.
        return "PROXY UNKNOWN\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    public static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }

    private static HAProxyProxiedProtocol protocol(String source) {
        return source.indexOf(':') >= 0 ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4;
    }

    private static String destination(String source) {
        return source.indexOf(':') >= 0 ? "2001:db8::1" : "10.9.9.9";
    }

    private static byte[] encode(HAProxyMessage message) {
        EmbeddedChannel channel = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        try {
            channel.writeOutbound(message);
            ByteBuf encoded = channel.readOutbound();
            try {
                return ByteBufUtil.getBytes(encoded);
            } finally {
                encoded.release();
            }
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
