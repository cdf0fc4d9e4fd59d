package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;

/**
 * The concurrent-connection limits counted across the cluster: the map {@value #MAP}, from a limit's key to the
 * slots each node holds under it. Taking a slot is one entry processor on the key's partition, so nodes racing
 * for the last slot never both get it; a node's slots leave with it ({@link #forget}). This node also keeps the
 * slots it holds, to give them back and to count them again when the engine lost them ({@link #restore}).
 *
 * <p>Each slot has an id of this node's. A take that the engine did not confirm in time is abandoned: a later
 * processor gives the slot back if the take ran, or marks its id so that the take does nothing if it runs after
 * (the mark lives {@value #ABANDONED_MILLIS} ms). So a slow engine never leaves a slot counted for nobody.
 *
 * <p>When the engine does not answer within the timeout, {@link Fallbacks} decides: this node's own count
 * (local), a slot given without counting (open), or a refusal (closed). Slots taken that way are given back
 * here, never to the engine.
 */
public final class ConnectionCounts {

    /** The map's name. */
    public static final String MAP = "gatehouse.limits.connections";
    /** How long a mark of an abandoned take is kept. */
    static final long ABANDONED_MILLIS = 10 * 60_000L;

    private final Supplier<IMap<String, Slots>> engine; // the map of the engine now; throws while it is away
    private final Duration timeout;
    private final Fallbacks fallbacks;
    private final BiConsumer<String, OrderedWrites.Change> writes; // changes a key in call order, off the caller's thread
    private final AtomicLong ids = new AtomicLong(); // the next slot id, unique on this node
    /** Slots the engine counts for this node, by key: their ids; a key is absent when it holds none. */
    private final ConcurrentHashMap<String, Set<Long>> held = new ConcurrentHashMap<>();
    /** Slots given back whose release the engine has not confirmed yet, by key: a take of the key drops them first. */
    private final ConcurrentHashMap<String, Set<Long>> releasing = new ConcurrentHashMap<>();
    /** Slots taken by the fallback, by key (> 0); never counted by the engine. */
    private final ConcurrentHashMap<String, Integer> local = new ConcurrentHashMap<>();
    private volatile String node; // this node's id in the engine's counts; changes when its member restarts

    ConnectionCounts(Supplier<IMap<String, Slots>> engine, String node, Duration timeout, Fallbacks fallbacks,
            BiConsumer<String, OrderedWrites.Change> writes) {
        this.engine = requireNonNull(engine, "engine");
        this.node = requireNonNull(node, "node");
        this.timeout = requireNonNull(timeout, "timeout");
        this.fallbacks = requireNonNull(fallbacks, "fallbacks");
        this.writes = requireNonNull(writes, "writes");
    }

