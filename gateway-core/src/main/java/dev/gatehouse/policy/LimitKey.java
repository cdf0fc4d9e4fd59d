package dev.gatehouse.policy;

import dev.gatehouse.Handshake;

/**
 * What a handshake limiter counts by: handshakes with the same key share one limit. The built-in keys are
 * {@link #clientAddress()}, {@link #principal()}, {@link #consumer()} and {@link #route()}; your own is a
 * lambda:
 *
 * <pre>{@code
 * LimitKey byTenant = handshake -> "tenant:" + handshake.header("X-Tenant").orElse("-");
 * }</pre>
 *
 * <p>Keys of different kinds never collide: the built-in ones start with {@code ip:}, {@code principal:},
 * {@code consumer:} or are {@code route}. Threading: called on the upgrade's server thread; it must be fast
 * and must not return {@code null} (which rejects the handshake with 500).
 */
@FunctionalInterface
public interface LimitKey {

    /** The key of this handshake. */
    String of(Handshake handshake);

    /** The client's address ({@link Handshake#clientAddress()}): {@code ip:192.0.2.7}. */
    static LimitKey clientAddress() {
        return StandardLimitKey.CLIENT_ADDRESS;
    }

    /**
     * The principal's subject ({@code principal:alice}); for an anonymous handshake, the client's address
     * instead, so that anonymous clients are limited one by one rather than all together.
     */
    static LimitKey principal() {
        return StandardLimitKey.PRINCIPAL;
    }

    /**
     * The principal's consumer ({@code consumer:mobile-app}), else its subject, else (anonymous) the client's
     * address: the identity a quota is usually sold to.
     */
    static LimitKey consumer() {
        return StandardLimitKey.CONSUMER;
    }

    /**
     * One key for every handshake: the limiter counts all the handshakes it sees, that is all those of the
     * route it is added to. A limiter instance added to several routes counts them together.
     */
    static LimitKey route() {
        return StandardLimitKey.ROUTE;
    }
}
