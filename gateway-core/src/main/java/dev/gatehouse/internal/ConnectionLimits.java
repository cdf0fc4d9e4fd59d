package dev.gatehouse.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.policy.Cidr;
import dev.gatehouse.spi.Cluster;

/**
 * The concurrent-connection limits: global (the gateway's), and per route, per principal on a route and
 * per client address on a route (the route's, counted by its host and path across updates of the table). A
 * handshake reserves one slot of each limit that applies, all or none; the slots are held by the connection
 * until its {@link Reservation} is released, exactly once, when its bridge ends. Counters are removed when
 * they drop to zero, so memory follows the open connections.
 *
 * <p>With a cluster, the per-principal limit counts the principal's connections on every node, through the
 * cluster ({@link Cluster.Node#acquire}); the others count this node's, since they protect it.
 */
final class ConnectionLimits {

    /** Seconds a client is told to wait when the gateway is full. */
    static final String FULL_RETRY_AFTER = "5";

    private final int maxGlobal;                           // 0: no limit
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>(); // key -> open connections (> 0)
    private final Cluster.Node cluster;                    // counts the per-principal limit; null: this node does

    ConnectionLimits(int maxGlobal) {
        this(maxGlobal, null);
    }

    /**
     * @param maxGlobal the gateway's limit; 0 for none
     * @param cluster   the cluster that counts the per-principal limit across nodes; null to count it here
     */
    ConnectionLimits(int maxGlobal, Cluster.Node cluster) {
        this.maxGlobal = maxGlobal;
        this.cluster = cluster;
    }

    /** The outcome of {@link #reserve}: a reservation, or the rejection of the limit that was reached. */
    record Outcome(Reservation reservation, Verdict.Reject reject) {
    }

    /** Reserves a slot of every limit that applies to this handshake on this route, or none. */
    Outcome reserve(Route route, Handshake h) {
        List<String> taken = new ArrayList<>(4);
        if (maxGlobal > 0 && !take("global", maxGlobal, taken)) {
            return new Outcome(null, Verdict.reject(Rejection.UNAVAILABLE, "the gateway is at its connection limit")
                    .withHeader("Retry-After", FULL_RETRY_AFTER));
        }
        // By host and path, not by object: a route changed by an update counts the connections of its
        // earlier versions too, so that an update never lifts a limit that open connections fill.
        String r = "route " + RouteTable.key(route) + " ";
        if (route.maxConnections() > 0 && !take(r + "all", route.maxConnections(), taken)) {
            return refused(taken, List.of(), "the route is at its connection limit");
        }
        if (route.maxConnectionsPerIp() > 0
                && !take(r + "ip:" + Cidr.text(h.clientAddress()), route.maxConnectionsPerIp(), taken)) {
            return refused(taken, List.of(), "too many connections from this address");
        }
        List<String> shared = List.of();
        if (route.maxConnectionsPerPrincipal() > 0) {
            String key = h.principal().map(p -> r + "principal:" + p.subject())
                    .orElseGet(() -> r + "anonymous:" + Cidr.text(h.clientAddress())); // apart from the per-address count
            if (cluster == null ? !take(key, route.maxConnectionsPerPrincipal(), taken)
                    : !acquire(key, route.maxConnectionsPerPrincipal(), taken)) {
                return refused(taken, List.of(), "too many connections for this principal");
            }
            if (cluster != null) {
                shared = List.of(key);
            }
        }
        if (taken.isEmpty() && shared.isEmpty()) {
            return new Outcome(Reservation.NONE, null);
        }
        return new Outcome(new Reservation(this, taken, shared), null);
    }

    /** The open connections counted under a key; for tests. */
    int count(String key) {
        return open.getOrDefault(key, 0);
    }

    /** The number of counters held; for tests. */
    int keys() {
        return open.size();
    }

    private Outcome refused(List<String> taken, List<String> shared, String message) {
        release(taken, shared);
        return new Outcome(null, Verdict.reject(Rejection.TOO_MANY_CONNECTIONS, message));
    }

    /** Takes a slot from the cluster; a cluster that fails gives back this handshake's other slots first. */
    private boolean acquire(String key, int max, List<String> taken) {
        try {
            return cluster.acquire(key, max);
        } catch (RuntimeException e) {
            release(taken, List.of());
            throw e;
        }
    }

    private boolean take(String key, int max, List<String> taken) {
        boolean[] ok = {false};
        open.compute(key, (k, n) -> {
            int count = n == null ? 0 : n;
            if (count >= max) {
                return n;
            }
            ok[0] = true;
            return count + 1;
        });
        if (ok[0]) {
            taken.add(key);
        }
        return ok[0];
    }

    private void release(List<String> keys, List<String> shared) {
        for (String key : keys) {
            open.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
        }
        for (String key : shared) {
            cluster.release(key);
        }
    }

    /** The slots one connection holds; released at most once. */
    static final class Reservation {
        /** Holds nothing: no limit applies. */
        static final Reservation NONE = new Reservation(null, List.of(), List.of());

        private final ConnectionLimits limits; // null for NONE
        private final List<String> keys;       // counted on this node
        private final List<String> shared;     // counted by the cluster
        private final AtomicBoolean released = new AtomicBoolean();

        private Reservation(ConnectionLimits limits, List<String> keys, List<String> shared) {
            this.limits = limits;
            this.keys = List.copyOf(keys);
            this.shared = shared;
        }

        /** Gives the slots back; later calls do nothing. */
        void release() {
            if (limits != null && released.compareAndSet(false, true)) {
                limits.release(keys, shared);
            }
        }

        /** Whether {@link #release()} ran; for tests. */
        boolean isReleased() {
            return released.get();
        }
    }
}
