package dev.gatehouse.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;


/**
 * A brake on guessing credentials: how many failed authentications a client address may have per period
 * before the gateway stops listening to it for a cool-down. Set it with
 * {@link dev.gatehouse.Gateway.Builder#authFailureLimit(AuthFailureLimit)}; {@link #defaults()} (60 a minute, then a one-minute
 * cool-down) applies unless set, and {@link #none()} turns it off.
 *
 * <pre>{@code
 * Gateway.builder()
 *         .authFailureLimit(AuthFailureLimit.builder(10, Duration.ofMinutes(1))   // 10 a minute per address,
 *                 .coolDown(Duration.ofMinutes(5))                              // then 5 minutes of 429
 *                 .build())
 *         ...
 * }</pre>
 *
 * <p>Only a rejection of kind {@link Rejection#UNAUTHORIZED} by a route's authenticator counts: an invalid
 * credential. A missing credential ({@link Rejection#CREDENTIAL_MISSING}), a policy's rejection and a
 * successful authentication never count, so the clients behind an address are not slowed by each other's
 * successes. Each address has a token bucket of {@code failures} tokens, {@code failures} of which come back
 * per {@code per}, and each failure takes one; the failure that takes the last token starts the cool-down.
 * During the cool-down every handshake from the address, whatever its credential and route, is rejected
 * before its authenticator runs with 429 {@link Rejection#RATE_LIMITED} and {@code Retry-After}: the whole
 * seconds, rounded up, until the cool-down ends. After it, the address proceeds normally, with the tokens
 * the bucket got back meanwhile. The trade-off: good clients that share an address with a guesser (behind a
 * NAT, or the same proxy when {@link dev.gatehouse.Gateway.Builder#trustedProxies} is not set) are shut out with it during
 * the cool-down.
 *
 * <p>The address is the client's as the gateway resolves it ({@link Handshake#clientAddress()}, after
 * trusted proxies); IPv6 clients are counted per /64 network, one subscriber's usual allocation. The state is in memory, per gateway instance, and bounded: up to about 100,000 addresses are
 * tracked; addresses whose buckets are full again and that are not cooling down are forgotten to make room.
 * When every tracked address still matters, a new address is not tracked (its failures do not count) until
 * room frees up, rather than refused, and a warning is logged at most once a minute.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class AuthFailureLimit {

    private static final Duration LONGEST = Duration.ofDays(365);
    private static final AuthFailureLimit NONE = new AuthFailureLimit(0, Duration.ZERO, Duration.ZERO,
            InstantSource.system());
    private static final AuthFailureLimit DEFAULTS = of(60, Duration.ofMinutes(1));

    private final int failures;
    private final Duration per;
    private final Duration coolDown;
    private final InstantSource clock;

    private AuthFailureLimit(int failures, Duration per, Duration coolDown, InstantSource clock) {
        this.failures = failures;
        this.per = per;
        this.coolDown = coolDown;
        this.clock = clock;
    }

    /** The default: 60 failed authentications a minute per client address, then a one-minute cool-down. */
    public static AuthFailureLimit defaults() {
        return DEFAULTS;
    }

    /** No limit: failed authentications are not counted and no address cools down. */
    public static AuthFailureLimit none() {
        return NONE;
    }

    /**
     * Allows each client address {@code failures} failed authentications per {@code per}; the failure that
     * uses them up starts a cool-down as long as {@code per}.
     *
     * @throws IllegalArgumentException if {@code failures} is not positive, or {@code per} is not positive or
     *                                  longer than 365 days
     */
    public static AuthFailureLimit of(int failures, Duration per) {
        return builder(failures, per).build();
    }

    /**
     * Starts a limit of {@code failures} failed authentications per {@code per} for each client address.
     *
     * @throws IllegalArgumentException if {@code failures} is not positive, or {@code per} is not positive or
     *                                  longer than 365 days
     */
    public static Builder builder(int failures, Duration per) {
        return new Builder(failures, per);
    }

    /** Whether failed authentications are limited; false only for {@link #none()}. */
    public boolean isEnabled() {
        return failures > 0;
    }

    /** The failed authentications allowed per {@link #per()} for one address; 0 for {@link #none()}. */
    public int failures() {
        return failures;
    }

    /** The period over which {@link #failures()} are allowed; zero for {@link #none()}. */
    public Duration per() {
        return per;
    }

    /** How long an address that used up its failures is refused; zero for {@link #none()}. */
    public Duration coolDown() {
        return coolDown;
    }

    /** The clock the limit reads; the system clock unless {@link Builder#clock(InstantSource) set}. */
    public InstantSource clock() {
        return clock;
    }

    /** Equal when the failures, period, cool-down and clock are. */
    @Override
    public boolean equals(Object o) {
        return o instanceof AuthFailureLimit other && other.failures == failures && other.per.equals(per)
                && other.coolDown.equals(coolDown) && other.clock.equals(clock);
    }

    @Override
    public int hashCode() {
        return Objects.hash(failures, per, coolDown, clock);
    }

    /** For example {@code AuthFailureLimit[60 per PT1M, cool-down PT1M]}, or {@code AuthFailureLimit[none]}. */
    @Override
    public String toString() {
        return isEnabled() ? "AuthFailureLimit[" + failures + " per " + per + ", cool-down " + coolDown + "]"
                : "AuthFailureLimit[none]";
    }

    private static Duration checked(Duration d, String name) {
        requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
        }
        if (d.compareTo(LONGEST) > 0) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: <= 365 days)");
        }
        return d;
    }

    /** Builds an {@link AuthFailureLimit}. */
    public static final class Builder {
        private final int failures;
        private final Duration per;
        private Duration coolDown;
        private InstantSource clock = InstantSource.system();

        private Builder(int failures, Duration per) {
            if (failures < 1) {
                throw new IllegalArgumentException("failures: " + failures + " (expected: > 0)");
            }
            this.failures = failures;
            this.per = checked(per, "per");
            this.coolDown = per;
        }

        /**
         * How long an address is refused once it used up its failures; the period by default.
         *
         * @throws IllegalArgumentException if it is not positive or longer than 365 days
         */
        public Builder coolDown(Duration coolDown) {
            this.coolDown = checked(coolDown, "coolDown");
            return this;
        }

        /** The clock that times the buckets and cool-downs; the system clock by default. Tests pass their own. */
        public Builder clock(InstantSource clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /** Builds the limit. */
        public AuthFailureLimit build() {
            return new AuthFailureLimit(failures, per, coolDown, clock);
        }
    }
}
