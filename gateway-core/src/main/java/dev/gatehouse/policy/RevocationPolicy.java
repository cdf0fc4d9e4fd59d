package dev.gatehouse.policy;

import static java.util.Objects.requireNonNull;

import java.util.function.Predicate;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/**
 * Refuses handshakes whose credential was revoked, asking your revocation list on every connect. Open
 * connections of a principal revoked later are closed through the registry:
 * {@code gateway.connections().revoke(subject)} closes them with 1008 "revoked".
 *
 * <pre>{@code
 * Route.builder("/chat/{room}")
 *         .authenticator(jwt)
 *         .policy(RevocationPolicy.of(p -> revokedTokenIds.contains(p.claims().get("jti"))))
 * }</pre>
 *
 * <p>A revoked principal gets 401 with {@code WWW-Authenticate: Bearer error="invalid_token"}; anonymous
 * handshakes pass. The check runs on a server thread during the upgrade: keep it fast, or cache.
 */
public final class RevocationPolicy implements Policy {

    private final Predicate<Principal> isRevoked;

    private RevocationPolicy(Predicate<Principal> isRevoked) {
        this.isRevoked = isRevoked;
    }

    /** A policy refusing the principals for which {@code isRevoked} answers true. */
    public static RevocationPolicy of(Predicate<Principal> isRevoked) {
        return new RevocationPolicy(requireNonNull(isRevoked, "isRevoked"));
    }

    @Override
    public Verdict evaluate(Handshake handshake, Chain chain) {
        if (handshake.principal().isPresent() && isRevoked.test(handshake.principal().get())) {
            return Verdict.reject(Rejection.UNAUTHORIZED, "the credential has been revoked")
                    .withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        }
        return chain.proceed(handshake);
    }

    @Override
    public String toString() {
        return "RevocationPolicy";
    }
}
