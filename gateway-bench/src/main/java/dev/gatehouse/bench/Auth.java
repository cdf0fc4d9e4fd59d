package dev.gatehouse.bench;

import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;

import dev.gatehouse.Authenticator;
import dev.gatehouse.auth.JwtAuthenticator;

/**
 * How a handshake authenticates: the gateway role's {@link Authenticator} and the load generator's matching
 * {@link Credential}. The orchestrator makes a mode's {@link Keys} (a fresh random secret or RSA key pair),
 * hands the gateway child the verification key as a JWK in a file ({@code --auth-key}), and signs one token
 * per load-generator worker before a run starts, so that signing never costs the client during the run.
 * The gateway verifies the token on every handshake, with {@link JwtAuthenticator}: signature, algorithm,
 * {@code iss}, {@code aud} and {@code exp}.
 */
enum Auth {

    /** No authentication: every client is let in anonymously. */
    NONE("none", null) {
        @Override
        Keys newKeys() {
            return Keys.NONE;
        }

        @Override
        Authenticator authenticator(String verificationJwk) {
            if (verificationJwk != null) {
                throw new UsageException("--auth-key: not used by --auth none");
            }
            return Authenticator.none();
        }
    },

    /** A JWT signed with HMAC-SHA256 under a random 256-bit secret shared by the orchestrator and the gateway. */
    JWT_HS256("jwt-hs256", JWSAlgorithm.HS256) {
        @Override
        Keys newKeys() {
            byte[] secret = new byte[32];
            RANDOM.nextBytes(secret);
            return new Keys(this, new OctetSequenceKey.Builder(secret).build());
        }

        @Override
        Authenticator authenticator(String verificationJwk) {
            JWK key = parseKey(verificationJwk, flag());
            if (!(key instanceof OctetSequenceKey)) {
                throw new UsageException("--auth-key: a " + key.getKeyType() + " key (expected: an oct key for " + flag() + ")");
            }
            return jwt().secret(((OctetSequenceKey) key).toByteArray()).algorithms("HS256").build();
        }
    },

    /** A JWT signed with RSA-SHA256 (2048-bit key pair); the gateway has only the public key. */
    JWT_RS256("jwt-rs256", JWSAlgorithm.RS256) {
        @Override
        Keys newKeys() {
            try {
                return new Keys(this, new RSAKeyGenerator(RSA_BITS).generate());
            } catch (JOSEException e) {
                throw new IllegalStateException("cannot generate an RSA key pair", e);
            }
        }

        @Override
        Authenticator authenticator(String verificationJwk) {
            JWK key = parseKey(verificationJwk, flag());
            if (!(key instanceof RSAKey) || key.isPrivate()) {
                throw new UsageException("--auth-key: " + (key.isPrivate() ? "a private key" : "a " + key.getKeyType() + " key")
                        + " (expected: a public RSA key for " + flag() + ")");
            }
            try {
                return jwt().publicKey(((RSAKey) key).toRSAPublicKey()).algorithms("RS256").build();
            } catch (JOSEException e) {
                throw new UsageException("--auth-key: not a usable RSA public key (" + e.getMessage() + ")");
            }
        }
    };

    /** The {@code iss} of the benchmark's tokens, required by the gateway. */
    static final String ISSUER = "gatehouse-bench";
    /** The {@code aud} of the benchmark's tokens, required by the gateway. */
    static final String AUDIENCE = "echo";
    /** How long a token is valid: longer than any run, so that none expires during one. */
    static final Duration TOKEN_LIFETIME = Duration.ofHours(1);
    /** The size of the RS256 modulus. */
    static final int RSA_BITS = 2048;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String flag;
    private final JWSAlgorithm algorithm; // null: no token

    Auth(String flag, JWSAlgorithm algorithm) {
        this.flag = flag;
        this.algorithm = algorithm;
    }

    /** The value of {@code --auth} that selects this mode. */
    String flag() {
        return flag;
    }

    /** The JWS algorithm of this mode's tokens, e.g. {@code HS256}; {@code null} without a token. */
    String algorithm() {
        return algorithm == null ? null : algorithm.getName();
    }

    /** Fresh key material: none, a random 256-bit secret, or a 2048-bit RSA key pair. */
    abstract Keys newKeys();

    /**
     * The gateway role's authenticator for the benchmark route.
     *
     * @param verificationJwk the key from {@link Keys#verificationJwk()}, as JSON; {@code null} for {@link #NONE}
     * @throws UsageException if the key is missing or is not this mode's
     */
    abstract Authenticator authenticator(String verificationJwk);

