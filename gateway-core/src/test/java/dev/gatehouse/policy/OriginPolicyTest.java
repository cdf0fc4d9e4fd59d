package dev.gatehouse.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/** The Origin allow-list against cross-site WebSocket hijacking. */
class OriginPolicyTest {

    private static final OriginPolicy POLICY = OriginPolicy.allow(
            "https://app.example.com", "https://*.apps.example.com", "http://localhost:8080");

    private static Verdict evaluate(Policy policy, String origin) {
        Handshake.Builder b = Handshake.builder("r1", "/ws");
        if (origin != null) {
            b.header("Origin", origin);
        }
        return policy.evaluate(b.build(), Verdict::allow);
    }

    private static void assertAllowed(Policy policy, String origin) {
        assertInstanceOf(Verdict.Allow.class, evaluate(policy, origin), () -> origin + " was rejected");
    }

    private static void assertForbidden(Policy policy, String origin) {
        Verdict v = evaluate(policy, origin);
        Verdict.Reject reject = assertInstanceOf(Verdict.Reject.class, v, () -> origin + " was allowed");
        assertEquals(403, reject.status());
        assertEquals(Rejection.FORBIDDEN, reject.kind());
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://app.example.com", "HTTPS://APP.EXAMPLE.COM", "https://app.example.com:443",
            "https://app.example.com/", "http://localhost:8080"})
    void listedOriginIsAllowed(String origin) {
        assertAllowed(POLICY, origin);
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://eu.apps.example.com", "https://a.b.apps.example.com"})
    void wildcardAllowsSubdomains(String origin) {
        assertAllowed(POLICY, origin);
    }

    @Test
    void wildcardDoesNotAllowTheApexOrLookalikes() {
        assertForbidden(POLICY, "https://apps.example.com");
        assertForbidden(POLICY, "https://evilapps.example.com");
        assertForbidden(POLICY, "https://apps.example.com.evil.org");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://app.example.com", "https://app.example.com:8443", "http://localhost",
            "http://localhost:8081", "https://localhost:8080", "https://other.example.com", "https://example.com"})
    void schemeHostAndPortMustAllMatch(String origin) {
        assertForbidden(POLICY, origin);
    }

    @Test
    void explicitDefaultPortInThePatternMatchesAnOriginWithout() {
        assertAllowed(OriginPolicy.allow("http://site.example:80"), "http://site.example");
        assertAllowed(OriginPolicy.allow("https://*.site.example:443"), "https://a.site.example");
    }

    @Test
    void missingOriginIsAllowedUnlessStrict() {
        assertAllowed(POLICY, null);
        assertAllowed(OriginPolicy.builder().allow("https://app.example.com").allowMissing(true).build(), null);
        assertForbidden(OriginPolicy.builder().allow("https://app.example.com").allowMissing(false).build(), null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "", "app.example.com", "https://app.example.com/path", "https://user@app.example.com",
            "https://app.example.com?x=1", "not a url"})
    void nullOrMalformedOriginIsRejected(String origin) {
        assertForbidden(POLICY, origin);
    }

    @Test
    void allowedOriginProceedsWithTheHandshakeUnchanged() {
        Handshake h = Handshake.builder("r1", "/ws").header("Origin", "https://app.example.com").build();
        Verdict marker = Verdict.reject(Rejection.RATE_LIMITED, "from the rest of the chain");

        assertEquals(marker, POLICY.evaluate(h, next -> {
            assertEquals(h.headers(), next.headers());
            return marker;
        }));
    }

    @ParameterizedTest
    @ValueSource(strings = {"app.example.com", "https://", "https://app.example.com/path", "*.example.com",
            "https://app.*.com", "https://*.*.example.com", "null"})
    void malformedPatternIsRejectedAtBuild(String pattern) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OriginPolicy.allow(pattern));

        assertTrue(e.getMessage().contains(pattern), e.getMessage());
    }

    @Test
    void policyWithoutOriginsIsRejectedAtBuild() {
        assertThrows(IllegalStateException.class, () -> OriginPolicy.builder().build());
    }

    @Test
    void toStringListsTheOrigins() {
        assertTrue(POLICY.toString().contains("https://*.apps.example.com"), POLICY.toString());
    }
}
