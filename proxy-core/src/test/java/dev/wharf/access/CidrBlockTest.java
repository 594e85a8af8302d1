package dev.wharf.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;

class CidrBlockTest {
    private static final String NOT_AN_ADDRESS = "\" is not a CIDR block (expected: an IP address, optionally with /prefix)";

    @Test
    void ipv4BlockContainsItsRangeOnly() {
        // given
        CidrBlock block = CidrBlock.parse("10.244.0.0/16");

        // then
        assertTrue(block.contains(ip("10.244.0.0")));
        assertTrue(block.contains(ip("10.244.255.255")));
        assertFalse(block.contains(ip("10.245.0.0")));
        assertFalse(block.contains(ip("10.243.255.255")));
        assertTrue(block.isIpv4());
    }

    @Test
    void hostBitsOfTheNetworkAreIgnored() {
        // given
        CidrBlock block = CidrBlock.parse("10.244.7.9/16");

        // then
        assertTrue(block.contains(ip("10.244.200.1")));
        assertEquals(CidrBlock.parse("10.244.0.0/16"), block);
        assertEquals("10.244.7.9/16", block.toString());
    }

    @Test
    void ipv6BlockContainsItsRangeOnly() {
        // given
        CidrBlock block = CidrBlock.parse("2001:db8:abcd::/48");

        // then
        assertTrue(block.contains(ip("2001:db8:abcd::1")));
        assertTrue(block.contains(ip("2001:db8:abcd:ffff:ffff:ffff:ffff:ffff")));
        assertFalse(block.contains(ip("2001:db8:abce::")));
        assertFalse(block.isIpv4());
    }

    @Test
    void prefixNotOnAByteBoundaryIsHonoured() {
        // given
        CidrBlock block = CidrBlock.parse("192.168.0.0/20");

        // then
        assertTrue(block.contains(ip("192.168.15.255")));
        assertFalse(block.contains(ip("192.168.16.0")));
    }

    @Test
    void slashZeroContainsEveryAddressOfItsFamily() {
        // given
        CidrBlock anyIpv4 = CidrBlock.parse("0.0.0.0/0");
        CidrBlock anyIpv6 = CidrBlock.parse("::/0");

        // then
        assertTrue(anyIpv4.contains(ip("1.2.3.4")));
        assertTrue(anyIpv4.contains(ip("255.255.255.255")));
        assertTrue(anyIpv6.contains(ip("::1")));
        assertTrue(anyIpv6.contains(ip("fe80::1")));
    }

    @Test
    void familiesDoNotMix() {
        // then
        assertFalse(CidrBlock.parse("0.0.0.0/0").contains(ip("::1")));
        assertFalse(CidrBlock.parse("::/0").contains(ip("10.0.0.1")));
    }

    @Test
    void bareAddressIsASingleHost() {
        // given
        CidrBlock ipv4 = CidrBlock.parse("10.0.0.5");
        CidrBlock ipv6 = CidrBlock.parse("::1");

        // then
        assertEquals(CidrBlock.parse("10.0.0.5/32"), ipv4);
        assertTrue(ipv4.contains(ip("10.0.0.5")));
        assertFalse(ipv4.contains(ip("10.0.0.6")));
        assertEquals(CidrBlock.parse("::1/128"), ipv6);
        assertTrue(ipv6.contains(ip("::1")));
        assertFalse(ipv6.contains(ip("::2")));
    }

    @Test
    void ipv4MappedIpv6SourceIsMatchedAsIpv4() {
        // given
        CidrBlock block = CidrBlock.parse("10.0.0.0/8");

        // then
        assertTrue(block.contains(ip("::ffff:10.1.2.3")));
        assertTrue(block.contains(mapped(10, 1, 2, 3)));
        assertFalse(block.contains(mapped(11, 1, 2, 3)));
        assertFalse(CidrBlock.parse("::/0").contains(mapped(10, 1, 2, 3)));
    }

    @Test
    void ipv4MappedBareAddressIsAnIpv4Host() {
        // given
        CidrBlock block = CidrBlock.parse("::ffff:10.1.2.3");

        // then
        assertTrue(block.isIpv4());
        assertEquals(CidrBlock.parse("10.1.2.3/32"), block);
        assertTrue(block.contains(ip("10.1.2.3")));
    }

    @Test
    void surroundingWhitespaceIsIgnored() {
        // then
        assertEquals(CidrBlock.parse("10.0.0.0/8"), CidrBlock.parse(" 10.0.0.0/8 "));
    }

    @Test
    void prefixOutOfRangeIsRejected() {
        // then
        assertRejected("10.0.0.0/33", "\"10.0.0.0/33\" is not a CIDR block (prefix expected: 0-32)");
        assertRejected("10.0.0.0/-1", "\"10.0.0.0/-1\" is not a CIDR block (prefix expected: 0-32)");
        assertRejected("10.0.0.0/", "\"10.0.0.0/\" is not a CIDR block (prefix expected: 0-32)");
        assertRejected("10.0.0.0/+8", "\"10.0.0.0/+8\" is not a CIDR block (prefix expected: 0-32)");
        assertRejected("::1/129", "\"::1/129\" is not a CIDR block (prefix expected: 0-128)");
    }

    @Test
    void nonAddressesAreRejected() {
        // then
        for (String text : List.of("hello", "10.0.0/8", "10.0.0.256", "1.2.3.4.5", "", "/8", "::g", "fe80::1%eth0")) {
            assertRejected(text, '"' + text + NOT_AN_ADDRESS);
        }
    }

    @Test
    void dnsNamesAreRejectedRatherThanResolved() {
        // "localhost" resolves from /etc/hosts, so it is only rejected if no lookup happens.
        for (String name : List.of("localhost", "localhost/8", "db.example", "example.com/24")) {
            assertRejected(name, '"' + name + NOT_AN_ADDRESS);
        }
    }

    private static void assertRejected(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CidrBlock.parse(text), text);
        assertEquals(message, e.getMessage());
    }

    /** A real Inet6Address, as a dual-stack socket may report: the JDK turns a mapped literal into IPv4. */
    private static InetAddress mapped(int a, int b, int c, int d) {
        byte[] bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) a, (byte) b, (byte) c, (byte) d};
        try {
            return Inet6Address.getByAddress(null, bytes, -1);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(literal, e);
        }
    }
}
