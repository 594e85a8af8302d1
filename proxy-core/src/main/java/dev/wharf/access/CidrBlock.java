package dev.wharf.access;

import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 network such as {@code 10.244.0.0/16} or {@code ::1/128}. IPv4-mapped IPv6
 * addresses ({@code ::ffff:10.0.0.1}) are treated as the IPv4 address they carry, on both sides.
 */
public final class CidrBlock {
    private final String text;
    private final byte[] network;
    private final int prefix;

    private CidrBlock(String text, byte[] network, int prefix) {
        this.text = text;
        this.network = network;
        this.prefix = prefix;
    }

    /**
     * Parses {@code address/prefix}; a bare address means a single host (/32 or /128).
     *
     * @throws IllegalArgumentException with a message saying what is wrong
     */
    public static CidrBlock parse(String text) {
        String trimmed = text.trim();
        int slash = trimmed.indexOf('/');
        String addressPart = slash < 0 ? trimmed : trimmed.substring(0, slash);
        byte[] address = parseLiteral(addressPart);
        if (address == null) {
            throw new IllegalArgumentException('"' + text + "\" is not a CIDR block (expected: an IP address, optionally with /prefix)");
        }
        int maxPrefix = address.length * 8;
        int prefix = maxPrefix;
        if (slash >= 0) {
            String prefixPart = trimmed.substring(slash + 1);
            try {
                prefix = Integer.parseInt(prefixPart);
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > maxPrefix || !prefixPart.matches("\\d{1,3}")) {
                throw new IllegalArgumentException('"' + text + "\" is not a CIDR block (prefix expected: 0-" + maxPrefix + ")");
            }
        }
        return new CidrBlock(trimmed, mask(address, prefix), prefix);
    }

    /** The address bytes of an IP literal (4 for IPv4 and IPv4-mapped IPv6, 16 for IPv6), or null. */
    static byte[] parseLiteral(String s) {
        // NetUtil parses literals only; InetAddress.getByName would send anything else to DNS.
        // A zone id ("%eth0") means nothing to a source match, so it is not an address here.
        byte[] bytes = s.indexOf('%') >= 0 ? null : NetUtil.createByteArrayFromIpAddressString(s);
        if (bytes == null) {
            return null;
        }
        return bytes.length == 16 && isIpv4Mapped(bytes) ? Arrays.copyOfRange(bytes, 12, 16) : bytes;
    }

    static byte[] normalize(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (address instanceof Inet6Address && isIpv4Mapped(bytes)) {
            return Arrays.copyOfRange(bytes, 12, 16);
        }
        return bytes;
    }

    private static boolean isIpv4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] &= (byte) (0xff << (8 - bits));
        }
        return out;
    }

    public boolean contains(InetAddress address) {
        return containsNormalized(normalize(address));
    }

    boolean containsNormalized(byte[] address) {
        return address.length == network.length && Arrays.equals(mask(address, prefix), network);
    }

    public boolean isIpv4() {
        return network.length == 4;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CidrBlock other && prefix == other.prefix && Arrays.equals(network, other.network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + prefix;
    }

    /** The block as written in the config. */
    @Override
    public String toString() {
        return text;
    }
}
