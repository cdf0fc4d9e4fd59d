package dev.gatehouse.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Verdict;

class IdentityHeadersPolicyTest {

    private static final Policy.Chain END = Verdict::allow;

    private static Handshake run(Policy policy, Handshake h) {
        return assertInstanceOf(Verdict.Allow.class, policy.evaluate(h, END)).handshake();
    }

    @Test
    void sendsMappedClaimsAsHeadersReplacingAnyValue() {
        Principal p = Principal.builder("alice").claims(Map.of("tenant", "acme", "level", 3, "roles", List.of("a", "b"),
                "address", Map.of("city", "x"))).build();
        Handshake h = Handshake.builder("r", "/x").header("X-Tenant", "forged").build().withPrincipal(p);
        Policy policy = IdentityHeadersPolicy.builder().claim("tenant", "X-Tenant").claim("level", "X-Level")
                .claim("roles", "X-Roles").claim("address", "X-Address").claim("missing", "X-Missing").build();

        Handshake out = run(policy, h);

        assertEquals("acme", out.header("X-Tenant").orElseThrow());
        assertEquals("3", out.header("X-Level").orElseThrow());
        assertEquals("a,b", out.header("X-Roles").orElseThrow());
        assertTrue(out.header("X-Address").isEmpty(), "objects are skipped");
        assertTrue(out.header("X-Missing").isEmpty());
    }

    @Test
    void removesMappedHeadersAClientSentOnAnAnonymousHandshake() {
        Handshake h = Handshake.builder("r", "/x").header("X-Tenant", "client-sent").build();

        assertTrue(run(IdentityHeadersPolicy.claim("tenant", "X-Tenant"), h).header("X-Tenant").isEmpty());
    }

    @Test
    void refusesBadOrHandshakeHeaderNames() {
        assertThrows(IllegalArgumentException.class, () -> IdentityHeadersPolicy.claim("a", "Bad Header"));
        assertThrows(IllegalArgumentException.class, () -> IdentityHeadersPolicy.claim("a", "Sec-WebSocket-Key"));
        assertThrows(IllegalStateException.class, () -> IdentityHeadersPolicy.builder().build());
    }
}
