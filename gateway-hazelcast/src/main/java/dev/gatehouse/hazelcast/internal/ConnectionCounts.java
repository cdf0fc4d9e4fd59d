package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.io.Serializable;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;

/**
 * The concurrent-connection limits counted across the cluster: the map {@value #MAP}, from a limit's key to the
 * slots each node holds under it. Taking a slot is one entry processor on the key's partition, so nodes racing
 * for the last slot never both get it; a node's slots leave with it ({@link #forget}). This node also keeps what
 * it holds, to give it back and to count it again when the engine lost it ({@link #restore}).
 *
 * <p>When the engine does not answer within the timeout, {@link Fallbacks} decides: this node's own count
 * (local), a slot given without counting (open), or a refusal (closed). Slots taken that way are given back
 * here, never to the engine.
 */
public final class ConnectionCounts {

    /** The map's name. */
    public static final String MAP = "gatehouse.limits.connections";

    private final IMap<String, Slots> map;
    private final Duration timeout;
    private final Fallbacks fallbacks;
    private final Consumer<Runnable> writes; // runs a change on the engine in call order, off the caller's thread
    private final ConcurrentHashMap<String, Integer> held = new ConcurrentHashMap<>();  // counted by the engine
    private final ConcurrentHashMap<String, Integer> local = new ConcurrentHashMap<>(); // taken by the fallback
    private volatile String node;

    ConnectionCounts(IMap<String, Slots> map, String node, Duration timeout, Fallbacks fallbacks,
            Consumer<Runnable> writes) {
        this.map = requireNonNull(map, "map");
        this.node = requireNonNull(node, "node");
        this.timeout = requireNonNull(timeout, "timeout");
        this.fallbacks = requireNonNull(fallbacks, "fallbacks");
        this.writes = requireNonNull(writes, "writes");
    }

    /** Takes a slot if the cluster holds fewer than {@code max} under the key; the fallback when the engine is away. */
    boolean acquire(String key, int max) {
        boolean taken;
        try {
            taken = map.submitToKey(key, new Acquire(node, max)).toCompletableFuture()
                    .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fallBack(key, max, e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            // The member stopped (HazelcastInstanceNotActiveException), the partition's owner did not answer, ...
            return fallBack(key, max, e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e);
        }
        if (taken) {
            held.merge(key, 1, Integer::sum);
        }
        return taken;
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
                    if (count + held.getOrDefault(key, 0) >= max) {
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
        boolean[] wasHeld = {false};
        held.computeIfPresent(key, (k, n) -> {
            wasHeld[0] = true;
            return n <= 1 ? null : n - 1;
        });
        if (wasHeld[0]) {
            String owner = node;
            writes.accept(() -> map.executeOnKey(key, new Release(owner)));
        }
    }

    /** Removes a node's slots from every limit: it left the cluster. Runs on the engine; call off the relay. */
    void forget(String gone) {
        map.executeOnEntries(new Forget(gone));
    }

    /** Counts this node's slots again under its (new) id: the engine lost them, or the node's id changed. */
    void restore(String newNode) {
        this.node = requireNonNull(newNode, "newNode");
        for (Map.Entry<String, Integer> e : held.entrySet()) {
            map.executeOnKey(e.getKey(), new Restore(newNode, e.getValue()));
        }
    }

    /** The slots each node holds under one key: the map's values. */
    public static final class Slots implements Serializable {
        private static final long serialVersionUID = 1L;

        private final HashMap<String, Integer> byNode;

        Slots(HashMap<String, Integer> byNode) {
            this.byNode = byNode;
        }

        /** The slots held under the key, on every node. */
        public int total() {
            int n = 0;
            for (int c : byNode.values()) {
                n += c;
            }
            return n;
        }

        /** This count with a node's changed by {@code delta}, or null when no node holds any. */
        Slots with(String node, int delta) {
            HashMap<String, Integer> copy = new HashMap<>(byNode);
            copy.merge(node, delta, Integer::sum);
            if (copy.get(node) <= 0) {
                copy.remove(node);
            }
            return copy.isEmpty() ? null : new Slots(copy);
        }

        Slots without(String node) {
            HashMap<String, Integer> copy = new HashMap<>(byNode);
            copy.remove(node);
            return copy.isEmpty() ? null : new Slots(copy);
        }

        Slots withCount(String node, int count) {
            HashMap<String, Integer> copy = new HashMap<>(byNode);
            copy.put(node, count);
            return new Slots(copy);
        }

        boolean holds(String node) {
            return byNode.containsKey(node);
        }

        static Slots empty() {
            return new Slots(new HashMap<>());
        }
    }

    /** Takes a slot if fewer than {@code max} are held. */
    static final class Acquire implements EntryProcessor<String, Slots, Boolean> {
        private static final long serialVersionUID = 1L;
        private final String node;
        private final int max;

        Acquire(String node, int max) {
            this.node = node;
            this.max = max;
        }

        @Override
        public Boolean process(Map.Entry<String, Slots> entry) {
            Slots s = entry.getValue() == null ? Slots.empty() : entry.getValue();
            if (s.total() >= max) {
                return false;
            }
            entry.setValue(s.with(node, 1));
            return true;
        }
    }

    /** Gives back one of a node's slots. */
    static final class Release implements EntryProcessor<String, Slots, Void> {
        private static final long serialVersionUID = 1L;
        private final String node;

        Release(String node) {
            this.node = node;
        }

        @Override
        public Void process(Map.Entry<String, Slots> entry) {
            if (entry.getValue() != null && entry.getValue().holds(node)) {
                entry.setValue(entry.getValue().with(node, -1));
            }
            return null;
        }
    }

    /** Removes a node's slots. */
    static final class Forget implements EntryProcessor<String, Slots, Void> {
        private static final long serialVersionUID = 1L;
        private final String node;

        Forget(String node) {
            this.node = node;
        }

        @Override
        public Void process(Map.Entry<String, Slots> entry) {
            if (entry.getValue() != null && entry.getValue().holds(node)) {
                entry.setValue(entry.getValue().without(node));
            }
            return null;
        }
    }

    /** Sets a node's slots: what it holds, counted again. */
    static final class Restore implements EntryProcessor<String, Slots, Void> {
        private static final long serialVersionUID = 1L;
        private final String node;
        private final int count;

        Restore(String node, int count) {
            this.node = node;
            this.count = count;
        }

        @Override
        public Void process(Map.Entry<String, Slots> entry) {
            Slots s = entry.getValue() == null ? Slots.empty() : entry.getValue();
            entry.setValue(s.withCount(node, count));
            return null;
        }
    }
}
