package dev.gatehouse.internal;

import java.net.URL;
import java.security.Key;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
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

import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.auth.CredentialSource;

/**
 * The nimbus-jose-jwt side of {@link dev.gatehouse.auth.JwtAuthenticator}: keys in JWK form, their source
 * (local, or a JWKS URL cached, refetched for an unknown {@code kid} and rate-limited), the processor with its
 * key selector, verifier factory and claims verifier, and the reading of a verified token into a principal or
 * a rejection. The authenticator's builder validates the settings and names them in its messages; this
 * class assumes valid ones.
 *
 * <p>Thread: a built verifier is immutable and safe for concurrent use; {@link Keys} is not.
 */
public final class JwtVerifier {

    /** Logged under the authenticator's name, where operators look for it. */
    /** Logs under the authenticator's name, where users configure its logging. */
    private static final Logger LOG = LoggerFactory.getLogger("dev.gatehouse.auth.JwtAuthenticator");

    /**
     * What a token must satisfy besides its signature.
     *
     * @param algorithms     the allowed algorithms, upper case ({@code "RS256"}, {@code "EDDSA"}...)
     * @param issuer         the required {@code iss}, or {@code null} for any
     * @param audiences      the accepted {@code aud}s, one of which a token needs; empty for any
     * @param clockSkew      the tolerance on {@code exp} and {@code nbf}
     */
    public record Rules(Set<String> algorithms, String issuer, Set<String> audiences, Duration clockSkew) {
        /** Copies the collections, keeping their order. */
        public Rules {
            algorithms = ordered(algorithms);
            audiences = ordered(audiences);
        }

        private static Set<String> ordered(Set<String> values) {
            return Collections.unmodifiableSet(new LinkedHashSet<>(values));
        }
    }

    /** Local verification keys in JWK form, in the order given. Not thread-safe: a builder's. */
    public static final class Keys {
        private final List<JWK> keys = new ArrayList<>(); // in the order given; only ever appended to

        /** Adds a shared secret for HS256/384/512 tokens. */
        public void secret(byte[] secret) {
            keys.add(new OctetSequenceKey.Builder(secret.clone()).build());
        }

        /** Adds an RSA public key for RS* and PS* tokens. */
        public void publicKey(RSAPublicKey key) {
            keys.add(new RSAKey.Builder(key).build());
        }

        /** Adds an EC public key for ES* tokens. */
        public void publicKey(ECPublicKey key) {
            keys.add(new ECKey.Builder(Curve.forECParameterSpec(key.getParams()), key).build());
        }

        /**
         * Adds the keys of a JWK set in JSON ({@code {"keys":[...]}}).
         *
         * @throws ParseException if the JSON is not a JWK set; nothing is added then
         */
        public void jwkSet(String json) throws ParseException {
            keys.addAll(JWKSet.parse(json).getKeys());
        }

        /** Whether no key was added. */
        public boolean isEmpty() {
            return keys.isEmpty();
        }

        /** The lengths in bytes of the shared secrets (including those of JWK sets), in order. */
        public List<Integer> secretLengths() {
            List<Integer> lengths = new ArrayList<>();
            for (JWK key : keys) {
                if (key instanceof OctetSequenceKey) {
                    lengths.add(((OctetSequenceKey) key).toByteArray().length);
                }
            }
            return lengths;
        }

        /** A copy of the keys in which every secret shorter than {@code length} bytes is zero-padded to it. */
        private JWKSet padded(int length) {
            List<JWK> usable = new ArrayList<>();
            for (JWK key : keys) {
                usable.add(key instanceof OctetSequenceKey ? pad((OctetSequenceKey) key, length) : key);
            }
            return new JWKSet(usable);
        }

        // HMAC zero-pads keys shorter than its block size (64 bytes for SHA-256, 128 for SHA-384/512),
        // so the padded key produces exactly the same signatures as the short one.
        private static JWK pad(OctetSequenceKey key, int length) {
            byte[] secret = key.toByteArray();
            return secret.length >= length ? key : new OctetSequenceKey.Builder(Arrays.copyOf(secret, length)).build();
        }
    }

