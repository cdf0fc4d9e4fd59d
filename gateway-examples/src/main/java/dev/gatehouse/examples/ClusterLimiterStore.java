package dev.gatehouse.examples;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;

import dev.gatehouse.spi.LimiterStore;

/**
 * The store of the config file's rate limits when the file has a {@code cluster} block: the cluster's
 * {@code limiterStore()}, which exists only once the runner has joined, after the routes were built. The runner
 * binds it before the gateway serves (at start, and at each reload before the new routes run).
 */
final class ClusterLimiterStore implements LimiterStore {

    private volatile LimiterStore store; // the cluster's; null until bound

    /** Makes the cluster's store this one's; called before any handshake reaches a policy using it. */
    void bind(LimiterStore store) {
        this.store = requireNonNull(store, "store");
    }

    @Override
    public Take tryTake(String key, Bucket bucket, int tokens, Instant now) {
        return store().tryTake(key, bucket, tokens, now);
    }

    @Override
    public Count increment(String key, Duration window, Instant now) {
        return store().increment(key, window, now);
    }

    private LimiterStore store() {
        LimiterStore s = store;
        if (s == null) {
            throw new IllegalStateException("the cluster's limiter store is not bound (the runner has not joined yet)");
        }
        return s;
    }

    @Override
    public String toString() {
        return "ClusterLimiterStore[" + (store == null ? "unbound" : store) + "]";
    }
}
