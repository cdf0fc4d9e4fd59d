package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;

import dev.gatehouse.spi.LimiterStore;

/**
 * The {@link LimiterStore} of a cluster: token buckets and fixed windows in the map {@value #MAP}, each operation
 * one entry processor on its key's partition, so that nodes racing for the last token never both get it. Time is
 * the callers' {@code now} (the nodes' clocks, which should agree to well under a refill interval). Each entry is
 * written with a time to live of when it stops mattering (a bucket once it would be full again, a window once it
 * ends), so that the map holds the live keys only.
 *
 * <p>When the engine does not answer within the timeout, or fails, {@link Fallbacks} decides: a count in this
 * node's own in-memory store (local), an admission (open), or a refusal (closed); each time it is reported as a
 * {@code rate} (take) or {@code quota} (increment) fallback. An operation that timed out may still run on the
 * engine later: the key then counts that event there too, erring on the side of the limit.
 */
public final class HazelcastLimiterStore implements LimiterStore {

    /** The map's name. */
    public static final String MAP = "gatehouse.limits";

    /** How long a refused take asks to wait when the fallback is closed. */
    static final Duration CLOSED_RETRY = Duration.ofSeconds(1);

    /** The longest time to live given to an entry, in milliseconds: ten years, far beyond any real limit. */
    static final long MAX_TTL_MILLIS = TimeUnit.DAYS.toMillis(3650);

    /** Refill arithmetic is in doubles: a bucket this close to a whole token holds it. */
    private static final double EPSILON = 1e-9;

    private final Supplier<IMap<String, Object>> engine; // the map of the engine now; throws while it is away
    private final Duration timeout;
    private final Fallbacks fallbacks;
    private final LimiterStore local = LimiterStore.inMemory(); // this node's counts while the engine is away

    /**
     * @param engine    where the buckets and windows live: the map of the engine at the time of the call
     * @param timeout   how long an operation waits for the engine before it falls back
     * @param fallbacks what to do then, and whom to tell
     */
    public HazelcastLimiterStore(Supplier<IMap<String, Object>> engine, Duration timeout, Fallbacks fallbacks) {
        this.engine = requireNonNull(engine, "engine");
        this.timeout = requireNonNull(timeout, "timeout");
        this.fallbacks = requireNonNull(fallbacks, "fallbacks");
    }

