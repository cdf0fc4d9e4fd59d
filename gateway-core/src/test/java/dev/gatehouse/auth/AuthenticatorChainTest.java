package dev.gatehouse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

class AuthenticatorChainTest {

    private static final Authenticator KEYS = ApiKeyAuthenticator.of("k-123", "ops");
    private static final Authenticator USER_HEADER = h -> h.header("X-User")
            .map(u -> Verdict.allow(h.withPrincipal(Principal.of(u))))
            .orElseGet(() -> Verdict.reject(Rejection.CREDENTIAL_MISSING, "X-User required").withHeader("WWW-Authenticate", "User"));

    private static Handshake.Builder request() {
        return Handshake.builder("r", "/x");
    }

    @Test
    void theFirstAuthenticatorThatFindsItsCredentialDecides() {
        Authenticator chain = Authenticator.firstOf(USER_HEADER, KEYS);

        Verdict byKey = chain.authenticate(request().header("X-API-Key", "k-123").build());
        Verdict byUser = chain.authenticate(request().header("X-User", "ann").header("X-API-Key", "wrong").build());

        assertEquals("ops", assertInstanceOf(Verdict.Allow.class, byKey).handshake().principal().orElseThrow().subject());
        assertEquals("ann", assertInstanceOf(Verdict.Allow.class, byUser).handshake().principal().orElseThrow().subject());
    }

    @Test
    void anInvalidCredentialIsRejectedWithoutTryingTheNext() {
        Verdict v = Authenticator.firstOf(KEYS, USER_HEADER)
                .authenticate(request().header("X-API-Key", "wrong").header("X-User", "ann").build());

        assertEquals(Rejection.UNAUTHORIZED, assertInstanceOf(Verdict.Reject.class, v).kind());
    }

    @Test
    void noCredentialAtAllIsA401WithTheFirstChallenge() {
        Verdict.Reject r = assertInstanceOf(Verdict.Reject.class,
                Authenticator.firstOf(USER_HEADER, KEYS).authenticate(request().build()));

        assertEquals(401, r.status());
        assertEquals(Rejection.CREDENTIAL_MISSING, r.kind());
        assertEquals("User", r.headers().get("WWW-Authenticate"));
    }

    @Test
    void orAnonymousLetsClientsWithoutCredentialsInButStillChecksPresentOnes() {
        Authenticator optional = KEYS.orAnonymous();

        Handshake anonymous = assertInstanceOf(Verdict.Allow.class, optional.authenticate(request().build())).handshake();
        Verdict wrong = optional.authenticate(request().header("X-API-Key", "nope").build());

        assertTrue(anonymous.principal().isEmpty());
        assertEquals(Rejection.UNAUTHORIZED, assertInstanceOf(Verdict.Reject.class, wrong).kind());
    }

    @Test
    void anEmptyChainIsRefused() {
        assertThrows(IllegalArgumentException.class, Authenticator::firstOf);
    }
}
