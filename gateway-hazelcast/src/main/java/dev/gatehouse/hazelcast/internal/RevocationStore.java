package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.io.Serializable;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;

import dev.gatehouse.spi.Cluster;

/**
 * The revocations the cluster remembers: the map {@value #MAP}, from a subject to its revocation, each entry
 * living until the revocation ends (its time to live), so that a node that missed the broadcast, or joined
 * later, still refuses the credential. Every node listens to the map and loads what it holds when it joins.
 */
final class RevocationStore {

    /** The map's name. */
    static final String MAP = "gatehouse.revocations";

    private final IMap<String, Revoked> map;
    private final UUID listener;

    /**
     * Listens to the map, then hands every revocation it holds to {@code revoked}: from now on each one made on
     * any node reaches it (some may reach it twice, which is harmless).
     */
    RevocationStore(IMap<String, Revoked> map, Consumer<Cluster.Revocation> revoked) {
        this.map = requireNonNull(map, "map");
        requireNonNull(revoked, "revoked");
        Listener l = new Listener(revoked);
        this.listener = map.addEntryListener(l, true);
        for (Map.Entry<String, Revoked> e : map.entrySet()) {
            revoked.accept(e.getValue().revocation(e.getKey()));
        }
    }

    /** Stores a revocation, merged with one already there for the subject, to live until it ends. */
    void remember(Cluster.Revocation r) {
        map.executeOnKey(r.subject(), new Merge(r.revokedAt().toEpochMilli(), r.until().toEpochMilli()));
    }

    /** Stops listening. */
    void close() {
        map.removeEntryListener(listener);
    }

    /** A revocation as stored: its times in epoch milliseconds. */
    static final class Revoked implements Serializable {
        private static final long serialVersionUID = 1L;
        private final long revokedAt;
        private final long until;

        Revoked(long revokedAt, long until) {
            this.revokedAt = revokedAt;
            this.until = until;
        }

        Cluster.Revocation revocation(String subject) {
            return new Cluster.Revocation(subject, Instant.ofEpochMilli(revokedAt), Instant.ofEpochMilli(until));
        }
    }

    /**
     * Merges a revocation into the stored one (the later of each time), living until it ends. It carries the
     * caller's clock, so that the backups, which run it again, come to the same value as the primary.
     */
    static final class Merge implements EntryProcessor<String, Revoked, Void> {
        private static final long serialVersionUID = 1L;
        private final long revokedAt;
        private final long until;
        private final long now = System.currentTimeMillis(); // when the caller made it

        Merge(long revokedAt, long until) {
            this.revokedAt = revokedAt;
            this.until = until;
        }

        @Override
        public Void process(Map.Entry<String, Revoked> entry) {
            Revoked old = entry.getValue();
            Revoked merged = old == null ? new Revoked(revokedAt, until)
                    : new Revoked(Math.max(old.revokedAt, revokedAt), Math.max(old.until, until));
            long ttl = merged.until - now;
            if (ttl <= 0) {
                return null;
            }
            ((ExtendedMapEntry<String, Revoked>) entry).setValue(merged, ttl, TimeUnit.MILLISECONDS);
            return null;
        }
    }

    private static final class Listener implements EntryAddedListener<String, Revoked>,
            EntryUpdatedListener<String, Revoked> {
        private final Consumer<Cluster.Revocation> revoked;

        Listener(Consumer<Cluster.Revocation> revoked) {
            this.revoked = revoked;
        }

        @Override
        public void entryAdded(EntryEvent<String, Revoked> event) {
            revoked.accept(event.getValue().revocation(event.getKey()));
        }

        @Override
        public void entryUpdated(EntryEvent<String, Revoked> event) {
            revoked.accept(event.getValue().revocation(event.getKey()));
        }
    }
}