    @Override
    public Take tryTake(String key, Bucket bucket, int tokens, Instant now) {
        requireNonNull(key, "key");
        requireNonNull(bucket, "bucket");
        requireNonNull(now, "now");
        if (tokens < 1 || tokens > bucket.capacity()) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: 1-" + bucket.capacity() + ")");
        }
        long wait;
        try {
            wait = run(key, new TakeTokens(bucket.capacity(), bucket.refillPerSecond(), tokens, nanos(now)));
        } catch (EngineUnavailable e) {
            fallbacks.fellBack("rate", e.getCause());
            switch (fallbacks.fallback()) {
                case OPEN:
                    return new Take(true, Duration.ZERO);
                case CLOSED:
                    return new Take(false, CLOSED_RETRY);
                default:
                    return local.tryTake(key, bucket, tokens, now);
            }
        }
        return wait == 0 ? new Take(true, Duration.ZERO) : new Take(false, Duration.ofNanos(wait));
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
        long count;
        try {
            count = run(key, new CountEvent(start, length, t));
        } catch (EngineUnavailable e) {
            fallbacks.fellBack("quota", e.getCause());
            switch (fallbacks.fallback()) {
                case OPEN:
                    return new Count(1, instant(start + length));
                case CLOSED:
                    return new Count(Long.MAX_VALUE, instant(start + length));
                default:
                    return local.increment(key, window, now);
            }
        }
        return new Count(count, instant(start + length));
    }

    /** Runs an entry processor on the key and waits for its answer, at most the timeout. */
    private long run(String key, EntryProcessor<String, Object, Long> processor) throws EngineUnavailable {
        try {
            return engine.get().submitToKey(key, processor).toCompletableFuture().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineUnavailable(e);
        } catch (ExecutionException e) {
            throw new EngineUnavailable(e.getCause() != null ? e.getCause() : e);
        } catch (TimeoutException | RuntimeException e) {
            // any failure of the engine (HazelcastException, HazelcastInstanceNotActiveException...): the fallback
            throw new EngineUnavailable(e);
        }
    }

    /** The engine did not answer in time, or failed; the cause says why. */
    private static final class EngineUnavailable extends Exception {
        private static final long serialVersionUID = 1L;

        EngineUnavailable(Throwable cause) {
            super(cause);
        }
    }

    /** A time to live for an entry that matters for {@code nanos} more: at least 1 ms (0 would mean forever). */
    static long ttlMillis(long nanos) {
        long millis = nanos / 1_000_000L + (nanos % 1_000_000L > 0 ? 1 : 0);
        return Math.min(MAX_TTL_MILLIS, Math.max(1, millis));
    }

    /** Epoch nanoseconds of an instant; throws {@link ArithmeticException} past the year 2262. */
    static long nanos(Instant now) {
        return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
    }

    private static Instant instant(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }

    /** A token bucket's state. */
    record Tokens(double tokens, long updated) implements Serializable {
    }

    /** A fixed window's state. */
    record Window(long start, long count) implements Serializable {
    }

    /**
     * Refills the bucket to {@code now} and takes the tokens if it holds enough. Answers 0 when taken, else the
     * nanoseconds until they would be there.
     */
    static final class TakeTokens implements EntryProcessor<String, Object, Long> {
        private static final long serialVersionUID = 1L;
        private final long capacity;
        private final double refillPerSecond;
        private final int tokens;
        private final long now; // epoch nanos

        TakeTokens(long capacity, double refillPerSecond, int tokens, long now) {
            this.capacity = capacity;
            this.refillPerSecond = refillPerSecond;
            this.tokens = tokens;
            this.now = now;
        }

        @Override
        public Long process(Map.Entry<String, Object> entry) {
            double perNano = refillPerSecond / 1e9;
            double held;
            long updated;
            if (entry.getValue() instanceof Tokens s) {
                long elapsed = Math.max(0, now - s.updated());
                held = Math.min(capacity, s.tokens() + elapsed * perNano);
                updated = Math.max(now, s.updated()); // a clock that went back refills nothing
            } else {
                held = capacity; // a new key, or one a window used before
                updated = now;
            }
            long wait = 0;
            if (held + EPSILON >= tokens) {
                held = Math.max(0, held - tokens);
            } else {
                wait = Math.max(1, (long) Math.ceil((tokens - held) / perNano));
            }
            long fullIn = (long) Math.ceil((capacity - held) / perNano); // saturates at Long.MAX_VALUE
            long ttl = ttlMillis(Math.max(0, updated - now) + Math.max(0, fullIn));
            ((ExtendedMapEntry<String, Object>) entry).setValue(new Tokens(held, updated), ttl, TimeUnit.MILLISECONDS);
            return wait;
        }
    }

    /** Counts one event in the window starting at {@code start}; answers the window's count. */
    static final class CountEvent implements EntryProcessor<String, Object, Long> {
        private static final long serialVersionUID = 1L;
        private final long start;  // epoch nanos
        private final long length; // nanos
        private final long now;    // epoch nanos

        CountEvent(long start, long length, long now) {
            this.start = start;
            this.length = length;
            this.now = now;
        }

        @Override
        public Long process(Map.Entry<String, Object> entry) {
            Window w;
            if (entry.getValue() instanceof Window s && s.start() >= start) {
                // the current window, or a later one if this caller's clock is behind
                w = new Window(s.start(), s.count() + 1);
            } else {
                w = new Window(start, 1);
            }
            long ttl = ttlMillis(w.start() + length - now);
            ((ExtendedMapEntry<String, Object>) entry).setValue(w, ttl, TimeUnit.MILLISECONDS);
            return w.count();
        }
    }
}
