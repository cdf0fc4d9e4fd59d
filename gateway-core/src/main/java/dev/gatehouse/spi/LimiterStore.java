package dev.gatehouse.spi;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;

import dev.gatehouse.internal.InMemoryLimiterStore;

/**
 * Where handshake limiters ({@code RateLimitPolicy}, {@code QuotaPolicy}) keep their counters: token buckets
 * and fixed windows, keyed by string. The default is {@link #inMemory()}, private to one gateway instance;
 * a store shared by several instances (Redis, Hazelcast) implements the two operations atomically per key,
 * for example as one script each, and every instance then enforces the same limits.
 *
 * <p>Contract: both operations are atomic per key and may be called from many threads at once; the caller
 * passes the current time, so that tests and stores agree on it (a shared store may use its own clock
 * instead, and must then say so). A store must bound its memory: state that no longer matters (a bucket
 * that is full again, a window that has ended) may be dropped at any time, since a fresh key behaves the
 * same. A store that cannot take one more key answers as if that key were over its limit: a refused take,
 * or a count of {@link Long#MAX_VALUE}. An exception thrown by a store rejects the handshake with 500.
 */
public interface LimiterStore {

    /**
     * An in-memory store for this JVM holding at most 100,000 keys; see {@link #inMemory(int)}.
     */
    static LimiterStore inMemory() {
        return new InMemoryLimiterStore(InMemoryLimiterStore.DEFAULT_MAX_KEYS);
    }

    /**
     * An in-memory store for this JVM. Idle keys expire (a bucket once full again, a window once ended) and
     * are swept on later calls; when {@code maxKeys} keys are live, a new key is refused (treated as over
     * its limit, with a retry after one second) rather than let memory grow, while keys already tracked keep
     * working. Thread-safe without a global lock.
     *
     * @param maxKeys the most keys held at once, approximately (concurrent first calls may pass it by a few)
     * @throws IllegalArgumentException if {@code maxKeys} is not positive
     */
    static LimiterStore inMemory(int maxKeys) {
        return new InMemoryLimiterStore(maxKeys);
    }

    /**
     * Takes tokens from the key's bucket if it holds enough. A new key starts with a full bucket; tokens
     * come back continuously at the bucket's rate, up to its capacity.
     *
     * @param key    the bucket's key
     * @param bucket the capacity and refill rate; the same for every call with this key
     * @param tokens how many to take, 1 to the capacity
     * @param now    the current time
     * @return whether the tokens were taken; when not, how long until they would be there
     */
    Take tryTake(String key, Bucket bucket, int tokens, Instant now);

    /**
     * Counts one more event in the key's current fixed window. Windows are aligned to the epoch: the window
     * of {@code now} starts at {@code floor(now / window) * window}, so that every instance and every restart
     * agree on it.
     *
     * @param key    the counter's key
     * @param window the window length, at least one millisecond; the same for every call with this key
     * @param now    the current time
     * @return the count in the window including this event, and when the window ends
     */
    Count increment(String key, Duration window, Instant now);

    /**
     * A token bucket's shape.
     *
     * @param capacity         the most tokens it holds (the burst), at least 1
     * @param refillPerSecond  tokens added per second, more than 0
     */
    record Bucket(long capacity, double refillPerSecond) {
        /** Validates the shape. */
        public Bucket {
            if (capacity < 1) {
                throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
            }
            if (!(refillPerSecond > 0) || Double.isInfinite(refillPerSecond)) {
                throw new IllegalArgumentException("refillPerSecond: " + refillPerSecond + " (expected: > 0)");
            }
        }
    }

    /**
     * The outcome of {@link #tryTake}.
     *
     * @param allowed    whether the tokens were taken
     * @param retryAfter when refused, how long until the tokens would be there; zero when allowed
     */
    record Take(boolean allowed, Duration retryAfter) {
        /** Validates the retry time. */
        public Take {
            requireNonNull(retryAfter, "retryAfter");
            if (retryAfter.isNegative()) {
                throw new IllegalArgumentException("retryAfter: " + retryAfter + " (expected: >= 0)");
            }
        }
    }

    /**
     * The outcome of {@link #increment}.
     *
     * @param count     events in the current window, this one included; {@link Long#MAX_VALUE} when refused
     * @param windowEnd when the current window ends
     */
    record Count(long count, Instant windowEnd) {
        /** Validates the count. */
        public Count {
            requireNonNull(windowEnd, "windowEnd");
            if (count < 1) {
                throw new IllegalArgumentException("count: " + count + " (expected: > 0)");
            }
        }
    }
}
