package dev.gatehouse;

import java.util.List;


/**
 * Establishes who a client is before the upgrade. It returns {@link Verdict#allow(Handshake)} with the
 * handshake carrying the {@link Principal} (and without the credential, so that it is not forwarded), or a
 * {@link Verdict.Reject}, typically {@link Rejection#UNAUTHORIZED}.
 *
 * <pre>{@code
 * Authenticator byHeader = handshake -> handshake.header("X-User")
 *         .map(user -> Verdict.allow(handshake.withPrincipal(Principal.of(user)).withoutHeader("X-User")))
 *         .orElseGet(() -> Verdict.reject(Rejection.UNAUTHORIZED, "X-User header required"));
 * }</pre>
 *
 * <p>Threading: called on a server thread of the upgrade request, concurrently for many requests; it must
 * be thread-safe and must not block on network I/O without a bound. An exception rejects the handshake
 * with 500 and is logged.
 */
@FunctionalInterface
public interface Authenticator {

    /**
     * Authenticates a handshake.
     *
     * @return the verdict; never {@code null}
     */
    Verdict authenticate(Handshake handshake);

    /**
     * Lets every client in anonymously. Given to a route, it opts the route out of the gateway's authenticator
     * ({@link Gateway.Builder#authenticator(Authenticator)}). Always the same instance.
     */
    static Authenticator none() {
        return NoAuthenticator.INSTANCE;
    }

    /**
     * A chain: the first authenticator that finds its kind of credential decides. An authenticator that
     * reports {@link Rejection#CREDENTIAL_MISSING} passes the request to the next; when all do, the
     * request is rejected with 401 (the first one's challenge headers included).
     *
     * <pre>{@code
     * Authenticator.firstOf(JwtAuthenticator.hmacSha256(secret), ApiKeyAuthenticator.of(key, "ops"))
     * }</pre>
     */
    static Authenticator firstOf(Authenticator... authenticators) {
        List<Authenticator> chain = List.of(authenticators);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("authenticators: none (expected: at least one)");
        }
        return new FirstOfAuthenticator(chain);
    }

    /**
     * This authenticator, letting clients that present no credential in anonymously; a credential that is
     * present must still be valid.
     */
    default Authenticator orAnonymous() {
        Authenticator self = this;
        return handshake -> {
            Verdict v = self.authenticate(handshake);
            return v instanceof Verdict.Reject && ((Verdict.Reject) v).kind() == Rejection.CREDENTIAL_MISSING
                    ? Verdict.allow(handshake) : v;
        };
    }
}