    /** Takes a slot if the cluster holds fewer than {@code max} under the key; the fallback when the engine is away. */
    boolean acquire(String key, int max) {
        long id = ids.incrementAndGet();
        String owner = node;
        boolean taken;
        try {
            Set<Long> released = releasing.get(key);
            List<Long> gone = released == null ? List.of() : List.copyOf(released);
            taken = engine.get().submitToKey(key, new Acquire(owner, id, max, gone)).toCompletableFuture()
                    .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon(key, owner, id);
            return fallBack(key, max, e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            // The member stopped (HazelcastInstanceNotActiveException), the partition's owner did not answer, ...
            abandon(key, owner, id);
            return fallBack(key, max, e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e);
        }
        if (taken) {
            held.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(id);
        }
        return taken;
    }

    private void abandon(String key, String owner, long id) {
        writes.accept(key, () -> engine.get().submitToKey(key, new Abandon(owner, id)));
    }

    private boolean fallBack(String key, int max, Throwable cause) {
        fallbacks.fellBack("connections", cause);
        switch (fallbacks.fallback()) {
            case CLOSED:
                return false;
            case OPEN:
                local.merge(key, 1, Integer::sum);
                return true;
            default:
                boolean[] ok = {false};
                local.compute(key, (k, n) -> {
                    int count = n == null ? 0 : n;
                    Set<Long> engine = held.get(key);
                    if (count + (engine == null ? 0 : engine.size()) >= max) {
                        return n;
                    }
                    ok[0] = true;
                    return count + 1;
                });
                return ok[0];
        }
    }

    /** Gives back a slot this node took. */
    void release(String key) {
        boolean[] wasLocal = {false};
        local.computeIfPresent(key, (k, n) -> {
            wasLocal[0] = true;
            return n <= 1 ? null : n - 1;
        });
        if (wasLocal[0]) {
            return;
        }
        long[] id = {-1};
        held.computeIfPresent(key, (k, slots) -> {
            var it = slots.iterator();
            if (it.hasNext()) {
                id[0] = it.next();
                it.remove();
            }
            return slots.isEmpty() ? null : slots;
        });
        if (id[0] >= 0) {
            String owner = node;
            long released = id[0];
            // Until the engine confirms it, the next take of the key drops it first: a client that reconnects at
            // once is not refused for the slot it just gave back.
            releasing.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(released);
            writes.accept(key, () -> engine.get().submitToKey(key, new Release(owner, released))
                    .whenCompleteAsync((v, x) -> releasing.computeIfPresent(key, (k, ids) -> {
                        ids.remove(released);
                        return ids.isEmpty() ? null : ids;
                    }), Stages.DIRECT));
        }
    }

    /** Removes a node's slots from every limit: it left the cluster. Runs on the engine; call off the relay. */
    void forget(String gone) {
        engine.get().executeOnEntries(new Forget(gone));
    }

    /** Takes slots under a new id from now on: set before the engine is used again, so no take goes under the old. */
    void rename(String newNode) {
        this.node = requireNonNull(newNode, "newNode");
    }

    /** Removes the slots of every node not alive: those that left while no node saw them go. */
    void retain(Set<String> alive) {
        engine.get().executeOnEntries(new Retain(Set.copyOf(alive)));
    }

    /** Counts this node's slots again under its (new) id: the engine lost them, or the node's id changed. */
    void restore(String newNode) {
        this.node = requireNonNull(newNode, "newNode");
        IMap<String, Slots> map = engine.get();
        for (Map.Entry<String, Set<Long>> e : held.entrySet()) {
            map.executeOnKey(e.getKey(), new Restore(newNode, new ArrayList<>(e.getValue())));
        }
    }

    /**
     * The slots each node holds under one key, by id, and the marks of abandoned takes: the map's values. Written
     * as Hazelcast's {@link DataSerializable}, without Java serialization, since every handshake reads and writes
     * one.
     */
    public static final class Slots implements DataSerializable {
        private HashMap<String, HashSet<Long>> byNode;
        private HashMap<String, Long> abandoned; // "node/id" -> when it was abandoned, epoch ms

        /** For Hazelcast, which reads the value with {@link #readData}. */
        public Slots() {
            this(new HashMap<>(), new HashMap<>());
        }

        Slots(HashMap<String, HashSet<Long>> byNode, HashMap<String, Long> abandoned) {
            this.byNode = byNode;
            this.abandoned = abandoned;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeInt(byNode.size());
            for (Map.Entry<String, HashSet<Long>> e : byNode.entrySet()) {
                out.writeString(e.getKey());
                writeIds(out, e.getValue());
            }
            out.writeInt(abandoned.size());
            for (Map.Entry<String, Long> e : abandoned.entrySet()) {
                out.writeString(e.getKey());
                out.writeLong(e.getValue());
            }
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            int nodes = in.readInt();
            byNode = new HashMap<>();
            for (int i = 0; i < nodes; i++) {
                String node = in.readString();
                byNode.put(node, new HashSet<>(readIds(in)));
            }
            int marks = in.readInt();
            abandoned = new HashMap<>();
            for (int i = 0; i < marks; i++) {
                String key = in.readString();
                abandoned.put(key, in.readLong());
            }
        }

        static Slots empty() {
            return new Slots(new HashMap<>(), new HashMap<>());
        }

        /** The slots held under the key, on every node. */
        public int total() {
            int n = 0;
            for (Set<Long> ids : byNode.values()) {
                n += ids.size();
            }
            return n;
        }

        boolean holds(String node, long id) {
            HashSet<Long> ids = byNode.get(node);
            return ids != null && ids.contains(id);
        }

        boolean wasAbandoned(String node, long id) {
            return abandoned.containsKey(node + "/" + id);
        }

        /** A copy to change. */
        Slots copy() {
            HashMap<String, HashSet<Long>> nodes = new HashMap<>();
            byNode.forEach((n, ids) -> nodes.put(n, new HashSet<>(ids)));
            return new Slots(nodes, new HashMap<>(abandoned));
        }

        void add(String node, long id) {
            byNode.computeIfAbsent(node, n -> new HashSet<>()).add(id);
        }

        void remove(String node, long id) {
            HashSet<Long> ids = byNode.get(node);
            if (ids != null && ids.remove(id) && ids.isEmpty()) {
                byNode.remove(node);
            }
        }

        void retainNodes(Set<String> alive) {
            byNode.keySet().retainAll(alive);
            abandoned.keySet().removeIf(k -> !alive.contains(k.substring(0, k.lastIndexOf('/'))));
        }

        void removeNode(String node) {
            byNode.remove(node);
            abandoned.keySet().removeIf(k -> k.startsWith(node + "/"));
        }

        void markAbandoned(String node, long id, long now) {
            abandoned.put(node + "/" + id, now);
        }

        /** Drops the marks older than {@link #ABANDONED_MILLIS}; this value, or null when nothing is left. */
        Slots pruned(long now) {
            abandoned.values().removeIf(at -> now - at > ABANDONED_MILLIS);
            return byNode.isEmpty() && abandoned.isEmpty() ? null : this;
        }
    }

    /**
     * A processor that changes the slots of one key; the entry is removed once nothing is left in it. It carries
     * the caller's clock, so that the backups, which run it again, come to the same value as the primary.
     */
    private abstract static class Change implements EntryProcessor<String, Slots, Boolean>, DataSerializable {
        long now = System.currentTimeMillis(); // when the caller made it

        @Override
        public final void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(now);
            write(out);
        }

        @Override
        public final void readData(ObjectDataInput in) throws IOException {
            now = in.readLong();
            read(in);
        }

        abstract void write(ObjectDataOutput out) throws IOException;

        abstract void read(ObjectDataInput in) throws IOException;

        @Override
        public Boolean process(Map.Entry<String, Slots> entry) {
            Slots slots = entry.getValue() == null ? Slots.empty() : entry.getValue().copy();
            boolean result = change(slots);
            entry.setValue(slots.pruned(now));
            return result;
        }

        abstract boolean change(Slots slots);
    }

