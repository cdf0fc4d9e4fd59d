package dev.gatehouse.policy;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/**
 * Admits only principals that hold the route's required scopes and claims, whatever authenticator
 * established them. A principal missing a scope is rejected with 403 and
 * {@code WWW-Authenticate: Bearer error="insufficient_scope", scope="<required scopes>"}; one missing a claim,
 * or holding another value, with 403; an anonymous handshake with 401 {@link Rejection#UNAUTHORIZED}.
 *
 * <pre>{@code
 * Policy writers = ClaimsPolicy.requireScopes("chat:write");
 * Policy acme = ClaimsPolicy.builder().scopes("chat:read").claim("tenant", "acme").claim("email_verified", "true").build();
 * }</pre>
 *
 * <p>A claim matches a required value when it is that string, a number or boolean whose JSON text is that
 * value, or an array containing one of those. {@link Builder#claim(String)} only requires the claim to be
 * present (and not JSON {@code null}).
 */
public final class ClaimsPolicy implements Policy {

    private final Set<String> scopes;
    private final Set<String> present;
    private final Map<String, String> values;
    private final String scopeList; // the required scopes, space-separated, in the order given
    private final String description;

    private ClaimsPolicy(Builder b) {
        this.scopes = Set.copyOf(b.scopes);
        this.present = Set.copyOf(b.present);
        this.values = Map.copyOf(b.values);
        List<String> claims = new ArrayList<>(b.present);
        claims.addAll(b.values.keySet());
        this.description = "ClaimsPolicy[scopes=" + b.scopes + ", claims=" + claims + "]";
        this.scopeList = String.join(" ", b.scopes);
    }

    /**
     * Requires every one of these scopes.
     *
     * @throws IllegalStateException if none is given
     */
    public static ClaimsPolicy requireScopes(String... scopes) {
        return builder().scopes(scopes).build();
    }

    /** Requires a claim with this value (or an array claim containing it). */
    public static ClaimsPolicy requireClaim(String name, String value) {
        return builder().claim(name, value).build();
    }

    /** Starts a policy. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Verdict evaluate(Handshake handshake, Chain chain) {
        Optional<Principal> principal = handshake.principal();
        if (principal.isEmpty()) {
            return Verdict.reject(Rejection.UNAUTHORIZED, "authentication is required");
        }
        Principal p = principal.get();
        if (!p.scopes().containsAll(scopes)) {
            List<String> missing = new ArrayList<>();
            for (String s : scopeList.split(" ")) {
                if (!p.scopes().contains(s)) {
                    missing.add(s);
                }
            }
            return Verdict.reject(Rejection.FORBIDDEN, "missing scope " + String.join(" ", missing))
                    .withHeader("WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"" + scopeList + "\"");
        }
        for (String name : present) {
            if (!p.claims().containsKey(name)) {
                return Verdict.reject(Rejection.FORBIDDEN, "claim " + name + " is required");
            }
        }
        for (Map.Entry<String, String> e : values.entrySet()) {
            if (!matches(p.claims().get(e.getKey()), e.getValue())) {
                return Verdict.reject(Rejection.FORBIDDEN, "claim " + e.getKey() + " does not have the required value");
            }
        }
        return chain.proceed(handshake);
    }

    @Override
    public String toString() {
        return description;
    }

    private static boolean matches(Object claim, String required) {
        if (claim instanceof Collection) {
            for (Object element : (Collection<?>) claim) {
                if (matchesScalar(element, required)) {
                    return true;
                }
            }
            return false;
        }
        return matchesScalar(claim, required);
    }

    private static boolean matchesScalar(Object claim, String required) {
        return (claim instanceof String || claim instanceof Number || claim instanceof Boolean)
                && claim.toString().equals(required);
    }

    /** Builds a {@link ClaimsPolicy}. */
    public static final class Builder {
        private final Set<String> scopes = new LinkedHashSet<>();
        private final Set<String> present = new LinkedHashSet<>();
        private final Map<String, String> values = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Adds required scopes.
         *
         * @throws IllegalArgumentException if a scope is empty or contains a space
         */
        public Builder scopes(String... scopes) {
            for (String s : scopes) {
                requireNonNull(s, "scope");
                if (s.isEmpty() || s.contains(" ") || s.contains("\"")) {
                    throw new IllegalArgumentException("scope: \"" + s + "\" (expected: a non-empty token without spaces or quotes)");
                }
                this.scopes.add(s);
            }
            return this;
        }

        /** Requires a claim to be present, with any value. */
        public Builder claim(String name) {
            present.add(requireNonNull(name, "name"));
            return this;
        }

        /** Requires a claim to have this value (or to be an array containing it). */
        public Builder claim(String name, String value) {
            values.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
            return this;
        }

        /**
         * Builds the policy.
         *
         * @throws IllegalStateException if nothing is required
         */
        public ClaimsPolicy build() {
            if (scopes.isEmpty() && present.isEmpty() && values.isEmpty()) {
                throw new IllegalStateException("requirements: none (expected: at least one scope or claim)");
            }
            return new ClaimsPolicy(this);
        }
    }
}