    /** The token checks every JWT mode shares: issuer and audience, besides the signature and expiry. */
    private static JwtAuthenticator.Builder jwt() {
        return JwtAuthenticator.builder().issuer(ISSUER).audience(AUDIENCE);
    }

    private static JWK parseKey(String json, String flag) {
        if (json == null) {
            throw new UsageException("--auth " + flag + " needs --auth-key FILE (the verification key as a JWK)");
        }
        try {
            return JWK.parse(json);
        } catch (ParseException e) {
            throw new UsageException("--auth-key: not a JWK (" + e.getMessage() + ")");
        }
    }

    /**
     * The mode named by {@code --auth}.
     *
     * @throws UsageException for an unknown mode
     */
    static Auth parse(String flag) {
        for (Auth a : values()) {
            if (a.flag.equals(flag.toLowerCase(Locale.ROOT))) {
                return a;
            }
        }
        throw new UsageException("--auth: " + flag + " (expected: one of "
                + Arrays.stream(values()).map(Auth::flag).collect(Collectors.joining(", ")) + ")");
    }

    /** What the load generator adds to an upgrade request. */
    interface Credential {
        /** No credential at all. */
        Credential ANONYMOUS = request -> {
            // nothing to add
        };

        /** Adds the credential to an upgrade request. */
        void decorate(ClientUpgradeRequest request);
    }

    /** A signed token sent as {@code Authorization: Bearer}, the gateway's default place for it. */
    record Bearer(String token) implements Credential {
        @Override
        public void decorate(ClientUpgradeRequest request) {
            request.setHeader("Authorization", "Bearer " + token);
        }
    }

    /**
     * One mode's key material, made by the orchestrator: it signs the load generator's tokens and gives the
     * gateway child its verification key.
     */
    static final class Keys {
        /** The keys of {@link Auth#NONE}: nothing to sign, nothing to verify. */
        static final Keys NONE = new Keys(Auth.NONE, null);

        private final Auth mode;
        private final JWK key; // the secret or the RSA key pair; null for NONE
        private final JWSSigner signer;

        private Keys(Auth mode, JWK key) {
            this.mode = mode;
            this.key = key;
            try {
                this.signer = key == null ? null
                        : key instanceof RSAKey ? new RSASSASigner((RSAKey) key) : new MACSigner((OctetSequenceKey) key);
            } catch (JOSEException e) {
                throw new IllegalStateException("cannot sign with a " + key.getKeyType() + " key", e);
            }
        }

        Auth mode() {
            return mode;
        }

        /**
         * The key the gateway verifies with, as a JWK in JSON: the shared secret itself for HS256, only the
         * public half of the pair for RS256; {@code null} for {@link Auth#NONE}.
         */
        String verificationJwk() {
            if (key == null) {
                return null;
            }
            return (key instanceof RSAKey ? key.toPublicJWK() : key).toJSONString();
        }

        /**
         * One credential per worker, each with its own token signed now (subject {@code bench-<i>}, valid for
         * {@link Auth#TOKEN_LIFETIME}); {@link Credential#ANONYMOUS} for every worker without a mode.
         */
        List<Credential> credentials(int workers) {
            List<Credential> out = new ArrayList<>(workers);
            Instant now = Instant.now();
            for (int i = 0; i < workers; i++) {
                out.add(key == null ? Credential.ANONYMOUS : new Bearer(token("bench-" + i, now, now.plus(TOKEN_LIFETIME))));
            }
            return out;
        }

        /** A token for {@code subject}, issued at {@code issuedAt}, expiring at {@code expiry}. */
        String token(String subject, Instant issuedAt, Instant expiry) {
            if (key == null) {
                throw new IllegalStateException("auth " + mode.flag() + " has no tokens");
            }
            JWTClaimsSet claims = new JWTClaimsSet.Builder()
                    .subject(subject)
                    .issuer(ISSUER)
                    .audience(AUDIENCE)
                    .issueTime(Date.from(issuedAt))
                    .expirationTime(Date.from(expiry))
                    .build();
            SignedJWT jwt = new SignedJWT(new JWSHeader(mode.algorithm), claims);
            try {
                jwt.sign(signer);
            } catch (JOSEException e) {
                throw new IllegalStateException("cannot sign a " + mode.algorithm() + " token", e);
            }
            return jwt.serialize();
        }
    }
}
