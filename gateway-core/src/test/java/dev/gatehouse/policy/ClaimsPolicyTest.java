package dev.gatehouse.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/** Required scopes and claims per route. */
class ClaimsPolicyTest {

    private static Handshake with(Set<String> scopes, Map<String, Object> claims) {
        return Handshake.builder("r", "/ws").build()
                .withPrincipal(Principal.builder("alice").scopes(scopes).claims(claims).build());
    }

    private static Verdict.Reject rejected(Policy policy, Handshake h) {
        return assertInstanceOf(Verdict.Reject.class, policy.evaluate(h, Verdict::allow));
    }

    private static void assertAllowed(Policy policy, Handshake h) {
        assertInstanceOf(Verdict.Allow.class, policy.evaluate(h, Verdict::allow));
    }

    @Test
    void principalWithEveryScopeIsAllowed() {
        assertAllowed(ClaimsPolicy.requireScopes("chat:read", "chat:write"),
                with(Set.of("chat:read", "chat:write", "admin"), Map.of()));
    }

    @Test
    void missingScopeIs403WithInsufficientScopeChallenge() {
        Verdict.Reject reject = rejected(ClaimsPolicy.requireScopes("chat:read", "chat:write"),
                with(Set.of("chat:read"), Map.of()));

        assertEquals(403, reject.status());
        assertEquals(Rejection.FORBIDDEN, reject.kind());
        assertEquals("Bearer error=\"insufficient_scope\", scope=\"chat:read chat:write\"",
                reject.headers().get("WWW-Authenticate"));
        assertEquals("missing scope chat:write", reject.message());
    }

    @Test
    void anonymousHandshakeIs401() {
        Verdict.Reject reject = rejected(ClaimsPolicy.requireScopes("chat:read"), Handshake.builder("r", "/ws").build());

        assertEquals(401, reject.status());
        assertEquals(Rejection.UNAUTHORIZED, reject.kind());
    }

    @Test
    void claimWithTheRequiredValueIsAllowed() {
        assertAllowed(ClaimsPolicy.requireClaim("tenant", "acme"), with(Set.of(), Map.of("tenant", "acme")));
    }

    @Test
    void claimWithAnotherValueOrMissingIs403() {
        ClaimsPolicy policy = ClaimsPolicy.requireClaim("tenant", "acme");

        assertEquals(403, rejected(policy, with(Set.of(), Map.of("tenant", "other"))).status());
        assertEquals(403, rejected(policy, with(Set.of(), Map.of())).status());
        assertTrue(rejected(policy, with(Set.of(), Map.of())).headers().isEmpty());
    }

    @Test
    void arrayClaimMatchesWhenItContainsTheValue() {
        ClaimsPolicy policy = ClaimsPolicy.requireClaim("groups", "ops");

        assertAllowed(policy, with(Set.of(), Map.of("groups", List.of("dev", "ops"))));
        rejected(policy, with(Set.of(), Map.of("groups", List.of("dev"))));
    }

    @Test
    void numbersAndBooleansMatchTheirJsonText() {
        ClaimsPolicy policy = ClaimsPolicy.builder().claim("email_verified", "true").claim("level", "3").build();

        assertAllowed(policy, with(Set.of(), Map.of("email_verified", true, "level", 3L)));
        rejected(policy, with(Set.of(), Map.of("email_verified", false, "level", 3L)));
    }

    @Test
    void objectClaimNeverMatchesAValue() {
        rejected(ClaimsPolicy.requireClaim("tenant", "{}"), with(Set.of(), Map.of("tenant", Map.of())));
    }

    @Test
    void presenceOnlyClaimAcceptsAnyValue() {
        ClaimsPolicy policy = ClaimsPolicy.builder().claim("tenant").build();

        assertAllowed(policy, with(Set.of(), Map.of("tenant", "anything")));
        assertEquals("claim tenant is required", rejected(policy, with(Set.of(), Map.of())).message());
    }

    @Test
    void scopesAndClaimsMustAllHold() {
        ClaimsPolicy policy = ClaimsPolicy.builder().scopes("chat:read").claim("tenant", "acme").build();

        assertAllowed(policy, with(Set.of("chat:read"), Map.of("tenant", "acme")));
        rejected(policy, with(Set.of(), Map.of("tenant", "acme")));
        rejected(policy, with(Set.of("chat:read"), Map.of()));
    }

    @Test
    void policyWithoutRequirementsOrWithABadScopeFailsAtBuildTime() {
        assertThrows(IllegalStateException.class, () -> ClaimsPolicy.builder().build());
        assertThrows(IllegalStateException.class, () -> ClaimsPolicy.requireScopes());
        assertEquals("scope: \"a b\" (expected: a non-empty token without spaces or quotes)",
                assertThrows(IllegalArgumentException.class, () -> ClaimsPolicy.requireScopes("a b")).getMessage());
    }
}
