package dev.gatehouse.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

import dev.gatehouse.GatewayException;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.spi.LimiterStore;

/**
 * Allows each consumer a number of connections per period, e.g. 1000 a day. Periods are fixed windows
 * aligned to the epoch (a day runs from 00:00 UTC); the count starts again at each. Beyond the quota the
 * handshake is rejected with 429 {@link Rejection#QUOTA_EXCEEDED} and {@code Retry-After}: the whole
 * seconds until the period ends.
 *
 * <pre>{@code
 * Policy daily = QuotaPolicy.of(1000, Duration.ofDays(1));   // per consumer
 * Policy hourlyPerAddress = QuotaPolicy.builder(50, Duration.ofHours(1)).key(LimitKey.clientAddress()).build();
 * }</pre>
 *
 * <p>The consumer is, by default, {@link LimitKey#consumer()}: the principal's consumer, else its subject,
 * else (anonymous) the client's address. Every handshake that reaches the policy counts, including those
 * that a later policy or the backend rejects. The counters live in a {@link LimiterStore}: by default an
 * in-memory store of the policy's own, bounded to 100,000 keys, each dropped when its period ends; give
 * several instances of the gateway a shared store with {@link Builder#store(LimiterStore)}.
 */
public final class QuotaPolicy implements Policy {

    private final long limit;
    private final Duration period;
    private final LimitKey key;
    private final String name;
    private final LimiterStore store;
    private final InstantSource clock;

    private QuotaPolicy(Builder b) {
        this.limit = b.limit;
        this.period = b.period;
        this.key = b.key;
        this.name = b.name;
        this.store = b.store != null ? b.store : LimiterStore.inMemory();
        this.clock = b.clock;
    }

    /**
     * Allows each consumer {@code limit} connections per {@code period}.
     *
     * @throws IllegalArgumentException if {@code limit} is not positive or {@code period} is under a second
     */
    public static QuotaPolicy of(long limit, Duration period) {
        return builder(limit, period).build();
    }

    /**
     * Starts a quota of {@code limit} connections per {@code period}.
     *
     * @throws IllegalArgumentException if {@code limit} is not positive or {@code period} is under a second
     */
    public static Builder builder(long limit, Duration period) {
        return new Builder(limit, period);
    }

    @Override
    public Verdict evaluate(Handshake handshake, Chain chain) {
        String k = key.of(handshake);
        if (k == null) {
            throw new GatewayException("limit key " + key + " returned null");
        }
        Instant now = clock.instant();
        LimiterStore.Count count = store.increment(name + ":" + k, period, now);
        if (count.count() <= limit) {
            return chain.proceed(handshake);
        }
        Duration left = Duration.between(now, count.windowEnd());
        long retry = RateLimitPolicy.retryAfterSeconds(left.isNegative() ? Duration.ZERO : left);
        return Verdict.reject(Rejection.QUOTA_EXCEEDED, "quota of " + limit + " connections per " + period
                + " used up; retry in " + retry + " s").withHeader("Retry-After", Long.toString(retry));
    }

    @Override
    public String toString() {
        return "QuotaPolicy[" + name + ": " + limit + " per " + period + " per " + key + "]";
    }

    /** Builds a {@link QuotaPolicy}. */
    public static final class Builder {
        private final long limit;
        private final Duration period;
        private LimitKey key = LimitKey.consumer();
        private String name = "quota";
        private LimiterStore store;
        private InstantSource clock = InstantSource.system();

        private Builder(long limit, Duration period) {
            requireNonNull(period, "period");
            if (limit < 1) {
                throw new IllegalArgumentException("limit: " + limit + " (expected: > 0)");
            }
            if (period.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("period: " + period + " (expected: >= PT1S)");
            }
            this.limit = limit;
            this.period = period;
        }

        /** Whose connections are counted; {@link LimitKey#consumer()} by default. */
        public Builder key(LimitKey key) {
            this.key = requireNonNull(key, "key");
            return this;
        }

        /**
         * The prefix of this policy's keys in the store ({@code <name>:consumer:mobile-app}); {@code quota} by
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

        /** Where the counters live; a new {@link LimiterStore#inMemory()} of this policy's own by default. */
        public Builder store(LimiterStore store) {
            this.store = requireNonNull(store, "store");
            return this;
        }

        /** The clock passed to the store; the system clock by default. Tests pass their own. */
        public Builder clock(InstantSource clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /** Builds the policy. */
        public QuotaPolicy build() {
            return new QuotaPolicy(this);
        }
    }
}