    /**
     * Takes a slot if fewer than {@code max} are held, unless its take was abandoned already; first gives back the
     * node's slots whose release is on its way.
     */
    public static final class Acquire extends Change {
        private String node;
        private long id;
        private int max;
        private List<Long> released;

        /** For Hazelcast. */
        public Acquire() {
        }

        Acquire(String node, long id, int max, List<Long> released) {
            this.node = node;
            this.id = id;
            this.max = max;
            this.released = released;
        }

        @Override
        void write(ObjectDataOutput out) throws IOException {
            out.writeString(node);
            out.writeLong(id);
            out.writeInt(max);
            writeIds(out, released);
        }

        @Override
        void read(ObjectDataInput in) throws IOException {
            node = in.readString();
            id = in.readLong();
            max = in.readInt();
            released = readIds(in);
        }

        @Override
        boolean change(Slots slots) {
            for (long r : released) {
                slots.remove(node, r);
            }
            if (slots.wasAbandoned(node, id) || slots.total() >= max) {
                return false;
            }
            slots.add(node, id);
            return true;
        }
    }

    /** A change of one slot: a node's, by id. */
    private abstract static class SlotChange extends Change {
        String node;
        long id;

        SlotChange() {
        }

        SlotChange(String node, long id) {
            this.node = node;
            this.id = id;
        }

