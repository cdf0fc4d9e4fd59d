package dev.gatehouse.policy;

import static java.util.Objects.requireNonNull;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Verdict;

/**
 * A policy that passes claims of the authenticated principal to the backend as request headers, next to
 * the {@code X-Gatehouse-Subject} and {@code X-Gatehouse-Consumer} headers every authenticated connection
 * gets. A header a client sent under the same name is never forwarded: headers starting with
 * {@code X-Gatehouse-} are removed from every client request, and a mapped header replaces any value.
 *
 * <pre>{@code
 * Route.builder("/chat/{room}")
 *         .authenticator(jwt)
 *         .policy(IdentityHeadersPolicy.builder()
 *                 .claim("tenant", "X-Gatehouse-Tenant")
 *                 .claim("email", "X-Gatehouse-Email")
 *                 .build())
 * }</pre>
 *
 * <p>String, number and boolean claims are sent as their text; an array as its elements joined with
 * commas; other shapes are skipped. A claim the principal lacks is not sent, and neither is any value
 * the client sent under a mapped name, also on anonymous handshakes.
 */
public final class IdentityHeadersPolicy implements Policy {

    private final Map<String, String> claimToHeader;

    private IdentityHeadersPolicy(Map<String, String> claimToHeader) {
        this.claimToHeader = Map.copyOf(claimToHeader);
    }

    /** A policy mapping one claim to one header. */
    public static IdentityHeadersPolicy claim(String claim, String header) {
        return builder().claim(claim, header).build();
    }

    /** Starts a policy. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Verdict evaluate(Handshake handshake, Chain chain) {
        Map<String, Object> claims = handshake.principal().map(Principal::claims).orElse(Map.of());
        Handshake.Builder b = handshake.toBuilder();
        claimToHeader.forEach((claim, header) -> {
            b.removeHeader(header);
            String value = text(claims.get(claim));
            if (value != null) {
                b.header(header, value);
            }
        });
        return chain.proceed(b.build());
    }

    private static String text(Object value) {
        if (value instanceof String || value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        if (value instanceof Collection) {
            return ((Collection<?>) value).stream()
                    .filter(v -> v instanceof String || v instanceof Number || v instanceof Boolean)
                    .map(Object::toString).collect(Collectors.joining(","));
        }
        return null;
    }

    @Override
    public String toString() {
        return "IdentityHeadersPolicy" + claimToHeader;
    }

    /** Builds {@link IdentityHeadersPolicy}. */
    public static final class Builder {
        private final Map<String, String> claimToHeader = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Sends the claim's value in the header.
         *
         * @throws IllegalArgumentException if the header name is not a valid token or is a handshake header
         */
        public Builder claim(String claim, String header) {
            requireNonNull(claim, "claim");
            requireNonNull(header, "header");
            if (!header.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                throw new IllegalArgumentException("header: " + header + " (expected: a header name)");
            }
            String lower = header.toLowerCase(Locale.ROOT);
            if (lower.equals("host") || lower.startsWith("sec-websocket-") || lower.equals("upgrade")
                    || lower.equals("connection")) {
                throw new IllegalArgumentException("header: " + header + " (expected: not a handshake header)");
            }
            claimToHeader.put(claim, header);
            return this;
        }

        /**
         * Builds the policy.
         *
         * @throws IllegalStateException if no claim is mapped
         */
        public IdentityHeadersPolicy build() {
            if (claimToHeader.isEmpty()) {
                throw new IllegalStateException("claims: none (expected: at least one claim mapped to a header)");
            }
            return new IdentityHeadersPolicy(claimToHeader);
        }
    }
}
