package dev.gatehouse.auth;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/**
 * Authenticates clients by API key, found by its {@link CredentialSource}s: by default the header
 * {@code X-API-Key}, then the query parameter {@code api_key}. Each key maps to a consumer, which becomes the principal's subject and
 * consumer and reaches the backend as {@code X-Gatehouse-Consumer}.
 *
 * <pre>{@code
 * Authenticator keys = ApiKeyAuthenticator.builder()
 *         .key(System.getenv("MOBILE_KEY"), "mobile-app")
 *         .hashedKey("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "partner")
 *         .build();
 * }</pre>
 *
 * <p>Keys are held only as SHA-256 hashes and compared in constant time; a key is removed from every
 * source before the request is forwarded, and never logged. A missing or unknown key gets
 * 401.
 */
public final class ApiKeyAuthenticator implements Authenticator {

    private final Map<String, Entry> byHash; // hex SHA-256 of the key -> entry
    private final List<CredentialSource> sources;

    private record Entry(byte[] hash, String consumer) {
    }

    private ApiKeyAuthenticator(Builder b) {
        this.byHash = Map.copyOf(b.byHash);
        this.sources = b.sources;
    }

    /**
     * An authenticator with one key for one consumer, read from the default sources.
     *
     * @throws IllegalArgumentException if the key is null (e.g. read from an environment variable that is not
     *                                  set) or blank, or the consumer is empty
     */
    public static ApiKeyAuthenticator of(String key, String consumer) {
        return builder().key(key, consumer).build();
    }

    /** Starts an authenticator. */
    public static Builder builder() {
        return new Builder();
    }

    /** The SHA-256 of a key in lower-case hex, the form {@link Builder#hashedKey} takes. */
    public static String hash(String key) {
        return HexFormat.of().formatHex(sha256(requireNonNull(key, "key")));
    }

    @Override
    public Verdict authenticate(Handshake handshake) {
        CredentialSource.Credential found = null;
        for (CredentialSource source : sources) {
            found = source.find(handshake).orElse(null);
            if (found != null) {
                break;
            }
        }
        if (found == null) {
            return Verdict.reject(Rejection.CREDENTIAL_MISSING, "an API key is required");
        }
        byte[] hash = sha256(found.value());
        Entry entry = byHash.get(HexFormat.of().formatHex(hash));
        if (entry == null || !MessageDigest.isEqual(entry.hash(), hash)) {
            return Verdict.reject(Rejection.UNAUTHORIZED, "the API key is not valid");
        }
        Principal principal = Principal.builder(entry.consumer()).consumer(entry.consumer()).build();
        return Verdict.allow(withoutKeys(found.stripped()).withPrincipal(principal));
    }

    /** The handshake without a key in any source, so that a second copy of it is not forwarded either. */
    private Handshake withoutKeys(Handshake handshake) {
        Handshake h = handshake;
        for (CredentialSource source : sources) {
            Optional<CredentialSource.Credential> other = source.find(h);
            if (other.isPresent()) {
                h = other.get().stripped();
            }
        }
        return h;
    }

    @Override
    public String toString() {
        return "ApiKeyAuthenticator[" + byHash.size() + " keys]";
    }

    private static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** Builds an {@link ApiKeyAuthenticator}. */
    public static final class Builder {
        private final Map<String, Entry> byHash = new HashMap<>();
        private List<CredentialSource> sources =
                List.of(CredentialSource.header("X-API-Key"), CredentialSource.queryParameter("api_key"));

        private Builder() {
        }

        /**
         * Adds a key for a consumer; only its hash is kept.
         *
         * @throws IllegalArgumentException if the key is null (e.g. read from an environment variable that is not
         *                                  set), blank or already added
         */
        public Builder key(String key, String consumer) {
            if (key == null) {
                throw new IllegalArgumentException("key: null (expected: an API key; "
                        + "is the environment variable or setting it was read from set?)");
            }
            if (key.isBlank()) {
                throw new IllegalArgumentException("key: " + (key.isEmpty() ? "empty" : "blank")
                        + " (expected: an API key; is the environment variable or setting it was read from set?)");
            }
            return hashedKey(hash(key), consumer);
        }

        /**
         * Adds a key by its SHA-256 hash (64 hex digits, see {@link ApiKeyAuthenticator#hash(String)}), so
         * that the key itself never appears in configuration.
         */
        public Builder hashedKey(String sha256Hex, String consumer) {
            requireNonNull(sha256Hex, "sha256Hex");
            requireNonNull(consumer, "consumer");
            String hex = sha256Hex.toLowerCase(Locale.ROOT);
            if (!hex.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("sha256Hex: not 64 hex digits (expected: a SHA-256 hash in hex)");
            }
            if (consumer.isEmpty()) {
                throw new IllegalArgumentException("consumer: empty (expected: a consumer name)");
            }
            if (byHash.putIfAbsent(hex, new Entry(HexFormat.of().parseHex(hex), consumer)) != null) {
                throw new IllegalArgumentException("key: added twice (for consumer " + consumer + ")");
            }
            return this;
        }

        /**
         * Where to look for the key, in order; by default {@code CredentialSource.header("X-API-Key")}, then
         * {@code CredentialSource.queryParameter("api_key")}.
         *
         * @throws IllegalArgumentException if there is none
         */
        public Builder credentialSources(CredentialSource... sources) {
            if (sources.length == 0) {
                throw new IllegalArgumentException("credentialSources: none (expected: at least one)");
            }
            this.sources = List.of(sources);
            return this;
        }

        /**
         * Builds the authenticator.
         *
         * @throws IllegalStateException if no key was added
         */
        public ApiKeyAuthenticator build() {
            if (byHash.isEmpty()) {
                throw new IllegalStateException("keys: none (expected: at least one key)");
            }
            return new ApiKeyAuthenticator(this);
        }
    }
}
