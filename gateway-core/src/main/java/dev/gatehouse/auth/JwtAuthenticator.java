package dev.gatehouse.auth;

import static java.util.Objects.requireNonNull;

import java.net.MalformedURLException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/**
 * Authenticates clients by JSON Web Token, verified with nimbus-jose-jwt: signature against local keys or
 * a JWKS URL (cached, refreshed when a token names an unknown {@code kid}, refreshes rate-limited), an
 * explicit algorithm allow-list, {@code iss}, {@code aud}, {@code exp} and {@code nbf} with clock skew,
 * required claims and scopes.
 *
 * <pre>{@code
 * Authenticator jwt = JwtAuthenticator.builder()
 *         .jwksUri(URI.create("https://login.example.com/.well-known/jwks.json"))
 *         .algorithms("RS256", "ES256")
 *         .issuer("https://login.example.com/")
 *         .audience("chat-api")
 *         .requireScopes("chat:read")
 *         .build();
 * }</pre>
 *
 * <p>The token is looked for, in order, in {@code Authorization: Bearer}, the query parameter
 * {@code access_token} and the browser subprotocol pair (see {@link CredentialSource#subprotocol()}),
 * unless other {@link Builder#credentialSources sources} are set; wherever it was found, it is removed
 * before the request is forwarded. The principal carries the subject ({@code sub}, else {@code client_id}
 * or {@code azp}), the claims, the scopes ({@code scope} or {@code scp}, space-separated or an array)
 * and the expiry; the gateway closes the connection with 1008 when the token expires.
 *
 * <p>Rejections: 401 with {@code WWW-Authenticate: Bearer error="invalid_token"} for a missing, malformed,
 * badly signed, expired, not yet valid or mismatching token; 403 with {@code error="insufficient_scope"}
 * when a required scope is missing. {@code alg: none}, algorithms outside the allow-list and HMAC/RSA key
 * confusion are rejected by construction: a key is only used with the algorithms of its type.
 */
public final class JwtAuthenticator implements Authenticator {

