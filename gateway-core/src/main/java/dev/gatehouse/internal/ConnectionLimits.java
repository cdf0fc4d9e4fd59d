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

/**
 * The concurrent-connection limits: global (the gateway's), and per route, per principal on a route and
 * per client address on a route (the route's, counted by its host and path across updates of the table). A
 * handshake reserves one slot of each limit that applies, all or none; the slots are held by the connection
 * until its {@link Reservation} is released, exactly once, when its bridge ends. Counters are removed when
 * they drop to zero, so memory follows the open connections.
 */
final class ConnectionLimits {

    /** Seconds a client is told to wait when the gateway is full. */
    static final String FULL_RETRY_AFTER = "5";

    private final int maxGlobal;                           // 0: no limit
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>(); // key -> open connections (> 0)

    ConnectionLimits(int maxGlobal) {
        this.maxGlobal = maxGlobal;
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
            return refused(taken, "the route is at its connection limit");
        }
        if (route.maxConnectionsPerPrincipal() > 0) {
            String key = h.principal().map(p -> r + "principal:" + p.subject())
                    .orElseGet(() -> r + "anonymous:" + Cidr.text(h.clientAddress())); // apart from the per-address count
            if (!take(key, route.maxConnectionsPerPrincipal(), taken)) {
                return refused(taken, "too many connections for this principal");
            }
        }
        if (route.maxConnectionsPerIp() > 0
                && !take(r + "ip:" + Cidr.text(h.clientAddress()), route.maxConnectionsPerIp(), taken)) {
            return refused(taken, "too many connections from this address");
        }
        return new Outcome(taken.isEmpty() ? Reservation.NONE : new Reservation(this, taken), null);
    }

    /** The open connections counted under a key; for tests. */
    int count(String key) {
        return open.getOrDefault(key, 0);
    }

    /** The number of counters held; for tests. */
    int keys() {
        return open.size();
    }

    private Outcome refused(List<String> taken, String message) {
        release(taken);
        return new Outcome(null, Verdict.reject(Rejection.TOO_MANY_CONNECTIONS, message));
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

    private void release(List<String> keys) {
        for (String key : keys) {
            open.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /** The slots one connection holds; released at most once. */
    static final class Reservation {
        /** Holds nothing: no limit applies. */
        static final Reservation NONE = new Reservation(null, List.of());

        private final ConnectionLimits limits; // null for NONE
        private final List<String> keys;
        private final AtomicBoolean released = new AtomicBoolean();

        private Reservation(ConnectionLimits limits, List<String> keys) {
            this.limits = limits;
            this.keys = List.copyOf(keys);
        }

        /** Gives the slots back; later calls do nothing. */
        void release() {
            if (limits != null && released.compareAndSet(false, true)) {
                limits.release(keys);
            }
        }

        /** Whether {@link #release()} ran; for tests. */
        boolean isReleased() {
            return released.get();
        }
    }
}
