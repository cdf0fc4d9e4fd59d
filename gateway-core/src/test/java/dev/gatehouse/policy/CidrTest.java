package dev.gatehouse.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CIDR parsing and matching on address bytes, and IP literal parsing without lookups. */
class CidrTest {

    private static InetAddress ip(String literal) {
        return Cidr.parseAddress(literal).orElseThrow(() -> new AssertionError("not an IP literal: " + literal));
    }

    @Test
    void ipv4NetworkContainsItsAddressesOnly() {
        Cidr net = Cidr.parse("10.1.0.0/16");

        assertTrue(net.contains(ip("10.1.0.0")));
        assertTrue(net.contains(ip("10.1.255.255")));
        assertFalse(net.contains(ip("10.2.0.0")));
        assertFalse(net.contains(ip("10.0.255.255")));
    }

    @Test
    void prefixThatIsNotAMultipleOfEightComparesTheLeadingBitsOfThePartialByte() {
        Cidr net = Cidr.parse("192.0.2.64/27");

        assertTrue(net.contains(ip("192.0.2.64")));
        assertTrue(net.contains(ip("192.0.2.95")));
        assertFalse(net.contains(ip("192.0.2.63")));
        assertFalse(net.contains(ip("192.0.2.96")));
    }

    @Test
    void hostBitsOfTheNetworkAddressAreIgnored() {
        assertTrue(Cidr.parse("192.0.2.77/24").contains(ip("192.0.2.1")));
    }

    @Test
    void singleAddressMatchesOnlyItself() {
        Cidr one = Cidr.parse("192.0.2.7");

        assertEquals(32, one.prefix());
        assertTrue(one.contains(ip("192.0.2.7")));
        assertFalse(one.contains(ip("192.0.2.8")));
    }

    @Test
    void zeroPrefixMatchesEveryAddressOfItsFamilyOnly() {
        assertTrue(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.9")));
        assertFalse(Cidr.parse("0.0.0.0/0").contains(ip("2001:db8::1")));
        assertTrue(Cidr.parse("::/0").contains(ip("2001:db8::1")));
        assertFalse(Cidr.parse("::/0").contains(ip("203.0.113.9")));
    }

    @Test
    void ipv6NetworkContainsItsAddressesOnly() {
        Cidr net = Cidr.parse("2001:db8:42::/48");

        assertTrue(net.isIpv6());
        assertTrue(net.contains(ip("2001:db8:42::1")));
        assertTrue(net.contains(ip("2001:db8:42:ffff:ffff:ffff:ffff:ffff")));
        assertFalse(net.contains(ip("2001:db8:43::1")));
    }

    @Test
    void ipv6PrefixInsideAGroupIsExact() {
        Cidr net = Cidr.parse("2001:db8::/29");

        assertTrue(net.contains(ip("2001:0dbf::1")));
        assertFalse(net.contains(ip("2001:0dc0::1")));
    }

    @Test
    void ipv4MappedAddressIsMatchedAsIpv4() {
        assertTrue(Cidr.parse("192.0.2.0/24").contains(ip("::ffff:192.0.2.9")));
        assertTrue(Cidr.parse("::ffff:192.0.2.0/120").contains(ip("192.0.2.9")));
        assertFalse(Cidr.parse("::ffff:192.0.2.0/120").contains(ip("192.0.3.9")));
    }

    @Test
    void mappedIpv6AddressIsNormalizedToIpv4() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        mapped[12] = (byte) 192;
        mapped[15] = 7;
        InetAddress v6 = Inet6Address.getByAddress(null, mapped, -1);

        InetAddress normal = Cidr.normalize(v6);

        assertInstanceOf(Inet4Address.class, normal);
        assertEquals("192.0.0.7", Cidr.text(normal));
        assertTrue(Cidr.parse("192.0.0.0/24").contains(v6));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10.0.0.0/", "10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "256.0.0.1",
        "10.0.0.1/x", "example.com", "10.0.0.1/-1", "::ffff:10.0.0.0/64", "fe80::1%eth0"})
    void malformedCidrIsRejectedNamingIt(String bad) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cidr.parse(bad));

        assertTrue(e.getMessage().startsWith("cidr: " + bad), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "example.com", "1.2.3", "1.2.3.4.5", "01.2.3.4", "999.1.1.1", "1.2.3.4 x",
        "12345", "::g", "1:2:3:4:5:6:7:8:9", "fe80::1%1", "[::1]", "unknown", "1.2.3.4:80"})
    void nonLiteralsAreNotAddresses(String text) {
        assertTrue(Cidr.parseAddress(text).isEmpty(), text);
    }

    @Test
    void literalsParseWithoutLookup() {
        assertEquals("192.0.2.7", Cidr.text(ip("192.0.2.7")));
        assertEquals("2001:db8:0:0:0:0:0:1", Cidr.text(ip("2001:db8::1")));
        assertEquals("192.0.2.7", Cidr.text(ip("::ffff:192.0.2.7")));
        assertEquals("0:0:0:0:0:0:0:1", Cidr.text(ip("::1")));
    }

    @Test
    void socketAddressWithoutAnAddressYieldsItsLiteralOrTheUnspecifiedAddress() {
        assertEquals("198.51.100.4", Cidr.text(Cidr.addressOf(InetSocketAddress.createUnresolved("198.51.100.4", 1))));
        assertEquals("0.0.0.0", Cidr.text(Cidr.addressOf(InetSocketAddress.createUnresolved("some.host", 1))));
    }
}
