package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Connections;

/** Every bridge from creation (backend dial) to its end; lists only those whose two legs are open. */
final class Registry implements Connections {

    private final ConcurrentHashMap<String, Bridge> bridges = new ConcurrentHashMap<>();
    /** The connection slots of each registered bridge that holds any; released when it is removed. */
    private final ConcurrentHashMap<Bridge, ConnectionLimits.Reservation> reservations = new ConcurrentHashMap<>();
    private final List<CompletableFuture<Void>> emptyWaiters = new ArrayList<>(); // guarded by itself

    void add(Bridge bridge) {
        bridges.put(bridge.id(), bridge);
    }

    /** Registers a bridge with the connection slots it holds until {@link #remove(Bridge)}. */
    void add(Bridge bridge, ConnectionLimits.Reservation reservation) {
        if (reservation != ConnectionLimits.Reservation.NONE) {
            reservations.put(bridge, reservation);
        }
        add(bridge);
    }

    /** The bridge ended: unregisters it and gives its connection slots back (once, however often called). */
    void remove(Bridge bridge) {
        ConnectionLimits.Reservation r = reservations.remove(bridge);
        if (r != null) {
            r.release();
        }
        bridges.remove(bridge.id(), bridge);
        if (bridges.isEmpty()) {
            completeWaiters();
        }
    }

    List<Bridge> all() {
        return new ArrayList<>(bridges.values());
    }

    /** Completes once no bridge is left. */
    CompletableFuture<Void> whenEmpty() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (emptyWaiters) {
            emptyWaiters.add(f);
        }
        if (bridges.isEmpty()) {
            completeWaiters();
        }
        return f;
    }

    private void completeWaiters() {
        List<CompletableFuture<Void>> ready;
        synchronized (emptyWaiters) {
            if (!bridges.isEmpty()) {
                return;
            }
            ready = new ArrayList<>(emptyWaiters);
            emptyWaiters.clear();
        }
        ready.forEach(f -> f.complete(null));
    }

    @Override
    public List<ConnectionInfo> list() {
        List<ConnectionInfo> result = new ArrayList<>();
        for (Bridge b : bridges.values()) {
            ConnectionInfo info = b.info();
            if (info != null) {
                result.add(info);
            }
        }
        return result;
    }

    @Override
    public Optional<ConnectionInfo> find(String id) {
        Bridge b = bridges.get(requireNonNull(id, "id"));
        return b == null ? Optional.empty() : Optional.ofNullable(b.info());
    }

    @Override
    public int count() {
        int n = 0;
        for (Bridge b : bridges.values()) {
            if (b.isOpen()) {
                n++;
            }
        }
        return n;
    }

    @Override
    public int closeAll(String subject, CloseStatus status) {
        requireNonNull(subject, "subject");
        requireNonNull(status, "status");
        if (!status.isTransmittable()) {
            throw new IllegalArgumentException("status: " + status.code() + " (expected: a code that may be sent)");
        }
        int closed = 0;
        for (Bridge b : bridges.values()) {
            if (b.isOf(subject) && b.close(status, CloseStatus.GOING_AWAY, "closed for principal " + subject)) {
                closed++;
            }
        }
        return closed;
    }

    @Override
    public boolean close(String id, CloseStatus status) {
        requireNonNull(status, "status");
        if (!status.isTransmittable()) {
            throw new IllegalArgumentException("status: " + status.code() + " (expected: a code that may be sent)");
        }
        Bridge b = bridges.get(requireNonNull(id, "id"));
        return b != null && b.isOpen() && b.close(status, CloseStatus.GOING_AWAY, "closed by the registry");
    }
}
