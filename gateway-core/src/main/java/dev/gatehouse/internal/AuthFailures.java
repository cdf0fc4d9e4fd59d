package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.policy.Cidr;

/**
 * The failed authentications of each client address under an {@link AuthFailureLimit}, and the addresses
 * cooling down. Each address's bucket is kept as its theoretical arrival time (GCRA): the moment at which
 * the bucket would be full again, advanced by one token's worth of time per failure, which keeps the
 * arithmetic exact in whole nanoseconds. Thread-safe: each address is updated inside {@code compute} of its
 * key, and no lock spans addresses.
 */
final class AuthFailures {

    /** The default bound on tracked addresses. */
    static final int DEFAULT_MAX_ADDRESSES = 100_000;

    private static final Logger LOG = LoggerFactory.getLogger(AuthFailures.class);
    private static final long SWEEP_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long WARN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** One address's state; {@code full} is mutated only inside {@code compute} of its key. */
    private static final class Entry {
        long full;                      // epoch nanos at which the bucket is full again
        volatile long coolDownUntil;    // epoch nanos; the address is refused before it
    }

    private final AuthFailureLimit limit;
    private final long interval;  // nanos for one token to come back
    private final long tolerance; // how far ahead of now `full` may be with a token left
    private final long coolDown;  // nanos
    private final int maxAddresses;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong nextSweep = new AtomicLong(Long.MIN_VALUE);   // epoch nanos; claimed by CAS
    private final AtomicLong nextWarning = new AtomicLong(Long.MIN_VALUE); // epoch nanos; claimed by CAS

    /**
     * Tracks failures under a limit, for at most {@code maxAddresses} addresses at once.
     *
     * @throws IllegalArgumentException if {@code maxAddresses} is not positive
     */
    AuthFailures(AuthFailureLimit limit, int maxAddresses) {
        this.limit = requireNonNull(limit, "limit");
        if (maxAddresses < 1) {
            throw new IllegalArgumentException("maxAddresses: " + maxAddresses + " (expected: > 0)");
        }
        this.maxAddresses = maxAddresses;
        // Rounded down, so that a bucket is full again after at most `per`.
        this.interval = limit.isEnabled() ? Math.max(1, limit.per().toNanos() / limit.failures()) : 0;
        this.tolerance = (limit.failures() - 1L) * interval;
        this.coolDown = limit.coolDown().toNanos();
    }

    /**
     * The nanoseconds left of the address's cool-down; 0 or less when it may authenticate. Cheap when no
     * address has failed recently.
     */
    long coolDownLeft(InetAddress address) {
        if (entries.isEmpty()) {
            return 0;
        }
        Entry e = entries.get(key(address));
        return e == null ? 0 : e.coolDownUntil - now();
    }

    /** Counts one failed authentication of the address; the failure that takes the last token starts the cool-down. */
    void failed(InetAddress address) {
        if (!limit.isEnabled()) {
            return;
        }
        String key = key(address);
        long now = now();
        if (!entries.containsKey(key) && entries.size() >= maxAddresses && !makeRoom(now)) {
            return;
        }
        entries.compute(key, (k, e) -> {
            if (e == null) {
                e = new Entry();
                e.full = now;
            } else if (now < e.coolDownUntil) {
                return e; // raced with the start of the cool-down: it already counts
            }
            e.full = Math.max(e.full, now) + interval;
            if (e.full - now > tolerance) {
                e.coolDownUntil = now + coolDown;
            }
            return e;
        });
    }

    /**
     * What failures are counted against: an IPv4 address, or the /64 network of an IPv6 address, the usual
     * allocation of one subscriber, who could otherwise try from billions of addresses.
     */
    static String key(InetAddress address) {
        InetAddress a = Cidr.normalize(address);
        if (a instanceof Inet6Address) {
            byte[] network = a.getAddress();
            Arrays.fill(network, 8, 16, (byte) 0);
            try {
                return Cidr.text(InetAddress.getByAddress(network)) + "/64";
            } catch (UnknownHostException e) {
                throw new IllegalStateException("16 bytes are an IPv6 address", e);
            }
        }
        return Cidr.text(a);
    }

    /** The number of addresses tracked, forgettable ones not yet swept included. */
    int size() {
        return entries.size();
    }

    /**
     * Forgets the addresses that no longer matter (bucket full, not cooling down), at most once per
     * {@link #SWEEP_INTERVAL_NANOS}, and tells whether there is room for one more; warns when there is not.
     */
    private boolean makeRoom(long now) {
        long due = nextSweep.get();
        if (now >= due && nextSweep.compareAndSet(due, now + SWEEP_INTERVAL_NANOS)) {
            for (String key : entries.keySet()) {
                entries.computeIfPresent(key, (k, e) -> e.full <= now && e.coolDownUntil <= now ? null : e);
            }
        }
        if (entries.size() < maxAddresses) {
            return true;
        }
        long warn = nextWarning.get();
        if (now >= warn && nextWarning.compareAndSet(warn, now + WARN_INTERVAL_NANOS)) {
            LOG.warn("{} client addresses have recent failed authentications: the failures of other addresses are "
                    + "not counted until some recover", maxAddresses);
        }
        return false;
    }

    private long now() {
        return InMemoryLimiterStore.nanos(limit.clock().instant());
    }
}
