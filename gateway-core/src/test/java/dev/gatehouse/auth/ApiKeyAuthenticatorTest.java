package dev.gatehouse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/** API keys from a header or a query parameter, mapped to consumers. */
class ApiKeyAuthenticatorTest {

    private static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("mobile-secret", "mobile-app")
            .key("web-secret", "web-app")
            .build();

    private static Handshake.Builder request() {
        return Handshake.builder("r1", "/ws").header("Upgrade", "websocket");
    }

    private static Handshake allowed(Verdict verdict) {
        return assertInstanceOf(Verdict.Allow.class, verdict).handshake();
    }

    private static Verdict.Reject rejected(Verdict verdict) {
        return assertInstanceOf(Verdict.Reject.class, verdict);
    }

    @Test
    void keyInTheHeaderIdentifiesItsConsumerAndIsRemoved() {
        Handshake h = allowed(KEYS.authenticate(request().header("X-API-Key", "web-secret").build()));

        assertEquals("web-app", h.principal().orElseThrow().subject());
        assertEquals(Optional.of("web-app"), h.principal().orElseThrow().consumer());
        assertTrue(h.header("X-API-Key").isEmpty());
    }

    @Test
    void headerNameIsCaseInsensitive() {
        Handshake h = allowed(KEYS.authenticate(request().header("x-api-key", "mobile-secret").build()));

        assertEquals("mobile-app", h.principal().orElseThrow().subject());
    }

    @Test
    void keyInTheQueryParameterIsAcceptedAndRemovedFromTheQuery() {
        Handshake h = allowed(KEYS.authenticate(request().query("a=1&api_key=mobile-secret&b=2").build()));

        assertEquals("mobile-app", h.principal().orElseThrow().subject());
        assertEquals("a=1&b=2", h.query());
    }

    @Test
    void percentEncodedKeyInTheQueryIsDecoded() {
        ApiKeyAuthenticator auth = ApiKeyAuthenticator.of("a key/with+chars", "c");

        allowed(auth.authenticate(request().query("api_key=a%20key%2Fwith%2Bchars").build()));
    }

    @Test
    void wrongKeyIsRejectedWith401() {
        Verdict.Reject reject = rejected(KEYS.authenticate(request().header("X-API-Key", "guess").build()));

        assertEquals(401, reject.status());
        assertEquals(Rejection.UNAUTHORIZED, reject.kind());
        assertFalse(reject.message().contains("guess"));
    }

    @Test
    void missingKeyIsRejectedWith401() {
        assertEquals(401, rejected(KEYS.authenticate(request().build())).status());
    }

    @Test
    void emptyKeyIsRejectedWith401() {
        assertEquals(401, rejected(KEYS.authenticate(request().header("X-API-Key", "").build())).status());
        assertEquals(401, rejected(KEYS.authenticate(request().query("api_key=").build())).status());
    }

    @Test
    void hashedKeyIsAcceptedInAnyCase() {
        ApiKeyAuthenticator auth = ApiKeyAuthenticator.builder()
                .hashedKey(ApiKeyAuthenticator.hash("partner-secret").toUpperCase(java.util.Locale.ROOT), "partner")
                .build();

        Handshake h = allowed(auth.authenticate(request().header("X-API-Key", "partner-secret").build()));

        assertEquals("partner", h.principal().orElseThrow().subject());
    }

    @Test
    void hashIsLowerCaseHexSha256() {
        assertEquals("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ApiKeyAuthenticator.hash("test"));
    }

    @Test
    void customCredentialSourcesAreUsed() {
        ApiKeyAuthenticator auth = ApiKeyAuthenticator.builder().key("k1", "c1")
                .credentialSources(CredentialSource.header("X-Key"), CredentialSource.queryParameter("key")).build();

        allowed(auth.authenticate(request().header("X-Key", "k1").build()));
        Handshake h = allowed(auth.authenticate(request().query("key=k1&api_key=other").build()));
        assertEquals("api_key=other", h.query());
        rejected(auth.authenticate(request().header("X-API-Key", "k1").build()));
    }

    @Test
    void aKeySentInTwoSourcesIsRemovedFromBoth() {
        ApiKeyAuthenticator auth = ApiKeyAuthenticator.of("k1", "c1");

        Handshake h = allowed(auth.authenticate(request().header("X-API-Key", "k1").query("api_key=k1&lang=en").build()));

        assertTrue(h.header("X-API-Key").isEmpty());
        assertEquals("lang=en", h.query());
    }

    @Test
    void anUnsetKeyVariableIsNamedInTheError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiKeyAuthenticator.of(null, "c1"));
        assertTrue(e.getMessage().startsWith("key: null"), e.getMessage());
    }

    @Test
    void keysNeverAppearInToString() {
        String s = KEYS.toString();

        assertFalse(s.contains("mobile-secret"), s);
        assertFalse(s.contains("web-secret"), s);
        assertFalse(s.contains(ApiKeyAuthenticator.hash("mobile-secret")), s);
    }

    @Test
    void duplicateKeyIsRejectedAtBuild() {
        ApiKeyAuthenticator.Builder b = ApiKeyAuthenticator.builder().key("same", "a");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.key("same", "b"));
        assertFalse(e.getMessage().contains("same\""), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.hashedKey(ApiKeyAuthenticator.hash("same"), "c"));
    }

    @Test
    void emptyKeyIsRejectedAtBuild() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ApiKeyAuthenticator.builder().key("", "a"));

        assertTrue(e.getMessage().startsWith("key: "), e.getMessage());
    }

    @Test
    void malformedHashEmptyConsumerAndNoKeysAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> ApiKeyAuthenticator.builder().hashedKey("abc", "a"));
        assertThrows(IllegalArgumentException.class, () -> ApiKeyAuthenticator.builder().key("k", ""));
        assertThrows(IllegalStateException.class, () -> ApiKeyAuthenticator.builder().build());
    }
}
