package dev.gatehouse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.policy.ClaimsPolicy;

/** Real keys, real tokens, a real JWKS endpoint: every accepted token and every attack. */
class JwtAuthenticatorTest {

    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

    private static Handshake.Builder request() {
        return Handshake.builder("req-1", "/chat").header("Upgrade", "websocket");
    }

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().subject("alice").issuer("https://issuer.test")
                .audience("chat").expirationTime(Date.from(Instant.now().plusSeconds(300)));
    }

    private static String hs256(JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        jwt.sign(new MACSigner(SECRET));
        return jwt.serialize();
    }

    private static String rs256(RSAKey key, JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static Verdict.Reject rejected(Verdict v) {
        return assertInstanceOf(Verdict.Reject.class, v, () -> "expected a rejection, got " + v);
    }

    private static Handshake allowed(Verdict v) {
        return assertInstanceOf(Verdict.Allow.class, v, () -> "expected to be allowed, got " + v).handshake();
    }

    private static JwtAuthenticator hs256Authenticator() {
        return JwtAuthenticator.builder().secret(SECRET).algorithms("HS256")
                .issuer("https://issuer.test").audience("chat").build();
    }

    private static void assertInvalidToken(Verdict v, String message) {
        Verdict.Reject r = rejected(v);
        assertEquals(401, r.status());
        assertEquals(Rejection.UNAUTHORIZED, r.kind());
        assertEquals("Bearer error=\"invalid_token\"", r.headers().get("WWW-Authenticate"));
        assertEquals(message, r.message());
    }

    // ---- accepted tokens and where they come from ----

    @Test
    void acceptsAValidBearerTokenAndCarriesItsClaims() throws Exception {
        Instant exp = Instant.now().plusSeconds(120).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        String token = hs256(claims().expirationTime(Date.from(exp)).claim("scope", "chat:read chat:write")
                .claim("tenant", "acme").build());

        Handshake h = allowed(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + token).build()));

        Principal p = h.principal().orElseThrow();
        assertEquals("alice", p.subject());
        assertEquals(Set.of("chat:read", "chat:write"), p.scopes());
        assertEquals("acme", p.claims().get("tenant"));
        assertEquals(exp, p.expiresAt().orElseThrow());
        assertTrue(h.header("Authorization").isEmpty(), "the token is not forwarded");
    }

    @Test
    void acceptsTheTokenInTheAccessTokenQueryParameterAndRemovesIt() throws Exception {
        String token = hs256(claims().build());

        Handshake h = allowed(hs256Authenticator().authenticate(request().query("room=1&access_token=" + token).build()));

        assertEquals("room=1", h.query());
    }

    @Test
    void acceptsTheBrowserSubprotocolPairAndAnswersBearerWhenTheBackendChoosesNone() throws Exception {
        String token = hs256(claims().build());

        Handshake h = allowed(hs256Authenticator().authenticate(
                request().subprotocols(List.of("mqtt", "bearer", "bearer." + token)).build()));

        assertEquals(List.of("mqtt"), h.subprotocols());
        assertEquals("bearer", h.subprotocolFallback().orElseThrow());
    }

    @Test
    void acceptsATokenFromACookieAndKeepsTheOtherCookies() throws Exception {
        String token = hs256(claims().build());
        JwtAuthenticator auth = JwtAuthenticator.builder().secret(SECRET).algorithms("HS256")
                .credentialSources(CredentialSource.cookie("jwt")).build();

        Handshake h = allowed(auth.authenticate(request().header("Cookie", "theme=dark; jwt=" + token + "; lang=en").build()));

        assertEquals("theme=dark; lang=en", h.header("Cookie").orElseThrow());
    }

    @Test
    void acceptsScopesGivenAsAnArrayAndReadsScp() throws Exception {
        String token = hs256(claims().claim("scp", List.of("a", "b")).build());
        JwtAuthenticator auth = JwtAuthenticator.builder().secret(SECRET).algorithms("HS256").build();

        assertEquals(Set.of("a", "b"), allowed(auth.authenticate(request().header("Authorization", "Bearer " + token).build()))
                .principal().orElseThrow().scopes());
    }

    @Test
    void acceptsRs256AndEs256WithPublicKeys() throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).keyID("r1").generate();
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("e1").generate();
        JwtAuthenticator auth = JwtAuthenticator.builder().publicKey(rsa.toRSAPublicKey()).publicKey(ec.toECPublicKey())
                .algorithms("RS256", "ES256").build();
        SignedJWT es = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("e1").build(), claims().build());
        es.sign(new ECDSASigner(ec));

        allowed(auth.authenticate(request().header("Authorization", "Bearer " + rs256(rsa, claims().build())).build()));
        allowed(auth.authenticate(request().header("Authorization", "Bearer " + es.serialize()).build()));
    }

    @Test
    void acceptsEdDsaTokensWithKeysFromAJwkSet() throws Exception {
        com.nimbusds.jose.jwk.OctetKeyPair ed = new com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator(Curve.Ed25519)
                .keyID("ed1").generate();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID("ed1").build(), claims().build());
        jwt.sign(new com.nimbusds.jose.crypto.Ed25519Signer(ed));
        JwtAuthenticator auth = JwtAuthenticator.builder().jwkSet(new JWKSet(ed.toPublicJWK()).toString())
                .algorithms("EdDSA").build();

        allowed(auth.authenticate(request().header("Authorization", "Bearer " + jwt.serialize()).build()));
        rejected(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + jwt.serialize()).build()));
    }

    @Test
    void acceptsAShortDevelopmentSecretOnlyWhenAllowed() throws Exception {
        String token = handSignedHs256("secret", "{\"sub\":\"dev\"}");
        assertThrows(IllegalStateException.class,
                () -> JwtAuthenticator.builder().secret("secret").algorithms("HS256").build());

        JwtAuthenticator auth = JwtAuthenticator.builder().secret("secret").algorithms("HS256").allowShortSecrets(true).build();

        assertEquals("dev", allowed(auth.authenticate(request().header("Authorization", "Bearer " + token).build()))
                .principal().orElseThrow().subject());
    }

    // ---- rejections and attacks ----

    @Test
    void rejectsAMissingTokenAsAMissingCredentialWithABearerChallenge() {
        Verdict.Reject r = rejected(hs256Authenticator().authenticate(request().build()));

        assertEquals(401, r.status());
        assertEquals(Rejection.CREDENTIAL_MISSING, r.kind());
        assertEquals("Bearer", r.headers().get("WWW-Authenticate"));
    }

    @Test
    void rejectsAlgNone() {
        String none = new PlainJWT(claims().build()).serialize();

        assertInvalidToken(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + none).build()),
                "the token is not valid");
    }

    @Test
    void rejectsHmacTokensSignedWithThePublicKeyOfAnRsaOnlyAuthenticator() throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        byte[] publicBytes = pair.getPublic().getEncoded();
        SignedJWT forged = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims().build());
        forged.sign(new MACSigner(publicBytes));
        String token = "Bearer " + forged.serialize();

        JwtAuthenticator rsaOnly = JwtAuthenticator.builder().publicKey(pair.getPublic()).algorithms("RS256").build();
        JwtAuthenticator rsaWithHsAllowed = JwtAuthenticator.builder().publicKey(pair.getPublic())
                .algorithms("RS256", "HS256").build();

        rejected(rsaOnly.authenticate(request().header("Authorization", token).build()));
        rejected(rsaWithHsAllowed.authenticate(request().header("Authorization", token).build()));
    }

    @Test
    void rejectsATokenSignedByAnUnknownKey() throws Exception {
        RSAKey trusted = new RSAKeyGenerator(2048).keyID("k").generate();
        RSAKey other = new RSAKeyGenerator(2048).keyID("k").generate();
        JwtAuthenticator auth = JwtAuthenticator.builder().publicKey(trusted.toRSAPublicKey()).algorithms("RS256").build();

        assertInvalidToken(auth.authenticate(request().header("Authorization", "Bearer " + rs256(other, claims().build())).build()),
                "the token is not valid");
    }

    @Test
    void rejectsAnExpiredToken() throws Exception {
        String token = hs256(claims().expirationTime(Date.from(Instant.now().minusSeconds(120))).build());

        assertInvalidToken(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + token).build()),
                "the token has expired");
    }

    @Test
    void acceptsATokenExpiredWithinTheClockSkew() throws Exception {
        String token = hs256(claims().expirationTime(Date.from(Instant.now().minusSeconds(10))).build());

        allowed(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + token).build()));
    }

    @Test
    void rejectsATokenNotValidYet() throws Exception {
        String token = hs256(claims().notBeforeTime(Date.from(Instant.now().plusSeconds(600))).build());

        assertInvalidToken(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + token).build()),
                "the token is not valid yet");
    }

    @Test
    void rejectsAWrongIssuer() throws Exception {
        String token = hs256(claims().issuer("https://evil.test").build());

        assertInvalidToken(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + token).build()),
                "the token's issuer is not accepted");
        assertInvalidToken(hs256Authenticator().authenticate(request().header("Authorization", "Bearer "
                + hs256(claims().issuer(null).build())).build()), "the token's issuer is not accepted");
    }

    @Test
    void rejectsAWrongAudience() throws Exception {
        String token = hs256(claims().audience("billing").build());

        assertInvalidToken(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + token).build()),
                "the token is not for this audience");
    }

    @Test
    void aClaimsPolicyRejectsATokenWithoutTheRequiredScopeWith403() throws Exception {
        String token = hs256(claims().claim("scope", "chat:read").build());
        Handshake admitted = allowed(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + token).build()));

        Verdict.Reject r = rejected(ClaimsPolicy.requireScopes("chat:write").evaluate(admitted, Verdict::allow));

        assertEquals(403, r.status());
        assertEquals("Bearer error=\"insufficient_scope\", scope=\"chat:write\"", r.headers().get("WWW-Authenticate"));
    }

    @Test
    void aClaimsPolicyRejectsATokenWithoutARequiredClaimOrWithAnotherValue() throws Exception {
        ClaimsPolicy policy = ClaimsPolicy.builder().claim("tenant").claim("region", "eu").build();
        JwtAuthenticator auth = hs256Authenticator();

        rejected(policy.evaluate(allowed(auth.authenticate(request().header("Authorization", "Bearer "
                + hs256(claims().claim("region", "eu").build())).build())), Verdict::allow));
        rejected(policy.evaluate(allowed(auth.authenticate(request().header("Authorization", "Bearer "
                + hs256(claims().claim("tenant", "acme").claim("region", "us").build())).build())), Verdict::allow));
        allowed(policy.evaluate(allowed(auth.authenticate(request().header("Authorization", "Bearer "
                + hs256(claims().claim("tenant", "acme").claim("region", "eu").build())).build())), Verdict::allow));
    }

    @Test
    void rejectsAHugeOrGarbledToken() {
        String huge = "a".repeat(200_000) + "." + "b".repeat(10) + "." + "c";

        assertInvalidToken(hs256Authenticator().authenticate(request().header("Authorization", "Bearer " + huge).build()),
                "the token is not valid");
        assertInvalidToken(hs256Authenticator().authenticate(request().header("Authorization", "Bearer not-a-jwt").build()),
                "the token is not valid");
    }

    @Test
    void aKidThatIsAPathOrAUrlIsJustAnUnknownKeyAndFetchesNothing() throws Exception {
        AtomicInteger fetches = new AtomicInteger();
        RSAKey key = new RSAKeyGenerator(2048).keyID("good").generate();
        AtomicReference<String> jwks = new AtomicReference<>(new JWKSet(key.toPublicJWK()).toString());
        HttpServer server = jwksServer(jwks, fetches);
        try {
            JwtAuthenticator auth = JwtAuthenticator.builder().jwksUri(jwksUri(server)).algorithms("RS256").build();
            for (String kid : List.of("../../../etc/passwd", "http://127.0.0.1:1/evil.json", "file:///etc/passwd")) {
                SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).build(), claims().build());
                jwt.sign(new RSASSASigner(key));
                assertInvalidToken(auth.authenticate(request().header("Authorization", "Bearer " + jwt.serialize()).build()),
                        "the token is not valid");
            }
            assertTrue(fetches.get() <= 2, "only the configured JWKS URL is fetched, rate-limited: " + fetches.get());
        } finally {
            server.stop(0);
        }
    }

    // ---- JWKS ----

    @Test
    void fetchesKeysFromAJwksUrlCachesThemAndPicksUpARotatedKey() throws Exception {
        AtomicInteger fetches = new AtomicInteger();
        RSAKey first = new RSAKeyGenerator(2048).keyID("2026-01").generate();
        RSAKey second = new RSAKeyGenerator(2048).keyID("2026-02").generate();
        AtomicReference<String> jwks = new AtomicReference<>(new JWKSet(first.toPublicJWK()).toString());
        HttpServer server = jwksServer(jwks, fetches);
        try {
            JwtAuthenticator auth = JwtAuthenticator.builder().jwksUri(jwksUri(server)).algorithms("RS256")
                    .jwksRefreshInterval(Duration.ofMillis(1)).build();
            allowed(auth.authenticate(request().header("Authorization", "Bearer " + rs256(first, claims().build())).build()));
            allowed(auth.authenticate(request().header("Authorization", "Bearer " + rs256(first, claims().build())).build()));
            assertEquals(1, fetches.get(), "keys are cached");

            jwks.set(new JWKSet(List.of(first.toPublicJWK(), second.toPublicJWK())).toString());
            allowed(auth.authenticate(request().header("Authorization", "Bearer " + rs256(second, claims().build())).build()));
            assertEquals(2, fetches.get(), "an unknown kid refreshes the keys once");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void anUnreachableJwksUrlRejectsWith503AndRetryAfterNotAsAnInvalidToken() throws Exception {
        RSAKey key = new RSAKeyGenerator(2048).keyID("k").generate();
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        JwtAuthenticator auth = JwtAuthenticator.builder()
                .jwksUri(URI.create("http://127.0.0.1:" + closedPort + "/jwks.json")).algorithms("RS256").build();

        Verdict.Reject r = rejected(auth.authenticate(request().header("Authorization", "Bearer " + rs256(key, claims().build())).build()));

        assertEquals(503, r.status());
        assertEquals(Rejection.UNAVAILABLE, r.kind());
        assertEquals("5", r.headers().get("Retry-After"));
        assertFalse(r.message().contains("127.0.0.1"), "the client learns nothing about the key server");
    }

    // ---- configuration ----

    @Test
    void misconfigurationsFailAtBuildNamingTheSetting() throws Exception {
        RSAPublicKey rsa = new RSAKeyGenerator(2048).generate().toRSAPublicKey();
        assertTrue(assertThrows(IllegalStateException.class, () -> JwtAuthenticator.builder().algorithms("HS256").build())
                .getMessage().startsWith("keys:"));
        assertTrue(assertThrows(IllegalStateException.class, () -> JwtAuthenticator.builder().secret(SECRET).build())
                .getMessage().startsWith("algorithms:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JwtAuthenticator.builder().algorithms("none"))
                .getMessage().startsWith("algorithms: none"));
        assertTrue(assertThrows(IllegalStateException.class, () -> JwtAuthenticator.builder().secret(SECRET)
                .algorithms("RS256").build()).getMessage().startsWith("algorithms:"));
        assertTrue(assertThrows(IllegalStateException.class, () -> JwtAuthenticator.builder().publicKey(rsa)
                .jwksUri(URI.create("https://x.test/jwks")).algorithms("RS256").build()).getMessage().startsWith("keys:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JwtAuthenticator.builder()
                .jwksUri(URI.create("file:///etc/jwks"))).getMessage().startsWith("jwksUri:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JwtAuthenticator.builder().jwkSet("{oops"))
                .getMessage().startsWith("jwkSet:"));
    }

    @Test
    void toStringShowsNoSecret() {
        assertFalse(hs256Authenticator().toString().contains("0123456789abcdef"));
    }

    // ---- helpers ----

    /** An HS256 token signed by hand with a short secret, as lenient libraries do. */
    private static String handSignedHs256(String secret, String payloadJson) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(payloadJson.getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return input + "." + b64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    }

    private static HttpServer jwksServer(AtomicReference<String> body, AtomicInteger fetches) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/jwks.json", exchange -> {
            fetches.incrementAndGet();
            byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        return server;
    }

    private static URI jwksUri(HttpServer server) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json");
    }
}
