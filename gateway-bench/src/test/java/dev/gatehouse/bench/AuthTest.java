package dev.gatehouse.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.junit.jupiter.api.Test;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Verdict;

/**
 * Both halves of each {@link Auth} mode, in-process: what the load generator sends is what the gateway
 * role's authenticator, built from the key the orchestrator hands it, lets in.
 */
class AuthTest {

    private static final URI ECHO = URI.create("ws://127.0.0.1:1/echo");
    private static final List<Auth> JWT_MODES = List.of(Auth.JWT_HS256, Auth.JWT_RS256);

    /** The handshake the gateway sees when the load generator sends with {@code credential}. */
    private static Handshake sentWith(Auth.Credential credential) {
        ClientUpgradeRequest request = new ClientUpgradeRequest(ECHO);
        credential.decorate(request);
        Handshake.Builder h = Handshake.builder("req-1", "/echo").header("Upgrade", "websocket");
        request.getHeaders().forEach((name, values) -> values.forEach(v -> h.addHeader(name, v)));
        return h.build();
    }

    @Test
    void everyWorkersTokenVerifiesWithTheGatewaysAuthenticator() {
        for (Auth mode : JWT_MODES) {
            everyWorkersTokenVerifiesWithTheGatewaysAuthenticator(mode);
        }
    }

    private static void everyWorkersTokenVerifiesWithTheGatewaysAuthenticator(Auth mode) {
        Auth.Keys keys = mode.newKeys();
        assertSame(mode, keys.mode());
        Authenticator gateway = mode.authenticator(keys.verificationJwk());
        Instant before = Instant.now();

        List<Auth.Credential> credentials = keys.credentials(3);

        assertEquals(3, credentials.size());
        for (int i = 0; i < credentials.size(); i++) {
            Auth.Credential c = credentials.get(i);
            String token = assertInstanceOf(Auth.Bearer.class, c).token();
            assertEquals("Bearer " + token, sentWith(c).header("Authorization").orElseThrow());
            Verdict v = gateway.authenticate(sentWith(c));
            Handshake allowed = assertInstanceOf(Verdict.Allow.class, v, () -> mode + ": " + v).handshake();
            Principal p = allowed.principal().orElseThrow();
            assertEquals("bench-" + i, p.subject());
            Instant exp = p.expiresAt().orElseThrow();
            assertTrue(!exp.isBefore(before.plus(Auth.TOKEN_LIFETIME).minusSeconds(1))
                    && !exp.isAfter(Instant.now().plus(Auth.TOKEN_LIFETIME)), () -> "exp " + exp);
            assertTrue(allowed.header("Authorization").isEmpty(), "the token is not forwarded to the backend");
            // A worker sends the same token on every handshake, and it verifies every time.
            assertInstanceOf(Verdict.Allow.class, gateway.authenticate(sentWith(c)));
        }
        assertEquals(3, credentials.stream().map(c -> ((Auth.Bearer) c).token()).distinct().count(), "a token per worker");
    }

    @Test
    void theGatewayRejectsWhatItCannotVerify() {
        for (Auth mode : JWT_MODES) {
            theGatewayRejectsWhatItCannotVerify(mode);
        }
    }

    private static void theGatewayRejectsWhatItCannotVerify(Auth mode) {
        Auth.Keys keys = mode.newKeys();
        Authenticator gateway = mode.authenticator(keys.verificationJwk());
        Instant now = Instant.now();

        assertInstanceOf(Verdict.Reject.class, gateway.authenticate(sentWith(Auth.Credential.ANONYMOUS)), mode + ": no token");
        Auth.Credential otherKey = mode.newKeys().credentials(1).get(0);
        assertInstanceOf(Verdict.Reject.class, gateway.authenticate(sentWith(otherKey)), mode + ": another key's token");
        Auth.Credential expired = new Auth.Bearer(keys.token("bench-0", now.minus(Duration.ofHours(2)),
                now.minus(Duration.ofHours(1))));
        assertInstanceOf(Verdict.Reject.class, gateway.authenticate(sentWith(expired)), mode + ": an expired token");
        Auth other = mode == Auth.JWT_HS256 ? Auth.JWT_RS256 : Auth.JWT_HS256;
        assertInstanceOf(Verdict.Reject.class, gateway.authenticate(sentWith(other.newKeys().credentials(1).get(0))),
                mode + ": the other algorithm");
    }

    @Test
    void theRs256GatewayGetsOnlyThePublicKey() throws Exception {
        Auth.Keys keys = Auth.JWT_RS256.newKeys();

        JWK jwk = JWK.parse(keys.verificationJwk());

        assertEquals("RSA", jwk.getKeyType().getValue());
        assertFalse(jwk.isPrivate());
        assertEquals(Auth.RSA_BITS, jwk.size());
        // A private key is refused, so that the gateway is never handed more than it needs.
        String privateJwk = new RSAKeyGenerator(Auth.RSA_BITS).generate().toJSONString();
        assertThrows(UsageException.class, () -> Auth.JWT_RS256.authenticator(privateJwk));
    }

    @Test
    void noneSendsNothingAndLetsEveryoneIn() {
        Auth.Keys keys = Auth.NONE.newKeys();
        assertSame(Auth.Keys.NONE, keys);
        assertNull(keys.verificationJwk());
        assertNull(Auth.NONE.algorithm());

        List<Auth.Credential> credentials = keys.credentials(2);

        assertEquals(List.of(Auth.Credential.ANONYMOUS, Auth.Credential.ANONYMOUS), credentials);
        assertTrue(sentWith(credentials.get(0)).header("Authorization").isEmpty());
        assertInstanceOf(Verdict.Allow.class, Auth.NONE.authenticator(null).authenticate(sentWith(credentials.get(0))));
        assertThrows(IllegalStateException.class, () -> keys.token("x", Instant.now(), Instant.now()));
    }

    @Test
    void aJwtModeNeedsItsOwnKindOfKey() {
        assertEquals("--auth jwt-hs256 needs --auth-key FILE (the verification key as a JWK)",
                assertThrows(UsageException.class, () -> Auth.JWT_HS256.authenticator(null)).getMessage());
        String rsaPublic = Auth.JWT_RS256.newKeys().verificationJwk();
        String secret = Auth.JWT_HS256.newKeys().verificationJwk();
        assertThrows(UsageException.class, () -> Auth.JWT_HS256.authenticator(rsaPublic));
        assertThrows(UsageException.class, () -> Auth.JWT_RS256.authenticator(secret));
        assertThrows(UsageException.class, () -> Auth.JWT_RS256.authenticator("{not json"));
        assertThrows(UsageException.class, () -> Auth.NONE.authenticator(secret));
    }
}
