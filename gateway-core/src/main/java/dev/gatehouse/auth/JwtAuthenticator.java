package dev.gatehouse.auth;

import static java.util.Objects.requireNonNull;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.JwtVerifier;

/**
 * Authenticates clients by JSON Web Token, verified with nimbus-jose-jwt: signature against local keys or
 * a JWKS URL (cached, refreshed when a token names an unknown {@code kid}, refreshes rate-limited), an
 * explicit algorithm allow-list, {@code iss}, {@code aud}, {@code exp} and {@code nbf} with clock skew.
 * Required scopes and claims are a {@link dev.gatehouse.policy.ClaimsPolicy} on the route, whatever
 * authenticator established the principal.
 *
 * <pre>{@code
 * Authenticator jwt = JwtAuthenticator.builder()
 *         .jwksUri(URI.create("https://login.example.com/.well-known/jwks.json"))
 *         .algorithms("RS256", "ES256")
 *         .issuer("https://login.example.com/")
 *         .audience("chat-api")
 *         .build();
 * Route.builder("/chat/{room}").authenticator(jwt).policy(ClaimsPolicy.requireScopes("chat:read"))...
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

    private static final List<String> SUPPORTED = List.of("HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
            "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EDDSA");
    /** The class nimbus-jose-jwt verifies Ed25519 signatures with, from its optional dependency Tink. */
    private static final String ED25519_PROVIDER = "com.google.crypto.tink.subtle.Ed25519Verify";

    private final JwtVerifier verifier;
    private final List<CredentialSource> sources;
    private final String description;

    private JwtAuthenticator(Builder b, JwtVerifier verifier) {
        this.verifier = verifier;
        this.sources = List.copyOf(b.sources);
        this.description = "JwtAuthenticator[algorithms=" + b.algorithms + (b.issuer == null ? "" : ", issuer=" + b.issuer)
                + (b.audiences.isEmpty() ? "" : ", audience=" + b.audiences) + "]";
    }

    /**
     * An authenticator for HS256 tokens signed with a shared secret of at least 32 bytes.
     *
     * @throws IllegalArgumentException if the secret is null (e.g. read from an environment variable that is not
     *                                  set), empty, or shorter than 32 bytes
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
        return verifier.verify(credential, handshake.requestId());
    }

    @Override
    public String toString() {
        return description;
    }

    /** Builds a {@link JwtAuthenticator}; every problem is reported by {@link #build()}. */
    public static final class Builder {
        private final JwtVerifier.Keys keys = new JwtVerifier.Keys();
        private URI jwksUri;
        private Duration jwksCacheTtl = Duration.ofMinutes(5);
        private Duration jwksRefreshInterval = Duration.ofSeconds(30);
        private Duration jwksTimeout = Duration.ofSeconds(2);
        private final Set<String> algorithms = new LinkedHashSet<>();
        private String issuer;
        private final Set<String> audiences = new LinkedHashSet<>();
        private Duration clockSkew = Duration.ofSeconds(60);
        private List<CredentialSource> sources = List.of(CredentialSource.bearerHeader(),
                CredentialSource.queryParameter("access_token"), CredentialSource.subprotocol());
        private boolean allowShortSecrets;

        private Builder() {
        }

        /**
         * A shared secret for HS256/384/512 tokens (UTF-8 bytes of the string). At least 32 bytes unless
         * {@link #allowShortSecrets(boolean)}.
         *
         * @throws IllegalArgumentException if the secret is null (e.g. read from an environment variable that is
         *                                  not set) or blank
         */
        public Builder secret(String secret) {
            if (secret != null && secret.isBlank() && !secret.isEmpty()) {
                throw new IllegalArgumentException("secret: blank (expected: at least 32 bytes; "
                        + "is the environment variable or setting it was read from set?)");
            }
            return secret(secret == null ? null : secret.getBytes(StandardCharsets.UTF_8));
        }

        /**
         * A shared secret for HS256/384/512 tokens; see {@link #secret(String)}.
         *
         * @throws IllegalArgumentException if the secret is null or empty
         */
        public Builder secret(byte[] secret) {
            if (secret == null) {
                throw new IllegalArgumentException("secret: null (expected: at least 32 bytes; "
                        + "is the environment variable or setting it was read from set?)");
            }
            if (secret.length == 0) {
                throw new IllegalArgumentException("secret: empty (expected: at least 32 bytes; "
                        + "is the environment variable or setting it was read from set?)");
            }
            keys.secret(secret);
            return this;
        }

        /** A public key for RS*, PS* (RSA) or ES* (EC) tokens. */
        public Builder publicKey(PublicKey key) {
            requireNonNull(key, "key");
            if (key instanceof RSAPublicKey) {
                keys.publicKey((RSAPublicKey) key);
            } else if (key instanceof ECPublicKey) {
                keys.publicKey((ECPublicKey) key);
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
                keys.jwkSet(json);
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
            if (algorithms.contains("EDDSA") && !present(ED25519_PROVIDER)) {
                throw new IllegalStateException("algorithms: EdDSA needs com.google.crypto.tink:tink on the classpath"
                        + " (nimbus-jose-jwt verifies Ed25519 with it)");
            }
            JwtVerifier.Rules rules = new JwtVerifier.Rules(algorithms, issuer, audiences, clockSkew);
            if (jwksUri != null) {
                return new JwtAuthenticator(this, JwtVerifier.remote(jwksUrl(), jwksCacheTtl, jwksRefreshInterval,
                        jwksTimeout, rules));
            }
            return new JwtAuthenticator(this, JwtVerifier.local(keys, secretLength(), rules));
        }

        /**
         * The least length of the secrets: the largest hash of the HS* algorithms. A shorter secret fails the
         * build unless {@link #allowShortSecrets(boolean)}, and is then zero-padded to it.
         */
        private int secretLength() {
            int needed = 0;
            for (String a : algorithms) {
                if (a.startsWith("HS")) {
                    needed = Math.max(needed, Integer.parseInt(a.substring(2)) / 8);
                }
            }
            for (int length : keys.secretLengths()) {
                if (needed == 0) {
                    throw new IllegalStateException("algorithms: " + algorithms + " has no HS* algorithm for the secret");
                }
                if (length < needed && !allowShortSecrets) {
                    throw new IllegalStateException("secret: " + length + " bytes (expected: at least " + needed
                            + " bytes for " + algorithms + ", or allowShortSecrets(true))");
                }
            }
            return needed;
        }

        private URL jwksUrl() {
            try {
                return jwksUri.toURL();
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
