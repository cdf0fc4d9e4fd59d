package dev.gatehouse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

import org.junit.jupiter.api.Test;

/** {@link Handshake#clientAddress()}: the remote address's IP unless the pipeline set another. */
class HandshakeClientAddressTest {

    @Test
    void defaultsToTheRemoteAddressIp() {
        Handshake h = Handshake.builder("r", "/").remoteAddress(new InetSocketAddress("203.0.113.7", 40000)).build();

        assertEquals("203.0.113.7", h.clientAddress().getHostAddress());
    }

    @Test
    void ipv4MappedRemoteAddressIsIpv4() {
        Handshake h = Handshake.builder("r", "/").remoteAddress(new InetSocketAddress("::ffff:203.0.113.7", 1)).build();

        assertEquals("203.0.113.7", h.clientAddress().getHostAddress());
    }

    @Test
    void unresolvedRemoteAddressIsParsedWithoutALookupOrIsTheUnspecifiedAddress() {
        Handshake literal = Handshake.builder("r", "/")
                .remoteAddress(InetSocketAddress.createUnresolved("2001:db8::1", 1)).build();
        Handshake name = Handshake.builder("r", "/")
                .remoteAddress(InetSocketAddress.createUnresolved("client.example", 1)).build();

        assertEquals("2001:db8:0:0:0:0:0:1", literal.clientAddress().getHostAddress());
        assertEquals("0.0.0.0", name.clientAddress().getHostAddress());
    }

    @Test
    void explicitClientAddressSurvivesCopies() throws UnknownHostException {
        Handshake h = Handshake.builder("r", "/").remoteAddress(new InetSocketAddress("10.0.0.5", 1))
                .clientAddress(InetAddress.getByName("198.51.100.20")).build();

        Handshake copy = h.withHeader("X-Any", "1").withPrincipal(Principal.of("alice"));

        assertEquals("198.51.100.20", copy.clientAddress().getHostAddress());
        assertEquals("10.0.0.5", copy.remoteAddress().getAddress().getHostAddress());
    }

    @Test
    void defaultClientAddressFollowsANewRemoteAddress() {
        Handshake h = Handshake.builder("r", "/").remoteAddress(new InetSocketAddress("10.0.0.5", 1)).build();

        Handshake moved = h.toBuilder().remoteAddress(new InetSocketAddress("10.0.0.6", 1)).build();

        assertEquals("10.0.0.6", moved.clientAddress().getHostAddress());
    }
}
