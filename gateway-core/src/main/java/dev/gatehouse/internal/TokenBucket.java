package dev.gatehouse.internal;

/** A token bucket: {@code rate} tokens per second up to {@code burst}. Thread-safe. */
final class TokenBucket {

    private final double perNano;
    private final double burst;
    private double tokens;  // guarded by this
    private long refilledAt; // nanoTime of the last refill; guarded by this

    TokenBucket(double ratePerSecond, double burst, long now) {
        this.perNano = ratePerSecond / 1e9;
        this.burst = burst;
        this.tokens = burst;
        this.refilledAt = now;
    }

    /** Takes {@code n} tokens if there are that many (or the bucket is full, for n above the burst). */
    synchronized boolean tryTake(double n, long now) {
        refill(now);
        if (tokens >= n || tokens >= burst) {
            tokens -= n;
            return true;
        }
        return false;
    }

    /** Takes {@code n} tokens even into debt, and tells whether the bucket was not in debt before. */
    synchronized boolean take(double n, long now) {
        refill(now);
        boolean ok = tokens >= 0;
        tokens -= n;
        return ok;
    }

    /** Whether the bucket is full, so that forgetting it changes nothing. */
    synchronized boolean isFull(long now) {
        refill(now);
        return tokens >= burst;
    }

    private void refill(long now) {
        long elapsed = now - refilledAt;
        if (elapsed > 0) {
            tokens = Math.min(burst, tokens + elapsed * perNano);
            refilledAt = now;
        }
    }
}
