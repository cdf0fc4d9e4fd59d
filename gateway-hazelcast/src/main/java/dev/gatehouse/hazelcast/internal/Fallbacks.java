package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.hazelcast.HazelcastCluster;
import dev.gatehouse.spi.Cluster;

/**
 * Reports the shared limits that fell back because the engine could not be reached: a warning, at most one
 * every ten seconds (with the count since the last one), and the gateway's {@code gatehouse.cluster.fallbacks}
 * metric through its handler, each time.
 */
public final class Fallbacks {

    private static final Logger LOG = LoggerFactory.getLogger(Fallbacks.class);
    private static final long WARN_EVERY_NANOS = 10_000_000_000L;

    private final HazelcastCluster.Fallback fallback;
    private final String name; // the fallback's metric tag
    private final Supplier<Cluster.Handler> handler; // the handler of the gateway that joined last, or null
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
    private final AtomicLong unreported = new AtomicLong();

    /**
     * @param fallback what the limits do
     * @param handler  the current gateway's handler, or null while no gateway has joined
     */
    public Fallbacks(HazelcastCluster.Fallback fallback, Supplier<Cluster.Handler> handler) {
        this.fallback = requireNonNull(fallback, "fallback");
        this.name = fallback.name().toLowerCase(Locale.ROOT);
        this.handler = requireNonNull(handler, "handler");
    }

    /** What the limits do when the engine cannot be reached. */
    public HazelcastCluster.Fallback fallback() {
        return fallback;
    }

    /**
     * Reports one fallback.
     *
     * @param limit {@code rate}, {@code quota} or {@code connections}
     * @param cause why the engine could not be used
     */
    public void fellBack(String limit, Throwable cause) {
        long n = unreported.incrementAndGet();
        long now = System.nanoTime();
        long last = lastWarning.get();
        if (now - last >= WARN_EVERY_NANOS && lastWarning.compareAndSet(last, now)) {
            unreported.addAndGet(-n);
            LOG.warn("The cluster's engine did not answer for a shared {} limit ({}): {} handshake(s) decided by the "
                    + "fallback {} since the last warning", limit, cause.toString(), n, name);
        }
        Cluster.Handler h = handler.get();
        if (h != null) {
            h.fellBack(limit, name);
        }
    }
}
