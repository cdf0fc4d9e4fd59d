package dev.gatehouse.policy;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/**
 * Admits only upgrades whose {@code Origin} header is on an allow-list, which protects browser users from
 * cross-site WebSocket hijacking. Entries are exact origins ({@code https://app.example.com},
 * {@code http://localhost:8080}) or wildcard subdomains ({@code https://*.example.com}, which does not
 * match {@code https://example.com} itself). Rejections are 403.
 *
 * <p>A request without {@code Origin} is admitted by default: browsers always send the header on a WebSocket
 * upgrade, so its absence means a client that is not a browser (a server, {@code websocat}), which could send
 * any {@code Origin} it likes and is not what this policy protects against. {@code allowMissing(false)}
 * refuses such requests too.
 *
 * <pre>{@code
 * Policy origins = OriginPolicy.allow("https://app.example.com", "https://*.example.com");
 * }</pre>
 */
public final class OriginPolicy implements Policy {

    private record Pattern(String scheme, String host, int port, boolean wildcard) {
        boolean matches(String scheme, String host, int port) {
            if (!this.scheme.equals(scheme) || this.port != port) {
                return false;
            }
            return wildcard ? host.endsWith("." + this.host) : this.host.equals(host);
        }
    }

    private final List<String> origins;
    private final List<Pattern> patterns;
    private final boolean allowMissing;

    private OriginPolicy(Builder b) {
        this.origins = List.copyOf(b.origins);
        this.patterns = List.copyOf(b.patterns);
        this.allowMissing = b.allowMissing;
    }

    /**
     * A policy that admits these origins only.
     *
     * @throws IllegalArgumentException if an origin is malformed
     */
    public static OriginPolicy allow(String... origins) {
        Builder b = builder();
        for (String origin : origins) {
            b.allow(origin);
        }
        return b.build();
    }

    /** Starts a policy. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Verdict evaluate(Handshake handshake, Chain chain) {
        Optional<String> origin = handshake.header("Origin");
        if (origin.isEmpty()) {
            return allowMissing ? chain.proceed(handshake)
                    : Verdict.reject(Rejection.FORBIDDEN, "an Origin header is required");
        }
        Origin parsed = Origin.parse(origin.get());
        if (parsed != null) {
            for (Pattern p : patterns) {
                if (p.matches(parsed.scheme, parsed.host, parsed.port)) {
                    return chain.proceed(handshake);
                }
            }
        }
        return Verdict.reject(Rejection.FORBIDDEN, "origin " + origin.get() + " is not allowed");
    }

    /** Whether a request without an {@code Origin} header is admitted; see {@link Builder#allowMissing(boolean)}. */
    public boolean allowsMissing() {
        return allowMissing;
    }

    @Override
    public String toString() {
        return "OriginPolicy" + origins;
    }

    private record Origin(String scheme, String host, int port) {
        /** Parses {@code scheme://host[:port]}; {@code null} for "null" and anything else. */
        static Origin parse(String value) {
            try {
                URI uri = new URI(value.trim());
                String scheme = uri.getScheme();
                String host = uri.getHost();
                if (scheme == null || host == null || (uri.getRawPath() != null && !uri.getRawPath().isEmpty()
                        && !uri.getRawPath().equals("/")) || uri.getRawQuery() != null || uri.getRawUserInfo() != null) {
                    return null;
                }
                scheme = scheme.toLowerCase(Locale.ROOT);
                int port = uri.getPort() >= 0 ? uri.getPort() : defaultPort(scheme);
                return new Origin(scheme, host.toLowerCase(Locale.ROOT), port);
            } catch (URISyntaxException e) {
                return null;
            }
        }

        static int defaultPort(String scheme) {
            return switch (scheme) {
                case "https", "wss" -> 443;
                case "http", "ws" -> 80;
                default -> -1;
            };
        }
    }

    /** Builds an {@link OriginPolicy}. */
    public static final class Builder {
        private final Set<String> origins = new LinkedHashSet<>();
        private final List<Pattern> patterns = new ArrayList<>();
        private boolean allowMissing = true;

        private Builder() {
        }

        /**
         * Adds an allowed origin, exact or with a {@code *.} wildcard host.
         *
         * @throws IllegalArgumentException if it is not {@code scheme://host[:port]}
         */
        public Builder allow(String origin) {
            requireNonNull(origin, "origin");
            boolean wildcard = origin.contains("://*.");
            Origin parsed = Origin.parse(wildcard ? origin.replace("://*.", "://") : origin);
            if (parsed == null || parsed.host().contains("*")) {
                throw new IllegalArgumentException("origin: " + origin
                        + " (expected: scheme://host[:port] or scheme://*.domain[:port])");
            }
            if (origins.add(origin)) {
                patterns.add(new Pattern(parsed.scheme(), parsed.host(), parsed.port(), wildcard));
            }
            return this;
        }

        /**
         * Whether a request without an {@code Origin} header (not from a browser) is admitted; true by default.
         * False refuses it with 403.
         */
        public Builder allowMissing(boolean allowMissing) {
            this.allowMissing = allowMissing;
            return this;
        }

        /**
         * Builds the policy.
         *
         * @throws IllegalStateException if no origin was added
         */
        public OriginPolicy build() {
            if (origins.isEmpty()) {
                throw new IllegalStateException("origins: none (expected: at least one allowed origin)");
            }
            return new OriginPolicy(this);
        }
    }
}
