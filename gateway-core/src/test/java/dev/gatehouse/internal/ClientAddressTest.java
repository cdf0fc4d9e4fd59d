package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.policy.Cidr;
import dev.gatehouse.policy.IpPolicy;

/**
 * The client address the pipeline resolves from the TCP peer and {@code X-Forwarded-For} (trusted proxies
 * only), as policies see it and as the backend's forwarded headers carry it.
 */
class ClientAddressTest {

    private static final String PROXY = "10.0.0.5";
    private final AtomicReference<InetAddress> seen = new AtomicReference<>();

    /** A gateway whose only policy records the client address, then the given policies. */
    private DefaultGateway gateway(Gateway.Builder gateway, Policy... policies) {
        Route.Builder r = Route.builder("/chat/{room}").backend(Backend.of("ws://chat.internal:9000/rooms/{room}"))
                .policy((h, chain) -> {
                    seen.set(h.clientAddress());
                    return chain.proceed(h);
                });
        for (Policy p : policies) {
            r.policy(p);
        }
        return DefaultGateway.of(gateway.route(r.build()).build());
    }

    private static Handshake.Builder upgrade(String peer) {
        return Handshake.builder("req-1", "/chat/lobby")
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .host("gw.example.com")
                .remoteAddress(new InetSocketAddress(peer, 40000));
    }

