package dev.gatehouse;

/**
 * An admission rule that runs during the upgrade, after authentication and before the backend is
 * dialled. Policies of a route run in registration order; each either returns a {@link Verdict.Reject}
 * or calls {@link Chain#proceed(Handshake)} exactly once and returns (or replaces) its result.
 *
 * <pre>{@code
 * Policy needsChatV1 = (handshake, chain) -> handshake.subprotocols().contains("chat.v1")
 *         ? chain.proceed(handshake)
 *         : Verdict.reject(Rejection.FORBIDDEN, "subprotocol chat.v1 required");
 * }</pre>
 *
 * <p>Threading: called on a server thread of the upgrade request; a policy must not block on network I/O
 * without a bound. An exception thrown by a policy rejects the handshake with 500 and is logged.
 */
@FunctionalInterface
public interface Policy {

    /**
     * Decides on a handshake.
     *
     * @param handshake the handshake, with its principal when authenticated
     * @param chain     the remaining policies
     * @return the verdict; never {@code null}
     */
    Verdict evaluate(Handshake handshake, Chain chain);

    /**
     * A policy that admits every handshake as it is. Given to a route as its only policy, it means that the
     * route runs no policy, not the gateway-wide ones ({@link Gateway.Builder#policy(Policy)}).
     */
    static Policy none() {
        return NoPolicy.INSTANCE;
    }

    /** The remaining policies; the last link returns {@code Allow} with the handshake it receives. */
    @FunctionalInterface
    interface Chain {
        /** Runs the remaining policies on the handshake; call at most once. */
        Verdict proceed(Handshake handshake);
    }
}