    private static final Logger LOG = LoggerFactory.getLogger(JwtAuthenticator.class);
    private static final Set<JWSAlgorithm> HMAC = Set.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512);
    private static final List<String> SUPPORTED = List.of("HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
            "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EDDSA");
    /** The class nimbus-jose-jwt verifies Ed25519 signatures with, from its optional dependency Tink. */
    private static final String ED25519_PROVIDER = "com.google.crypto.tink.subtle.Ed25519Verify";

    private final DefaultJWTProcessor<SecurityContext> processor;
    private final List<CredentialSource> sources;
    private final Set<String> requiredScopes;
    private final String description;

    private JwtAuthenticator(Builder b, DefaultJWTProcessor<SecurityContext> processor) {
        this.processor = processor;
        this.sources = List.copyOf(b.sources);
        this.requiredScopes = Set.copyOf(b.requiredScopes);
        this.description = "JwtAuthenticator[algorithms=" + b.algorithms + (b.issuer == null ? "" : ", issuer=" + b.issuer)
                + (b.audiences.isEmpty() ? "" : ", audience=" + b.audiences) + "]";
    }

    /**
     * An authenticator for HS256 tokens signed with a shared secret of at least 32 bytes.
     *
     * @throws IllegalArgumentException if the secret is shorter than 32 bytes
     */
    public static JwtAuthenticator hmacSha256(byte[] secret) {
        return builder().secret(secret).algorithms("HS256").build();
    }

    /** Starts an authenticator. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Verdict authenticate(Handshake handshake) {
        CredentialSource.Credential credential = null;
        for (CredentialSource source : sources) {
            Optional<CredentialSource.Credential> found = source.find(handshake);
            if (found.isPresent()) {
                credential = found.get();
                break;
            }
        }
        if (credential == null) {
            return Verdict.reject(Rejection.CREDENTIAL_MISSING, "a bearer token is required")
                    .withHeader("WWW-Authenticate", "Bearer");
        }
        JWTClaimsSet claims;
        try {
            claims = processor.process(credential.value(), null);
        } catch (BadJWTException e) {
            return unauthorized(describe(e), e);
        } catch (RateLimitReachedException e) {
            return unauthorized("the token is not valid", e); // an unknown kid while refreshes are rate-limited
        } catch (KeySourceException e) {
            // The gateway's trouble, not the client's: the token may be valid (and must not count as a failure).
            LOG.warn("JWT keys could not be loaded for request {}: {}", handshake.requestId(), e.getMessage());
            return Verdict.reject(Rejection.UNAVAILABLE, "the token's signing keys cannot be loaded now")
                    .withHeader("Retry-After", "5");
        } catch (ParseException | BadJOSEException | JOSEException | RuntimeException e) {
            return unauthorized("the token is not valid", e);
        }
        Set<String> scopes = scopes(claims);
        if (!scopes.containsAll(requiredScopes)) {
            return Verdict.reject(Rejection.FORBIDDEN, "the token lacks a required scope")
                    .withHeader("WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\""
                            + String.join(" ", requiredScopes) + "\"");
        }
        Principal.Builder principal = Principal.builder(subject(claims)).claims(claims.toJSONObject()).scopes(scopes);
        if (claims.getExpirationTime() != null) {
            principal.expiresAt(claims.getExpirationTime().toInstant());
        }
        return Verdict.allow(credential.stripped().withPrincipal(principal.build()));
    }

    @Override
    public String toString() {
        return description;
    }

    private static Verdict unauthorized(String message, Exception cause) {
        if (cause != null) {
            LOG.debug("JWT rejected: {}", message, cause);
        }
        return Verdict.reject(Rejection.UNAUTHORIZED, message)
                .withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    }

    private static String describe(BadJWTException e) {
        String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (m.contains("expired")) {
            return "the token has expired";
        }
        if (m.contains("before use time") || m.contains("nbf")) {
            return "the token is not valid yet";
        }
        if (m.contains(" aud ")) {
            return "the token is not for this audience";
        }
        if (m.contains(" iss ") || m.contains("[iss")) {
            return "the token's issuer is not accepted";
        }
        if (m.contains("missing") || m.contains("value rejected")) {
            return "the token lacks a required claim or value";
        }
        return "the token is not valid";
    }

    private static String subject(JWTClaimsSet claims) {
        for (String name : List.of("sub", "client_id", "azp")) {
            Object v = claims.getClaim(name);
            if (v instanceof String && !((String) v).isEmpty()) {
                return (String) v;
            }
        }
        return "-";
    }

    private static Set<String> scopes(JWTClaimsSet claims) {
        Set<String> scopes = new LinkedHashSet<>();
        for (String name : List.of("scope", "scp")) {
            Object v = claims.getClaim(name);
            if (v instanceof String) {
                for (String s : ((String) v).trim().split("\\s+")) {
                    if (!s.isEmpty()) {
                        scopes.add(s);
                    }
                }
            } else if (v instanceof Collection) {
                for (Object s : (Collection<?>) v) {
                    if (s instanceof String) {
                        scopes.add((String) s);
                    }
                }
            }
        }
        return scopes;
    }

    /**
     * An Ed25519 public key (a JWK of type OKP) in the shape of a {@link java.security.Key}, which is what
     * nimbus's processor hands from key selector to verifier factory; nimbus has no JCA form for it.
     */
    private static final class OkpKey implements PublicKey {
        private static final long serialVersionUID = 1L;
        private final transient OctetKeyPair jwk;

        OkpKey(OctetKeyPair jwk) {
            this.jwk = jwk;
        }

        @Override
        public String getAlgorithm() {
            return "Ed25519";
        }

        @Override
        public String getFormat() {
            return "JWK";
        }

        @Override
        public byte[] getEncoded() {
            return jwk.getDecodedX();
        }
    }

    /** Selects keys as nimbus does, and Ed25519 keys (which nimbus's selector cannot convert) for EdDSA. */
    private static final class KeySelector extends JWSVerificationKeySelector<SecurityContext> {
        KeySelector(Set<JWSAlgorithm> algorithms, JWKSource<SecurityContext> source) {
            super(algorithms, source);
        }

        @Override
        public List<Key> selectJWSKeys(JWSHeader header, SecurityContext context) throws KeySourceException {
            if (!JWSAlgorithm.EdDSA.equals(header.getAlgorithm())) {
                return super.selectJWSKeys(header, context);
            }
            if (!isAllowed(header.getAlgorithm())) {
                return List.of();
            }
            List<Key> keys = new ArrayList<>();
            for (JWK jwk : getJWKSource().get(new JWKSelector(createJWKMatcher(header)), context)) {
                if (jwk instanceof OctetKeyPair && Curve.Ed25519.equals(((OctetKeyPair) jwk).getCurve())) {
                    keys.add(new OkpKey(((OctetKeyPair) jwk).toPublicJWK()));
                }
            }
            return keys;
        }
    }

    /** nimbus's verifiers, plus its {@link Ed25519Verifier} for the keys of {@link KeySelector}. */
    private static final class VerifierFactory extends DefaultJWSVerifierFactory {
        @Override
        public JWSVerifier createJWSVerifier(JWSHeader header, Key key) throws JOSEException {
            if (key instanceof OkpKey) {
                return new Ed25519Verifier(((OkpKey) key).jwk);
            }
            return super.createJWSVerifier(header, key);
        }
    }

    /** Builds a {@link JwtAuthenticator}; every problem is reported by {@link #build()}. */
    public static final class Builder {
        private final List<JWK> keys = new ArrayList<>();
        private URI jwksUri;
        private Duration jwksCacheTtl = Duration.ofMinutes(5);
        private Duration jwksRefreshInterval = Duration.ofSeconds(30);
        private Duration jwksTimeout = Duration.ofSeconds(2);
        private final Set<String> algorithms = new LinkedHashSet<>();
        private String issuer;
        private final Set<String> audiences = new LinkedHashSet<>();
        private Duration clockSkew = Duration.ofSeconds(60);
        private final Set<String> requiredClaims = new LinkedHashSet<>();
        private final Map<String, Object> exactClaims = new HashMap<>();
        private final Set<String> requiredScopes = new LinkedHashSet<>();
        private List<CredentialSource> sources = List.of(CredentialSource.bearerHeader(),
                CredentialSource.queryParameter("access_token"), CredentialSource.subprotocol());
        private boolean allowShortSecrets;

        private Builder() {
        }

        /**
         * A shared secret for HS256/384/512 tokens (UTF-8 bytes of the string). At least 32 bytes unless
         * {@link #allowShortSecrets(boolean)}.
         */
        public Builder secret(String secret) {
            return secret(requireNonNull(secret, "secret").getBytes(StandardCharsets.UTF_8));
        }

        /** A shared secret for HS256/384/512 tokens; see {@link #secret(String)}. */
        public Builder secret(byte[] secret) {
            requireNonNull(secret, "secret");
            if (secret.length == 0) {
                throw new IllegalArgumentException("secret: empty (expected: at least 32 bytes)");
            }
            keys.add(new OctetSequenceKey.Builder(secret.clone()).build());
            return this;
        }

        /** A public key for RS*, PS* (RSA) or ES* (EC) tokens. */
        public Builder publicKey(PublicKey key) {
            requireNonNull(key, "key");
            if (key instanceof RSAPublicKey) {
                keys.add(new RSAKey.Builder((RSAPublicKey) key).build());
            } else if (key instanceof ECPublicKey) {
                ECPublicKey ec = (ECPublicKey) key;
                keys.add(new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec).build());
            } else {
                throw new IllegalArgumentException("key: " + key.getAlgorithm()
                        + " (expected: an RSA or EC public key; give Ed25519 keys as a JWK set)");
            }
            return this;
        }

        /**
         * Local keys as a JWK set in JSON ({@code {"keys":[...]}}); tokens name theirs with {@code kid}.
         *
         * @throws IllegalArgumentException if the JSON is not a JWK set
         */
        public Builder jwkSet(String json) {
            requireNonNull(json, "json");
            try {
                keys.addAll(JWKSet.parse(json).getKeys());
            } catch (ParseException e) {
                throw new IllegalArgumentException("jwkSet: not a JWK set (" + e.getMessage() + ")", e);
            }
            return this;
        }

        /**
         * Keys fetched from a JWKS URL, cached for {@link #jwksCacheTtl(Duration)}, refetched when a token
         * names an unknown {@code kid} (at most once per {@link #jwksRefreshInterval(Duration)}), so that
         * keys rotate without a restart.
         */
        public Builder jwksUri(URI uri) {
            requireNonNull(uri, "uri");
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("https") && !scheme.equals("http")) {
                throw new IllegalArgumentException("jwksUri: " + uri + " (expected: an http or https URL)");
            }
            this.jwksUri = uri;
            return this;
        }

        /** How long fetched keys are used before they are fetched again; 5 minutes by default. */
        public Builder jwksCacheTtl(Duration ttl) {
            this.jwksCacheTtl = positive(ttl, "jwksCacheTtl");
            return this;
        }

        /** The least time between two fetches triggered by unknown {@code kid}s; 30 s by default. */
        public Builder jwksRefreshInterval(Duration interval) {
            this.jwksRefreshInterval = positive(interval, "jwksRefreshInterval");
            return this;
        }

        /** The connect and read timeout of a JWKS fetch; 2 s by default. */
        public Builder jwksTimeout(Duration timeout) {
            this.jwksTimeout = positive(timeout, "jwksTimeout");
            return this;
        }

        /**
         * The allowed algorithms, e.g. {@code "RS256", "ES256"}; required. HS256/384/512, RS256/384/512,
         * PS256/384/512, ES256/384/512 and EdDSA (Ed25519) are supported; {@code none} never is. EdDSA needs
         * {@code com.google.crypto.tink:tink} on the classpath (nimbus-jose-jwt verifies Ed25519 with it) and
         * its keys come from a JWK set or a JWKS URL ({@code "kty":"OKP"}).
         */
        public Builder algorithms(String... names) {
            for (String name : names) {
                String n = requireNonNull(name, "algorithm").toUpperCase(Locale.ROOT);
                if (!SUPPORTED.contains(n)) {
                    throw new IllegalArgumentException("algorithms: " + name + " (expected one of " + SUPPORTED + ")");
                }
                algorithms.add(n);
            }
            return this;
        }

        /** The required {@code iss}. */
        public Builder issuer(String issuer) {
            this.issuer = requireNonNull(issuer, "issuer");
            return this;
        }

        /** An accepted {@code aud}; with several, a token needs one of them. */
        public Builder audience(String... audiences) {
            for (String a : audiences) {
                this.audiences.add(requireNonNull(a, "audience"));
            }
            return this;
        }

        /** The tolerance on {@code exp} and {@code nbf}; 60 s by default. */
        public Builder clockSkew(Duration skew) {
            requireNonNull(skew, "clockSkew");
            if (skew.isNegative()) {
                throw new IllegalArgumentException("clockSkew: " + skew + " (expected: >= 0)");
            }
            this.clockSkew = skew;
            return this;
        }

        /** A claim that must be present, e.g. {@code "exp"} to refuse tokens that never expire. */
        public Builder requireClaim(String name) {
            requiredClaims.add(requireNonNull(name, "name"));
            return this;
        }

        /** A claim that must have exactly this value. */
        public Builder requireClaim(String name, String value) {
            exactClaims.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
            return this;
        }

        /** Scopes the token must grant; a token without them gets 403. */
        public Builder requireScopes(String... scopes) {
            requiredScopes.addAll(Arrays.asList(scopes));
            return this;
        }

        /** Where to look for the token, in order; see the class documentation for the default. */
        public Builder credentialSources(CredentialSource... sources) {
            if (sources.length == 0) {
                throw new IllegalArgumentException("credentialSources: none (expected: at least one)");
            }
            this.sources = List.of(sources);
            return this;
        }

        /**
         * Accepts HMAC secrets shorter than the algorithm's hash (32 bytes for HS256), which are weak but
         * common in development. HMAC pads short keys with zeros, so padding them here verifies the same
         * signatures.
         */
        public Builder allowShortSecrets(boolean allow) {
            this.allowShortSecrets = allow;
            return this;
        }

        /**
         * Builds the authenticator.
         *
         * @throws IllegalStateException if no key or JWKS URL, no algorithm, a secret too short, or keys that
         *                               fit none of the algorithms
         */
        public JwtAuthenticator build() {
            if (!keys.isEmpty() && jwksUri != null) {
                throw new IllegalStateException("keys: both local keys and a JWKS URL (expected: one of them)");
            }
            if (keys.isEmpty() && jwksUri == null) {
                throw new IllegalStateException("keys: none (expected: a secret, a public key, a JWK set or a JWKS URL)");
            }
            if (algorithms.isEmpty()) {
                throw new IllegalStateException("algorithms: none (expected: an explicit allow-list, e.g. RS256)");
            }
            Set<JWSAlgorithm> algs = new LinkedHashSet<>();
            for (String a : algorithms) {
                algs.add(a.equals("EDDSA") ? JWSAlgorithm.EdDSA : JWSAlgorithm.parse(a));
            }
            if (algs.contains(JWSAlgorithm.EdDSA) && !present(ED25519_PROVIDER)) {
                throw new IllegalStateException("algorithms: EdDSA needs com.google.crypto.tink:tink on the classpath"
                        + " (nimbus-jose-jwt verifies Ed25519 with it)");
            }
            List<JWK> usable = new ArrayList<>();
            for (JWK key : keys) {
                usable.add(key instanceof OctetSequenceKey ? checkSecret((OctetSequenceKey) key, algs) : key);
            }
            JWKSource<SecurityContext> source = jwksUri != null ? remoteSource() : localSource(new JWKSet(usable));
            DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
            processor.setJWSKeySelector(new KeySelector(algs, source));
            processor.setJWSVerifierFactory(new VerifierFactory());
            JWTClaimsSet.Builder exact = new JWTClaimsSet.Builder();
            exactClaims.forEach(exact::claim);
            if (issuer != null) {
                exact.issuer(issuer);
            }
            DefaultJWTClaimsVerifier<SecurityContext> verifier = new DefaultJWTClaimsVerifier<>(
                    audiences.isEmpty() ? null : audiences, exact.build(), requiredClaims, null);
            verifier.setMaxClockSkew((int) Math.min(Integer.MAX_VALUE, clockSkew.getSeconds()));
            processor.setJWTClaimsSetVerifier(verifier);
            return new JwtAuthenticator(this, processor);
        }

        private JWK checkSecret(OctetSequenceKey key, Set<JWSAlgorithm> algs) {
            int needed = 0;
            for (JWSAlgorithm a : algs) {
                if (HMAC.contains(a)) {
                    needed = Math.max(needed, Integer.parseInt(a.getName().substring(2)) / 8);
                }
            }
            if (needed == 0) {
                throw new IllegalStateException("algorithms: " + algorithms + " has no HS* algorithm for the secret");
            }
            byte[] secret = key.toByteArray();
            if (secret.length >= needed) {
                return key;
            }
            if (!allowShortSecrets) {
                throw new IllegalStateException("secret: " + secret.length + " bytes (expected: at least " + needed
                        + " bytes for " + algorithms + ", or allowShortSecrets(true))");
            }
            // HMAC zero-pads keys shorter than its block size (64 bytes for SHA-256, 128 for SHA-384/512),
            // so the padded key produces exactly the same signatures as the short one.
            return new OctetSequenceKey.Builder(Arrays.copyOf(secret, needed)).build();
        }

        /**
         * The local keys. A key given without a {@code kid} (a secret or a public key) verifies tokens
         * whatever {@code kid} they name; keys of a JWK set are matched by {@code kid}.
         */
        private static JWKSource<SecurityContext> localSource(JWKSet keys) {
            ImmutableJWKSet<SecurityContext> exact = new ImmutableJWKSet<>(keys);
            JWKSet kidless = new JWKSet(keys.getKeys().stream().filter(k -> k.getKeyID() == null).toList());
            return (selector, context) -> {
                List<JWK> hits = exact.get(selector, context);
                if (!hits.isEmpty() || kidless.isEmpty()) {
                    return hits;
                }
                JWKMatcher anyKid = new JWKMatcher.Builder(selector.getMatcher()).keyIDs((Set<String>) null).build();
                return new JWKSelector(anyKid).select(kidless);
            };
        }

        private JWKSource<SecurityContext> remoteSource() {
            try {
                int timeout = (int) Math.min(Integer.MAX_VALUE, jwksTimeout.toMillis());
                return JWKSourceBuilder
                        .<SecurityContext>create(jwksUri.toURL(), new DefaultResourceRetriever(timeout, timeout, 256 * 1024))
                        .cache(jwksCacheTtl.toMillis(), jwksTimeout.toMillis())
                        .rateLimited(jwksRefreshInterval.toMillis())
                        .refreshAheadCache(false)
                        .build();
            } catch (MalformedURLException e) {
                throw new IllegalStateException("jwksUri: " + jwksUri + " (" + e.getMessage() + ")", e);
            }
        }

        private static boolean present(String className) {
            try {
                Class.forName(className, false, JwtAuthenticator.class.getClassLoader());
                return true;
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }

        private static Duration positive(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
            }
            return d;
        }
    }
}
