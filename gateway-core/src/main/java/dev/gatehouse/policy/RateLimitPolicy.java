package dev.gatehouse.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.InstantSource;

import dev.gatehouse.GatewayException;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.spi.LimiterStore;

/**
 * Limits the rate of handshakes with a token bucket per key: the client's address, the principal, or the
 * route (see {@link LimitKey}). Each handshake takes one token; a bucket holds up to {@code burst} tokens
 * and gets {@code rate} of them back per period. A handshake that finds its bucket empty is rejected with
 * 429 {@link Rejection#RATE_LIMITED} and {@code Retry-After}: the whole seconds (at least 1) until a token
 * is back.
 *
 * <pre>{@code
 * Policy perClient = RateLimitPolicy.perIp(10, 20);   // 10 handshakes a second per client address, bursts of 20
 * Policy perUser = RateLimitPolicy.builder(LimitKey.principal())
 *         .rate(100, Duration.ofMinutes(1))
 *         .burst(10)
 *         .build();
 * }</pre>
 *
 * <p>Every handshake that reaches the policy counts, including those that a later policy or the backend
 * rejects. The buckets live in a {@link LimiterStore}: by default an in-memory store of the policy's own,
 * bounded to 100,000 keys whose idle ones expire; give several instances of the gateway a shared store
 * with {@link Builder#store(LimiterStore)} and a distinct {@link Builder#name(String)} per policy.
 */
public final class RateLimitPolicy implements Policy {

    private final LimitKey key;
    private final LimiterStore.Bucket bucket;
    private final String name;
    private final LimiterStore store;
    private final InstantSource clock;
    private final String description;

    private RateLimitPolicy(Builder b, long permits, Duration per) {
        this.key = b.key;
        this.bucket = new LimiterStore.Bucket(b.burst > 0 ? b.burst : permits, permits / seconds(per));
        this.name = b.name;
        this.store = b.store != null ? b.store : LimiterStore.inMemory();
        this.clock = b.clock;
        this.description = "RateLimitPolicy[" + name + ": " + permits + " per " + per + " per " + key
                + ", burst " + bucket.capacity() + "]";
    }

    /**
     * Limits each client address ({@link Handshake#clientAddress()}) to {@code perSecond} handshakes a second,
     * with bursts of up to {@code burst}.
     *
     * @throws IllegalArgumentException if either is not positive
     */
    public static RateLimitPolicy perIp(int perSecond, int burst) {
        return builder(LimitKey.clientAddress()).rate(perSecond, Duration.ofSeconds(1)).burst(burst).build();
    }

    /**
     * Limits each principal (by subject) to {@code perSecond} handshakes a second, with bursts of up to
     * {@code burst}. Anonymous handshakes are limited per client address instead.
     *
     * @throws IllegalArgumentException if either is not positive
     */
    public static RateLimitPolicy perPrincipal(int perSecond, int burst) {
        return builder(LimitKey.principal()).rate(perSecond, Duration.ofSeconds(1)).burst(burst).build();
    }

    /**
     * Limits all the handshakes this policy sees (those of the route it is added to) to {@code perSecond} a
     * second, with bursts of up to {@code burst}. Add one instance per route: an instance shared by routes
     * limits them together.
     *
     * @throws IllegalArgumentException if either is not positive
     */
    public static RateLimitPolicy perRoute(int perSecond, int burst) {
        return builder(LimitKey.route()).rate(perSecond, Duration.ofSeconds(1)).burst(burst).build();
    }

    /** Starts a policy limiting handshakes per key; {@link Builder#rate(int, Duration)} is required. */
    public static Builder builder(LimitKey key) {
        return new Builder(key);
    }

    @Override
    public Verdict evaluate(Handshake handshake, Chain chain) {
        String k = key.of(handshake);
        if (k == null) {
            throw new GatewayException("limit key " + key + " returned null");
        }
        LimiterStore.Take take = store.tryTake(name + ":" + k, bucket, 1, clock.instant());
        if (take.allowed()) {
            return chain.proceed(handshake);
        }
        long retry = retryAfterSeconds(take.retryAfter());
        return Verdict.reject(Rejection.RATE_LIMITED, "too many handshakes; retry in " + retry + " s")
                .withHeader("Retry-After", Long.toString(retry));
    }

    @Override
    public String toString() {
        return description;
    }

    /** Whole seconds, rounded up, at least 1. */
    static long retryAfterSeconds(Duration d) {
        long s = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
        return Math.max(1, s);
    }

    private static double seconds(Duration d) {
        return d.getSeconds() + d.getNano() / 1e9;
    }

    /** Builds a {@link RateLimitPolicy}. */
    public static final class Builder {
        private final LimitKey key;
        private int permits;
        private Duration per;
        private int burst;
        private String name = "rate-limit";
        private LimiterStore store;
        private InstantSource clock = InstantSource.system();

        private Builder(LimitKey key) {
            this.key = requireNonNull(key, "key");
        }

        /**
         * The sustained rate: {@code permits} handshakes per {@code per}; required.
         *
         * @throws IllegalArgumentException if {@code permits} or {@code per} is not positive
         */
        public Builder rate(int permits, Duration per) {
            requireNonNull(per, "per");
            if (permits < 1) {
                throw new IllegalArgumentException("permits: " + permits + " (expected: > 0)");
            }
            if (per.isNegative() || per.isZero()) {
                throw new IllegalArgumentException("per: " + per + " (expected: > 0)");
            }
            this.permits = permits;
            this.per = per;
            return this;
        }

        /**
         * The most handshakes let through at once after a quiet spell (the bucket's capacity); the rate's
         * {@code permits} by default.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder burst(int burst) {
            if (burst < 1) {
                throw new IllegalArgumentException("burst: " + burst + " (expected: > 0)");
            }
            this.burst = burst;
            return this;
        }

        /**
         * The prefix of this policy's keys in the store ({@code <name>:ip:192.0.2.7}); {@code rate-limit} by
         * default. Policies that share a store need distinct names.
         *
         * @throws IllegalArgumentException if it is empty
         */
        public Builder name(String name) {
            requireNonNull(name, "name");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("name: \"\" (expected: not empty)");
            }
            this.name = name;
            return this;
        }

        /** Where the buckets live; a new {@link LimiterStore#inMemory()} of this policy's own by default. */
        public Builder store(LimiterStore store) {
            this.store = requireNonNull(store, "store");
            return this;
        }

        /** The clock passed to the store; the system clock by default. Tests pass their own. */
        public Builder clock(InstantSource clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Builds the policy.
         *
         * @throws IllegalStateException if no rate was set
         */
        public RateLimitPolicy build() {
            if (per == null) {
                throw new IllegalStateException("rate: not set (expected: rate(permits, per))");
            }
            return new RateLimitPolicy(this, permits, per);
        }
    }
}
