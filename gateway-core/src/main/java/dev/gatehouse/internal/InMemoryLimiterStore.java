package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.spi.LimiterStore;

/**
 * The in-memory {@link LimiterStore}: one {@link ConcurrentHashMap} entry per key, updated inside
 * {@code compute}, so that each key is atomic and no lock spans keys. Memory is bounded two ways: an entry
 * expires when it no longer matters (a bucket once it is full again, a window once it has ended) and is
 * swept by a later call (at most once per {@link #SWEEP_INTERVAL_NANOS} of the callers' clock); and at
 * {@code maxKeys} live entries a new key is refused, after an extra sweep, instead of being added.
 *
 * <p>Time is the callers' {@code now}, in nanoseconds since the epoch; a clock that goes back neither
 * refills buckets nor opens a new window until it catches up.
 */
public final class InMemoryLimiterStore implements LimiterStore {

    /** The default bound on live keys. */
    public static final int DEFAULT_MAX_KEYS = 100_000;

    private static final Logger LOG = LoggerFactory.getLogger(InMemoryLimiterStore.class);
    private static final long SWEEP_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long FULL_SWEEP_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long WARN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final Duration REFUSED_RETRY = Duration.ofSeconds(1);
    /** Refill arithmetic is in doubles: a bucket this close to a whole token holds it. */
    private static final double EPSILON = 1e-9;

    /** One key's state; mutated only inside {@code compute} of its key. */
    private abstract static class State {
        long expiresAt; // epoch nanos after which the state is the same as a fresh one
    }

    private static final class BucketState extends State {
        double tokens;
        long updated; // epoch nanos of the last refill
    }

    private static final class WindowState extends State {
        long start;   // epoch nanos
        long count;
    }

    private final int maxKeys;
    private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();
    private final AtomicLong nextSweep = new AtomicLong(Long.MIN_VALUE);     // epoch nanos; claimed by CAS
    private final AtomicLong nextFullSweep = new AtomicLong(Long.MIN_VALUE); // epoch nanos; claimed by CAS
    private final AtomicLong nextWarning = new AtomicLong(Long.MIN_VALUE);   // epoch nanos; claimed by CAS

    /**
     * A store holding at most about {@code maxKeys} keys.
     *
     * @throws IllegalArgumentException if {@code maxKeys} is not positive
     */
    public InMemoryLimiterStore(int maxKeys) {
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys: " + maxKeys + " (expected: > 0)");
        }
        this.maxKeys = maxKeys;
    }

    @Override
    public Take tryTake(String key, Bucket bucket, int tokens, Instant now) {
        requireNonNull(key, "key");
        requireNonNull(bucket, "bucket");
        requireNonNull(now, "now");
        if (tokens < 1 || tokens > bucket.capacity()) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: 1-" + bucket.capacity() + ")");
        }
        long t = nanos(now);
        boolean fresh = makeRoom(key, t);
        double perNano = bucket.refillPerSecond() / 1e9;
        long[] wait = {0}; // nanos until the tokens are there; 0 when taken, -1 when the key was refused
        states.compute(key, (k, old) -> {
            BucketState s;
            if (old instanceof BucketState) {
                s = (BucketState) old;
                long elapsed = Math.max(0, t - s.updated);
                s.tokens = Math.min(bucket.capacity(), s.tokens + elapsed * perNano);
                s.updated = Math.max(t, s.updated);
            } else {
                if (old == null && !fresh && states.size() >= maxKeys) {
                    wait[0] = -1;
                    return null;
                }
                s = new BucketState();
                s.tokens = bucket.capacity();
                s.updated = t;
            }
            if (s.tokens + EPSILON >= tokens) {
                s.tokens = Math.max(0, s.tokens - tokens);
            } else {
                wait[0] = Math.max(1, (long) Math.ceil((tokens - s.tokens) / perNano));
            }
            s.expiresAt = s.updated + (long) Math.ceil((bucket.capacity() - s.tokens) / perNano);
            return s;
        });
        if (wait[0] < 0) {
            refused(key, t);
            return new Take(false, REFUSED_RETRY);
        }
        return wait[0] == 0 ? new Take(true, Duration.ZERO) : new Take(false, Duration.ofNanos(wait[0]));
    }

    @Override
    public Count increment(String key, Duration window, Instant now) {
        requireNonNull(key, "key");
        requireNonNull(window, "window");
        requireNonNull(now, "now");
        if (window.toMillis() < 1) {
            throw new IllegalArgumentException("window: " + window + " (expected: >= 1ms)");
        }
        long t = nanos(now);
        long length = window.toMillis() * 1_000_000L;
        long start = Math.floorDiv(t, length) * length;
        boolean fresh = makeRoom(key, t);
        long[] result = {0, 0}; // count (0 when refused), window end
        states.compute(key, (k, old) -> {
            WindowState s;
            if (old instanceof WindowState && ((WindowState) old).start >= start) {
                s = (WindowState) old; // the current window, or a later one if the clock went back
            } else {
                if (old == null && !fresh && states.size() >= maxKeys) {
                    return null;
                }
                s = new WindowState();
                s.start = start;
                s.expiresAt = start + length;
            }
            s.count++;
            result[0] = s.count;
            result[1] = s.expiresAt;
            return s;
        });
        if (result[0] == 0) {
            refused(key, t);
            return new Count(Long.MAX_VALUE, now.plus(REFUSED_RETRY));
        }
        return new Count(result[0], instant(result[1]));
    }

    /** The number of keys held, expired ones not yet swept included. */
    public int size() {
        return states.size();
    }

    /** The bound on live keys. */
    public int maxKeys() {
        return maxKeys;
    }

    /**
     * Sweeps expired keys when a sweep is due, or when the key is new and the store is full.
     *
     * @return whether the key may be added regardless of the bound: false when it is new and the store full
     */
    private boolean makeRoom(String key, long now) {
        long due = nextSweep.get();
        if (now >= due && nextSweep.compareAndSet(due, now + SWEEP_INTERVAL_NANOS)) {
            sweep(now);
        }
        if (states.size() < maxKeys || states.containsKey(key)) {
            return true;
        }
        long fullDue = nextFullSweep.get();
        if (now >= fullDue && nextFullSweep.compareAndSet(fullDue, now + FULL_SWEEP_INTERVAL_NANOS)) {
            sweep(now);
        }
        return states.size() < maxKeys;
    }

    /** Removes every expired key, each atomically with respect to its own updates. */
    void sweep(long now) {
        for (String key : states.keySet()) {
            states.computeIfPresent(key, (k, s) -> s.expiresAt <= now ? null : s);
        }
    }

    private void refused(String key, long now) {
        long due = nextWarning.get();
        if (now >= due && nextWarning.compareAndSet(due, now + WARN_INTERVAL_NANOS)) {
            LOG.warn("Limiter store full ({} keys): refusing new keys such as {} until some expire", maxKeys,
                    key.length() > 80 ? key.substring(0, 80) + "…" : key);
        }
    }

    /** Epoch nanoseconds of an instant; throws {@link ArithmeticException} past the year 2262. */
    static long nanos(Instant now) {
        return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
    }

    private static Instant instant(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }
}
