package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.core.HazelcastException;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;

import dev.gatehouse.Audience;
import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.spi.Cluster;

/**
 * A gateway's membership of a Hazelcast cluster, as a member or as a client. The directory is the map
 * {@value #DIRECTORY}: connection id to {@link DirectoryEntry}, whose {@code node} is the id of the node that
 * holds the connection. Its writes run in call order on one thread of this node's, so that the relay never waits
 * for Hazelcast. When a node leaves (killed or shut down) every node still in the cluster removes its entries; a
 * node that joins removes the entries of nodes that are not alive any more. Requests go to a node through a
 * {@link Transport}: the executor service {@value #EXECUTOR} for a member, topics for a client.
 *
 * <p>This object stays the gateway's node for good, while the engine under it may change: when the member
 * restarts ({@link #restarted}), merges after a split, or the client reconnects, it opens a new incarnation (a new
 * id, when the engine gave it one) and registers this node's connections again from
 * {@link Cluster.Handler#entries()}, counts its connection slots again and reloads the revocations. While the
 * engine is away, requests to other nodes fail at once with {@link NodeUnreachableException}, and directory
 * changes are dropped: the registration that follows covers them.
 */
public final class HazelcastNode implements Cluster.Node, AutoCloseable {

    /** The key of a member's user context under which the gateway's handler is. */
    public static final String HANDLER = "dev.gatehouse.cluster.handler";
    /** The directory map's name. */
    public static final String DIRECTORY = "gatehouse.connections";
    /** The executor service's name. */
    public static final String EXECUTOR = "gatehouse.requests";
    /** How long a forward or a broadcast waits for a node's answer. */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);
    /** The most revocations that wait to be stored in the cluster. */
    static final int MAX_UNSENT = 10_000;
    /** How long a revocation that could not be stored waits before the next try. */
    static final Duration RETRY = Duration.ofSeconds(5);

    private static final Logger LOG = LoggerFactory.getLogger(HazelcastNode.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final boolean client;
    private final Cluster.Handler handler;
    private final ExecutorService writeThread; // runs the writes
    private final OrderedWrites writes; // the directory's writes, the slots given back, each new incarnation, in call order
    private final ExecutorService queries; // the directory's queries and the engine's answers, off callers' and Hazelcast's threads
    private final ScheduledExecutorService timer; // a client's heartbeats
    private final ConnectionCounts counts;
    /** Revocations not stored yet (the engine was away or failed), oldest first; at most {@link #MAX_UNSENT}. */
    private final Queue<Cluster.Revocation> unsent = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean retrying = new AtomicBoolean(); // a retry of the unsent revocations is scheduled
    private volatile Incarnation current; // the engine this node runs on now; replaced on the write thread only
    private volatile boolean up; // whether the engine can be used: false from its loss until the next incarnation
    private volatile boolean closed; // set once by close()

    /** One engine's life under this node: its instance, transport, revocations and lifecycle listener. */
    private record Incarnation(HazelcastInstance instance, Transport transport, RevocationStore revocations,
            UUID lifecycle) {
        String id() {
            return transport.id();
        }
    }

    /**
     * Joins through a member, or a client: registers the handler (in the member's user context; as a live node
     * for a client), starts keeping the directory, and hands the handler every revocation the cluster remembers.
     *
     * @param client    whether the instance is a Hazelcast client rather than a member
     * @param fallbacks what shared limits do when the engine does not answer within {@code timeout}
     * @throws IllegalArgumentException if the instance is a client and {@code client} is false, or the reverse
     */
    public HazelcastNode(HazelcastInstance instance, boolean client, Cluster.Handler handler, Fallbacks fallbacks,
            Duration timeout) {
        requireNonNull(instance, "instance");
        this.client = client;
        this.handler = requireNonNull(handler, "handler");
        if (client && isMember(instance)) {
            throw new IllegalArgumentException("instance: a Hazelcast member (expected: a client)");
        }
        this.writeThread = Executors.newSingleThreadExecutor(daemon("gatehouse-directory"));
        this.writes = new OrderedWrites(writeThread, () -> up, TIMEOUT);
        this.queries = Executors.newCachedThreadPool(daemon("gatehouse-directory-query"));
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("gatehouse-heartbeat"));
        try {
            this.current = open(instance, null);
        } catch (RuntimeException e) {
            writeThread.shutdown();
            queries.shutdown();
            timer.shutdown();
            throw e;
        }
        this.counts = new ConnectionCounts(() -> engineMap(ConnectionCounts.MAP), current.id(), timeout, fallbacks,
                writes::change);
        this.up = true;
        Set<String> alive = current.transport().nodes();
        write(() -> directory().removeAll(Predicates.not(Predicates.in("node", alive.toArray(new String[0])))));
        write(() -> counts.retain(alive));
    }

    private static boolean isMember(HazelcastInstance instance) {
        try {
            instance.getCluster().getLocalMember();
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name + "-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Opens an incarnation on an engine; listens to its lifecycle unless {@code lifecycle} already does. */
    private Incarnation open(HazelcastInstance instance, UUID lifecycle) {
        Transport transport = client
                ? new ClientTransport(instance, handler, this::gone, () -> renew(instance), timer, queries)
                : new MemberTransport(instance, handler, this::gone, queries);
        try {
            RevocationStore revocations = new RevocationStore(instance.getMap(RevocationStore.MAP), handler::revoked);
            UUID listener = lifecycle != null ? lifecycle
                    : instance.getLifecycleService().addLifecycleListener(e -> lifecycle(instance, e));
            return new Incarnation(instance, transport, revocations, listener);
        } catch (RuntimeException e) {
            transport.close();
            throw e;
        }
    }

    /** Hears the engine come and go. */
    private void lifecycle(HazelcastInstance instance, LifecycleEvent event) {
        if (closed || current == null || current.instance() != instance) {
            return;
        }
        switch (event.getState()) {
            case SHUTTING_DOWN:
            case MERGING:
            case CLIENT_DISCONNECTED:
            case CLIENT_CHANGED_CLUSTER:
                if (up) {
                    LOG.warn("Node {} lost the cluster ({}): requests to other nodes fail until it is back",
                            current.id(), event.getState());
                }
                up = false;
                break;
            case MERGED:
            case MERGE_FAILED: // the member goes on in its own cluster: this node with it
                renew(instance);
                break;
            case CLIENT_CONNECTED:
                if (!up) {
                    renew(instance);
                }
                break;
            default:
                break;
        }
    }

    /**
     * The engine's member was started again after it stopped: this node goes on with it, under the new member's
     * id, and registers its connections again. Returns at once; the work runs on the directory's thread.
     */
    public void restarted(HazelcastInstance instance) {
        requireNonNull(instance, "instance");
        renew(instance);
    }

    private void renew(HazelcastInstance instance) {
        writes.barrier(() -> bind(instance));
    }

    /** Opens a new incarnation on the engine and registers this node's connections again. On the write thread. */
    private void bind(HazelcastInstance instance) {
        Incarnation old = current;
        if (closed || !instance.getLifecycleService().isRunning()) {
            return;
        }
        old.transport().close();
        try {
            old.revocations().close();
        } catch (RuntimeException e) {
            LOG.debug("The old engine stopped", e);
        }
        Incarnation next;
        try {
            next = open(instance, old.instance() == instance ? old.lifecycle() : null);
        } catch (RuntimeException e) {
            LOG.warn("Node {} could not join the cluster again: {}", old.id(), e.toString());
            up = false;
            return;
        }
        if (old.instance() != instance) {
            try {
                old.instance().getLifecycleService().removeLifecycleListener(old.lifecycle());
            } catch (RuntimeException e) {
                LOG.debug("The old engine stopped", e);
            }
        }
        current = next;
        String id = next.id();
        counts.rename(id);
        up = true;
        try {
            if (!id.equals(old.id())) {
                directory().removeAll(Predicates.equal("node", old.id()));
                counts.forget(old.id());
            }
            Set<String> alive = next.transport().nodes();
            directory().removeAll(Predicates.not(Predicates.in("node", alive.toArray(new String[0]))));
            counts.retain(alive);
            counts.restore(id);
            // Taken here, on the write thread: a later register or unregister is applied after it.
            List<Cluster.Entry> entries = handler.entries();
            for (Cluster.Entry e : entries) {
                directory().set(e.connectionId(), new DirectoryEntry(id, e.user().orElse(null), e.groups()));
            }
            storeUnsent();
            LOG.info("Node {} joined the cluster again as {}: {} connection(s) registered again", old.id(), id,
                    entries.size());
        } catch (RuntimeException e) {
            LOG.warn("Node {} could not register its connections again: {}", id, e.toString());
        }
    }

    /** Another node left: its connections and slots leave with it (every survivor does it; idempotent). */
    private void gone(String node) {
        LOG.info("Node {} left the cluster: its connections leave the directory", node);
        write(() -> directory().removeAll(Predicates.equal("node", node)));
        write(() -> counts.forget(node));
    }

    private IMap<String, DirectoryEntry> directory() {
        return current.instance().getMap(DIRECTORY);
    }

    /**
     * A map of the current engine's, whichever it is when asked: what {@link ConnectionCounts} asks for on each
     * call. While the engine is away it fails at once with a {@link HazelcastException}.
     */
    private <K, V> IMap<K, V> engineMap(String name) {
        if (!up) {
            throw new HazelcastException("the cluster's engine cannot be reached");
        }
        return current.instance().getMap(name);
    }

    @Override
    public String id() {
        return current.id();
    }

    @Override
    public void register(Cluster.Entry entry) {
        requireNonNull(entry, "entry");
        writes.change(entry.connectionId(), () -> directory().setAsync(entry.connectionId(),
                new DirectoryEntry(current.id(), entry.user().orElse(null), entry.groups())));
    }

    @Override
    public void joined(String connectionId, String group) {
        writes.change(connectionId, () -> directory().submitToKey(connectionId, new GroupChange(group, true)));
    }

    @Override
    public void left(String connectionId, String group) {
        writes.change(connectionId, () -> directory().submitToKey(connectionId, new GroupChange(group, false)));
    }

    @Override
    public void unregister(String connectionId) {
        writes.change(connectionId, () -> directory().deleteAsync(connectionId));
    }

    @Override
    public boolean acquire(String key, int max) {
        requireNonNull(key, "key");
        return counts.acquire(key, max);
    }

    @Override
    public void release(String key) {
        requireNonNull(key, "key");
        counts.release(key);
    }

    @Override
    public void remember(Cluster.Revocation revocation) {
        requireNonNull(revocation, "revocation");
        writes.barrier(() -> {
            keep(revocation);
            storeUnsent();
        });
    }

    /** Queues a revocation to store; the oldest is dropped, with a warning, when {@link #MAX_UNSENT} wait. */
    private void keep(Cluster.Revocation revocation) {
        unsent.add(revocation);
        while (unsent.size() > MAX_UNSENT) {
            Cluster.Revocation dropped = unsent.poll();
            LOG.warn("{} revocations wait for the cluster: the oldest, of {}, is dropped (this node still refuses it)",
                    MAX_UNSENT, dropped == null ? "?" : "a subject");
        }
    }

    /**
     * Stores the revocations that wait, in order, on the write thread; on a failure, tries again after
     * {@link #RETRY}, while the node is open (and at once when the engine comes back, on registration).
     */
    private void storeUnsent() {
        if (!up) {
            return; // the next incarnation stores them
        }
        for (Cluster.Revocation r; (r = unsent.peek()) != null; ) {
            try {
                current.revocations().remember(r);
                unsent.poll();
            } catch (RuntimeException e) {
                LOG.warn("{} revocation(s) could not be stored in the cluster; trying again in {} s: {}", unsent.size(),
                        RETRY.toSeconds(), e.toString());
                if (!closed && retrying.compareAndSet(false, true)) {
                    try {
                        timer.schedule(() -> {
                            retrying.set(false);
                            writes.barrier(this::storeUnsent);
                        }, RETRY.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.RejectedExecutionException x) {
                        retrying.set(false);
                    }
                }
                return;
            }
        }
    }

    /** Runs a task on the engine after the changes before it; dropped while the engine is away (the next incarnation covers it). */
    private void write(Runnable task) {
        writes.barrier(() -> {
            if (!up) {
                LOG.debug("A change to the connection directory waits for the cluster's return");
                return;
            }
            task.run();
        });
    }

    private <T> CompletableFuture<T> unreachable() {
        return CompletableFuture.failedFuture(new NodeUnreachableException(current.id(),
                "this node lost the cluster for now"));
    }

    @Override
    public CompletionStage<Optional<String>> locate(String connectionId) {
        requireNonNull(connectionId, "connectionId");
        if (!up) {
            return unreachable();
        }
        try {
            return Stages.handOff(directory().getAsync(connectionId), queries)
                    .thenApply(e -> Optional.ofNullable(e).map(DirectoryEntry::getNode));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new NodeUnreachableException(current.id(), e.toString(), e));
        }
    }

    @Override
    public CompletionStage<List<String>> ids(Audience audience) {
        requireNonNull(audience, "audience");
        if (!up) {
            return unreachable();
        }
        Predicate<String, DirectoryEntry> where;
        switch (audience.kind()) {
            case USER:
                where = Predicates.equal("user", audience.name().orElseThrow());
                break;
            case GROUP:
                where = Predicates.equal("groups[any]", audience.name().orElseThrow());
                break;
            default:
                where = Predicates.alwaysTrue();
        }
        try {
            return CompletableFuture.supplyAsync(() -> List.copyOf(directory().keySet(where)), queries)
                    .orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .exceptionallyCompose(x -> CompletableFuture.failedFuture(new NodeUnreachableException(current.id(),
                            "the directory did not answer: " + Stages.unwrap(x), Stages.unwrap(x))));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new NodeUnreachableException(current.id(), "this node is closed", e));
        }
    }

    @Override
    public CompletionStage<byte[]> forward(String node, byte[] request) {
        requireNonNull(node, "node");
        requireNonNull(request, "request");
        if (!up) {
            return unreachable();
        }
        try {
            return current.transport().forward(node, request);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new NodeUnreachableException(node, e.toString(), e));
        }
    }

    @Override
    public CompletionStage<List<byte[]>> broadcast(byte[] request) {
        requireNonNull(request, "request");
        if (!up) {
            return unreachable();
        }
        try {
            return current.transport().broadcast(request);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new NodeUnreachableException(current.id(), e.toString(), e));
        }
    }

    @Override
    public int members() {
        if (!up) {
            return 1;
        }
        try {
            return current.transport().members();
        } catch (RuntimeException e) {
            return 1;
        }
    }

    /** The engine this node runs on now. */
    public HazelcastInstance instance() {
        return current.instance();
    }

    /**
     * Stops keeping the directory: the handler leaves the engine (a client node's entry in the live nodes'
     * map too, so that the others forget its connections at once), once the pending writes ran; waits for them
     * up to {@link #TIMEOUT}.
     */
    @Override
    public void close() {
        closed = true;
        writes.close(() -> {
            Incarnation last = current;
            if (up) {
                // The member may live on (an application's, or a gateway rebuilt on it): nobody else would forget
                // this node's connections and slots.
                try {
                    directory().removeAll(Predicates.equal("node", last.id()));
                    counts.forget(last.id());
                } catch (RuntimeException e) {
                    LOG.debug("The engine stopped meanwhile", e);
                }
            }
            last.transport().close();
            try {
                last.instance().getLifecycleService().removeLifecycleListener(last.lifecycle());
                last.revocations().close();
            } catch (RuntimeException e) {
                LOG.debug("The engine stopped meanwhile", e);
            }
        });
        writeThread.shutdown();
        queries.shutdown();
        timer.shutdown();
    }
}
