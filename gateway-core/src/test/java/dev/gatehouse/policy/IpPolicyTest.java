package dev.gatehouse.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/** Allow and deny lists of client addresses. */
class IpPolicyTest {

    private static Handshake from(String ip) {
        return Handshake.builder("r1", "/ws").remoteAddress(new InetSocketAddress(ip, 40000)).build();
    }

    private static void assertAllowed(Policy policy, String ip) {
        assertInstanceOf(Verdict.Allow.class, policy.evaluate(from(ip), Verdict::allow), () -> ip + " was rejected");
    }

    private static Verdict.Reject assertForbidden(Policy policy, String ip) {
        Verdict.Reject reject = assertInstanceOf(Verdict.Reject.class, policy.evaluate(from(ip), Verdict::allow),
                () -> ip + " was allowed");
        assertEquals(403, reject.status());
        assertEquals(Rejection.FORBIDDEN, reject.kind());
        return reject;
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.0.2.1", "192.0.2.254", "10.200.3.4", "2001:db8:42::7", "::ffff:192.0.2.9"})
    void allowListAdmitsItsNetworks(String ip) {
        assertAllowed(IpPolicy.allow("192.0.2.0/24", "10.0.0.0/8", "2001:db8:42::/48"), ip);
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.0.3.1", "11.0.0.1", "2001:db8:43::7", "::1", "127.0.0.1"})
    void allowListRefusesEveryoneElse(String ip) {
        assertForbidden(IpPolicy.allow("192.0.2.0/24", "10.0.0.0/8", "2001:db8:42::/48"), ip);
    }

    @Test
    void denyListRefusesItsNetworksAndAdmitsEveryoneElse() {
        IpPolicy policy = IpPolicy.deny("198.51.100.0/24", "2001:db8:bad::/48");

        assertForbidden(policy, "198.51.100.20");
        assertForbidden(policy, "2001:db8:bad::1");
        assertAllowed(policy, "198.51.101.20");
        assertAllowed(policy, "2001:db8:600d::1");
    }

    @Test
    void denyEntriesCarveExceptionsOutOfAllowEntries() {
        IpPolicy policy = IpPolicy.builder().allow("10.0.0.0/8").deny("10.6.6.0/24").build();

        assertAllowed(policy, "10.6.7.1");
        assertForbidden(policy, "10.6.6.1");
        assertForbidden(policy, "11.0.0.1");
    }

    @Test
    void singleAddressEntryMatchesThatAddressOnly() {
        IpPolicy policy = IpPolicy.allow("203.0.113.7", "2001:db8::1");

        assertAllowed(policy, "203.0.113.7");
        assertAllowed(policy, "2001:db8:0:0:0:0:0:1");
        assertForbidden(policy, "203.0.113.8");
    }

    @Test
    void decidesOnTheClientAddressNotTheProxyAddress() throws UnknownHostException {
        Handshake viaProxy = Handshake.builder("r1", "/ws").remoteAddress(new InetSocketAddress("10.0.0.5", 40000))
                .clientAddress(InetAddress.getByName("198.51.100.20")).build();

        Verdict v = IpPolicy.deny("198.51.100.0/24").evaluate(viaProxy, Verdict::allow);

        assertInstanceOf(Verdict.Reject.class, v);
    }

    @Test
    void rejectionNamesTheClientAddress() {
        Verdict.Reject reject = assertForbidden(IpPolicy.deny("198.51.100.0/24"), "198.51.100.20");

        assertTrue(reject.message().contains("198.51.100.20"), reject.message());
    }

    @Test
    void malformedEntryFailsAtBuildTime() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpPolicy.allow("10.0.0.0/33"));

        assertEquals("cidr: 10.0.0.0/33 (expected: a prefix of 0-32)", e.getMessage());
    }

    @Test
    void policyWithoutEntriesFailsAtBuildTime() {
        assertThrows(IllegalStateException.class, () -> IpPolicy.allow());
        assertThrows(IllegalStateException.class, () -> IpPolicy.builder().build());
    }
}
