package dev.gatehouse;

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

    /** Lets every client in anonymously. */
    static Authenticator none() {
        return Verdict::allow;
    }
}