    private final DefaultJWTProcessor<SecurityContext> processor;

    private JwtVerifier(JWKSource<SecurityContext> source, Rules rules) {
        Set<JWSAlgorithm> algs = new LinkedHashSet<>();
        for (String a : rules.algorithms()) {
            algs.add(a.equals("EDDSA") ? JWSAlgorithm.EdDSA : JWSAlgorithm.parse(a));
        }
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSKeySelector(new KeySelector(algs, source));
        p.setJWSVerifierFactory(new VerifierFactory());
        JWTClaimsSet.Builder exact = new JWTClaimsSet.Builder();
        if (rules.issuer() != null) {
            exact.issuer(rules.issuer());
        }
        DefaultJWTClaimsVerifier<SecurityContext> verifier = new DefaultJWTClaimsVerifier<>(
                rules.audiences().isEmpty() ? null : rules.audiences(), exact.build(), Set.of(), null);
        verifier.setMaxClockSkew((int) Math.min(Integer.MAX_VALUE, rules.clockSkew().getSeconds()));
        p.setJWTClaimsSetVerifier(verifier);
        this.processor = p;
    }

    /**
     * A verifier of tokens signed by local keys, secrets shorter than {@code secretLength} bytes zero-padded
     * to it. A key given without a {@code kid} (a secret or a public key) verifies tokens whatever
     * {@code kid} they name; keys of a JWK set are matched by {@code kid}. Later changes to {@code keys}
     * do not reach the verifier.
     */
    public static JwtVerifier local(Keys keys, int secretLength, Rules rules) {
        return new JwtVerifier(localSource(keys.padded(secretLength)), rules);
    }

    /**
     * A verifier of tokens signed by the keys of a JWKS URL, fetched with {@code timeout} as connect and
     * read timeout, cached for {@code cacheTtl}, and refetched when a token names an unknown {@code kid}
     * at most once per {@code refreshInterval}.
     */
    public static JwtVerifier remote(URL jwks, Duration cacheTtl, Duration refreshInterval, Duration timeout,
            Rules rules) {
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        JWKSource<SecurityContext> source = JWKSourceBuilder
                .<SecurityContext>create(jwks, new DefaultResourceRetriever(millis, millis, 256 * 1024))
                .cache(cacheTtl.toMillis(), timeout.toMillis())
                .rateLimited(refreshInterval.toMillis())
                .refreshAheadCache(false)
                .build();
        return new JwtVerifier(source, rules);
    }

    /**
     * Verifies a credential's token: the handshake it was stripped from, with the token's principal, or a
     * rejection: 401 for a token that is not valid, 403 for a missing scope, 503 with {@code Retry-After}
     * when the signing keys cannot be loaded (the gateway's trouble, which must not count as a failed
     * authentication). May block on a JWKS fetch, up to the timeout.
     */
    public Verdict verify(CredentialSource.Credential credential, String requestId) {
        JWTClaimsSet claims;
        try {
            claims = processor.process(credential.value(), null);
        } catch (BadJWTException e) {
            return unauthorized(describe(e), e);
        } catch (RateLimitReachedException e) {
            return unauthorized("the token is not valid", e); // an unknown kid while refreshes are rate-limited
        } catch (KeySourceException e) {
            // The gateway's trouble, not the client's: the token may be valid (and must not count as a failure).
            LOG.warn("JWT keys could not be loaded for request {}: {}", requestId, e.getMessage());
            return Verdict.reject(Rejection.UNAVAILABLE, "the token's signing keys cannot be loaded now")
                    .withHeader("Retry-After", "5");
        } catch (ParseException | BadJOSEException | JOSEException | RuntimeException e) {
            return unauthorized("the token is not valid", e);
        }
        Principal.Builder principal = Principal.builder(subject(claims)).claims(claims.toJSONObject())
                .scopes(scopes(claims));
        if (claims.getExpirationTime() != null) {
            principal.expiresAt(claims.getExpirationTime().toInstant());
        }
        return Verdict.allow(credential.stripped().withPrincipal(principal.build()));
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

    /** The local keys, with kid-less keys matching any {@code kid}. */
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
}