    private static List<String> header(Admission.Admitted admission, String name) {
        List<String> values = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : admission.backendHeaders().entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                values.addAll(e.getValue());
            }
        }
        return values;
    }

    private static Admission.Admitted admitted(Admission admission) {
        return Admissions.admitted(admission);
    }

    private String client() {
        return Cidr.text(seen.get());
    }

    // ---- an untrusted peer ----

    @Test
    void spoofedForwardedForFromAnUntrustedPeerIsIgnoredAndReplaced() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        Admission.Admitted admission = admitted(gateway.admit(upgrade("203.0.113.7")
                .header("X-Forwarded-For", "198.51.100.20").header("Forwarded", "for=198.51.100.20").build()));

        assertEquals("203.0.113.7", client());
        assertEquals(List.of("203.0.113.7"), header(admission, "X-Forwarded-For"));
        assertEquals(List.of("for=203.0.113.7;proto=http;host=\"gw.example.com\""), header(admission, "Forwarded"));
    }

    @Test
    void spoofedForwardedForCannotSlipPastAnIpAllowList() {
        DefaultGateway gateway = gateway(Gateway.builder(), IpPolicy.allow("198.51.100.0/24"));

        Verdict.Reject reject = gateway.admit(upgrade("203.0.113.7").header("X-Forwarded-For", "198.51.100.20").build())
                .rejection().orElseThrow();

        assertEquals(403, reject.status());
    }

    @Test
    void spoofedForwardedForCannotDodgeAnIpDenyList() {
        DefaultGateway gateway = gateway(Gateway.builder(), IpPolicy.deny("203.0.113.0/24"));

        Verdict.Reject reject = gateway.admit(upgrade("203.0.113.7").header("X-Forwarded-For", "198.51.100.20").build())
                .rejection().orElseThrow();

        assertEquals(403, reject.status());
    }

    @Test
    void withoutTrustedProxiesTheClientIsThePeer() {
        DefaultGateway gateway = gateway(Gateway.builder());

        admitted(gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "198.51.100.20").build()));

        assertEquals(PROXY, client());
    }

    // ---- a trusted peer ----

    @Test
    void trustedProxysForwardedForNamesTheClientAndGetsThePeerAppended() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        Admission.Admitted admission = admitted(gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "198.51.100.20").build()));

        assertEquals("198.51.100.20", client());
        assertEquals("198.51.100.20", Cidr.text(admission.handshake().clientAddress()));
        assertEquals(List.of("198.51.100.20, " + PROXY), header(admission, "X-Forwarded-For"));
    }

    @Test
    void clientCannotSpoofThroughATrustedProxyBecauseTheRightMostUntrustedEntryWins() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the address it saw.
        admitted(gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "6.6.6.6, 198.51.100.20").build()));

        assertEquals("198.51.100.20", client());
    }

    @Test
    void trustedHopsInTheChainAreSkipped() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8", "2001:db8:cafe::/48"));

        admitted(gateway.admit(upgrade(PROXY)
                .header("X-Forwarded-For", "6.6.6.6, 198.51.100.20, [2001:db8:cafe::2]:443, 10.9.9.9").build()));

        assertEquals("198.51.100.20", client());
    }

    @Test
    void chainOfTrustedHopsOnlyYieldsTheLeftMost() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        admitted(gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "10.1.1.1, 10.2.2.2").build()));

        assertEquals("10.1.1.1", client());
    }

    @Test
    void everyForwardedForLineCountsInOrder() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        Admission.Admitted admission = admitted(gateway.admit(upgrade(PROXY)
                .addHeader("X-Forwarded-For", "198.51.100.20").addHeader("X-Forwarded-For", "10.2.2.2").build()));

        assertEquals("198.51.100.20", client());
        assertEquals(List.of("198.51.100.20, 10.2.2.2, " + PROXY), header(admission, "X-Forwarded-For"));
    }

    @Test
    void entriesWithPortsAndIpv6AreUnderstood() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        admitted(gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "198.51.100.20:5555").build()));
        assertEquals("198.51.100.20", client());

        admitted(gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "2001:db8::7").build()));
        assertEquals("2001:db8:0:0:0:0:0:7", client());
    }

    @Test
    void unparseableEntryStopsTheWalkAtTheLastTrustedHop() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        admitted(gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "198.51.100.20, unknown, 10.2.2.2").build()));

        assertEquals("10.2.2.2", client());
    }

    @Test
    void trustedPeerWithoutForwardedForIsTheClient() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        Admission.Admitted admission = admitted(gateway.admit(upgrade(PROXY).build()));

        assertEquals(PROXY, client());
        assertEquals(List.of(PROXY), header(admission, "X-Forwarded-For"));
    }

    @Test
    void trustedProxysForwardedHeaderIsExtended() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"));

        Admission.Admitted admission = admitted(gateway.admit(upgrade(PROXY).header("Forwarded", "for=198.51.100.20;proto=https")
                .build()));

        assertEquals(List.of("for=198.51.100.20;proto=https, for=" + PROXY + ";proto=http;host=\"gw.example.com\""),
                header(admission, "Forwarded"));
    }

    @Test
    void ipPolicyDecidesOnTheAddressATrustedProxyReported() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"), IpPolicy.deny("198.51.100.0/24"));

        Verdict.Reject reject = gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "198.51.100.20").build())
                .rejection().orElseThrow();

        assertEquals(403, reject.status());
        admitted(gateway.admit(upgrade(PROXY).header("X-Forwarded-For", "203.0.113.9").build()));
    }

    @Test
    void ipv6TrustedProxyAndIpv4MappedPeerAreRecognised() {
        DefaultGateway v6 = gateway(Gateway.builder().trustedProxies("2001:db8:cafe::/48"));
        admitted(v6.admit(upgrade("2001:db8:cafe::1").header("X-Forwarded-For", "198.51.100.20").build()));
        assertEquals("198.51.100.20", client());

        DefaultGateway mapped = gateway(Gateway.builder().trustedProxies("10.0.0.5"));
        admitted(mapped.admit(upgrade("::ffff:10.0.0.5").header("X-Forwarded-For", "198.51.100.21").build()));
        assertEquals("198.51.100.21", client());
    }

    @Test
    void malformedTrustedProxyFailsAtBuildTime() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gateway.builder().trustedProxies("10.0.0.0/8", "proxy.internal"));

        assertTrue(e.getMessage().startsWith("cidr: proxy.internal"), e.getMessage());
    }
}