        @Override
        final void write(ObjectDataOutput out) throws IOException {
            out.writeString(node);
            out.writeLong(id);
        }

        @Override
        final void read(ObjectDataInput in) throws IOException {
            node = in.readString();
            id = in.readLong();
        }
    }

    /** Gives back a slot, by id. */
    public static final class Release extends SlotChange {
        /** For Hazelcast. */
        public Release() {
        }

        Release(String node, long id) {
            super(node, id);
        }

        @Override
        boolean change(Slots slots) {
            slots.remove(node, id);
            return true;
        }
    }

    /** Gives back a slot whose take was not confirmed in time, or marks it so the take does nothing if it comes. */
    public static final class Abandon extends SlotChange {
        /** For Hazelcast. */
        public Abandon() {
        }

        Abandon(String node, long id) {
            super(node, id);
        }

        @Override
        boolean change(Slots slots) {
            if (slots.holds(node, id)) {
                slots.remove(node, id);
            } else {
                slots.markAbandoned(node, id, now);
            }
            return true;
        }
    }

    /** Removes a node's slots. */
    public static final class Forget extends Change {
        private String node;

        /** For Hazelcast. */
        public Forget() {
        }

        Forget(String node) {
            this.node = node;
        }

        @Override
        void write(ObjectDataOutput out) throws IOException {
            out.writeString(node);
        }

        @Override
        void read(ObjectDataInput in) throws IOException {
            node = in.readString();
        }

        @Override
        boolean change(Slots slots) {
            slots.removeNode(node);
            return true;
        }
    }

    /** Removes the slots of the nodes not alive. */
    public static final class Retain extends Change {
        private Set<String> alive;

        /** For Hazelcast. */
        public Retain() {
        }

        Retain(Set<String> alive) {
            this.alive = alive;
        }

        @Override
        void write(ObjectDataOutput out) throws IOException {
            out.writeStringArray(alive.toArray(new String[0]));
        }

        @Override
        void read(ObjectDataInput in) throws IOException {
            alive = Set.of(in.readStringArray());
        }

        @Override
        boolean change(Slots slots) {
            slots.retainNodes(alive);
            return true;
        }
    }

    /** Sets a node's slots: those it holds, counted again. */
    public static final class Restore extends Change {
        private String node;
        private List<Long> ids;

        /** For Hazelcast. */
        public Restore() {
        }

        Restore(String node, List<Long> ids) {
            this.node = node;
            this.ids = ids;
        }

        @Override
        void write(ObjectDataOutput out) throws IOException {
            out.writeString(node);
            writeIds(out, ids);
        }

        @Override
        void read(ObjectDataInput in) throws IOException {
            node = in.readString();
            ids = readIds(in);
        }

        @Override
        boolean change(Slots slots) {
            slots.removeNode(node);
            for (long id : ids) {
                slots.add(node, id);
            }
            return true;
        }
    }

    private static void writeIds(ObjectDataOutput out, java.util.Collection<Long> ids) throws IOException {
        long[] array = new long[ids.size()];
        int i = 0;
        for (long id : ids) {
            array[i++] = id;
        }
        out.writeLongArray(array);
    }

    private static List<Long> readIds(ObjectDataInput in) throws IOException {
        long[] array = in.readLongArray();
        List<Long> ids = new ArrayList<>(array.length);
        for (long id : array) {
            ids.add(id);
        }
        return ids;
    }
}
