package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who a client is, as an authenticator established it. It travels with the connection for its whole life
 * and is forwarded to the backend as identity headers ({@code X-Gatehouse-Subject},
 * {@code X-Gatehouse-Consumer}).
 */
public final class Principal {

    private final String subject;
    private final String consumer; // null when the credential is not tied to a consumer
    private final Map<String, Object> claims;
    private final Set<String> scopes;
    private final Instant expiresAt; // null when the credential does not expire

    private Principal(Builder b) {
        this.subject = b.subject;
        this.consumer = b.consumer;
        this.claims = Collections.unmodifiableMap(new LinkedHashMap<>(b.claims));
        this.scopes = Set.copyOf(b.scopes);
        this.expiresAt = b.expiresAt;
    }

    /** A principal with only a subject. */
    public static Principal of(String subject) {
        return builder(subject).build();
    }

    /** Starts a principal with the given subject. */
    public static Builder builder(String subject) {
        return new Builder(subject);
    }

    /** The subject: a user id, a client id, or the consumer's name for API keys. */
    public String subject() {
        return subject;
    }

    /** The consumer (API client) this credential belongs to. */
    public Optional<String> consumer() {
        return Optional.ofNullable(consumer);
    }

    /** The verified claims of the credential; empty for API keys. */
    public Map<String, Object> claims() {
        return claims;
    }

    /** The granted scopes. */
    public Set<String> scopes() {
        return scopes;
    }

    /** When the credential expires. */
    public Optional<Instant> expiresAt() {
        return Optional.ofNullable(expiresAt);
    }

    @Override
    public String toString() {
        return consumer == null ? subject : subject + " (consumer " + consumer + ")";
    }

    /** Builds a {@link Principal}. */
    public static final class Builder {
        private final String subject;
        private String consumer;
        private Map<String, Object> claims = Map.of();
        private Set<String> scopes = Set.of();
        private Instant expiresAt;

        private Builder(String subject) {
            this.subject = requireNonNull(subject, "subject");
        }

        /** The consumer this credential belongs to. */
        public Builder consumer(String consumer) {
            this.consumer = requireNonNull(consumer, "consumer");
            return this;
        }

        /** The verified claims. */
        public Builder claims(Map<String, Object> claims) {
            Map<String, Object> copy = new LinkedHashMap<>();
            requireNonNull(claims, "claims").forEach((k, v) -> {
                if (k != null && v != null) {
                    copy.put(k, v); // JSON nulls carry nothing
                }
            });
            this.claims = copy;
            return this;
        }

        /** The granted scopes. */
        public Builder scopes(Set<String> scopes) {
            this.scopes = Set.copyOf(requireNonNull(scopes, "scopes"));
            return this;
        }

        /** When the credential expires. */
        public Builder expiresAt(Instant expiresAt) {
            this.expiresAt = requireNonNull(expiresAt, "expiresAt");
            return this;
        }

        /** Builds the principal. */
        public Principal build() {
            return new Principal(this);
        }
    }
}
