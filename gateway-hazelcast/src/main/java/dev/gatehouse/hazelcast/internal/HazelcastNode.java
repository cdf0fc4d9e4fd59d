package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.core.MultiExecutionCallback;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;

import dev.gatehouse.Audience;
import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.spi.Cluster;

/**
 * A gateway's membership of a Hazelcast cluster. The directory is the map {@value #DIRECTORY}: connection id to
 * {@link DirectoryEntry}, whose {@code node} is the UUID of the member that holds the connection. Its writes run
 * in call order on one thread of this node's, so that the relay never waits for Hazelcast. When a member leaves
 * (killed or shut down) every member still in the cluster removes its entries, so a dead node's connections leave
 * the directory as soon as Hazelcast declares it gone; a member that joins removes the entries of nodes that are
 * not members any more. Requests go to a member through the executor service {@value #EXECUTOR}: one member for a
 * forward, every member for a broadcast.
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

    private static final Logger LOG = LoggerFactory.getLogger(HazelcastNode.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final HazelcastInstance instance;
    private final String id;
    private final IMap<String, DirectoryEntry> directory;
    private final IExecutorService requests;
    private final ExecutorService writes; // one thread: the directory's writes in call order
    private final ExecutorService queries; // the directory's blocking queries, off the callers' threads
    private final UUID listener;
    private final ConnectionCounts counts;
    private final RevocationStore revocations;

    /**
     * Joins through a member: registers the handler in its user context, starts keeping the directory, and hands
     * the handler every revocation the cluster remembers.
     *
     * @param fallbacks what shared limits do when the engine does not answer within {@code timeout}
     * @throws IllegalArgumentException if the instance is a Hazelcast client rather than a member
     */
    public HazelcastNode(HazelcastInstance instance, Cluster.Handler handler, Fallbacks fallbacks, Duration timeout) {
        this.instance = requireNonNull(instance, "instance");
        requireNonNull(handler, "handler");
        Member local;
        try {
            local = instance.getCluster().getLocalMember();
        } catch (UnsupportedOperationException e) {
            throw new IllegalArgumentException("instance: a Hazelcast client (expected: a member, embedded in "
                    + "this gateway node)", e);
        }
        this.id = local.getUuid().toString();
        this.directory = instance.getMap(DIRECTORY);
        this.requests = instance.getExecutorService(EXECUTOR);
        this.writes = Executors.newSingleThreadExecutor(daemon("gatehouse-directory"));
        this.queries = Executors.newCachedThreadPool(daemon("gatehouse-directory-query"));
        this.counts = new ConnectionCounts(instance.getMap(ConnectionCounts.MAP), id, timeout, fallbacks, this::write);
        instance.getUserContext().put(HANDLER, handler);
        this.listener = instance.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                String gone = event.getMember().getUuid().toString();
                LOG.info("Member {} left the cluster: its connections leave the directory", gone);
                write(() -> directory.removeAll(Predicates.equal("node", gone)));
                write(() -> counts.forget(gone));
            }
        });
        Set<String> members = instance.getCluster().getMembers().stream().map(m -> m.getUuid().toString())
                .collect(Collectors.toSet());
        write(() -> directory.removeAll(Predicates.not(Predicates.in("node", members.toArray(new String[0])))));
        this.revocations = new RevocationStore(instance.getMap(RevocationStore.MAP), handler::revoked);
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name + "-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public void register(Cluster.Entry entry) {
        DirectoryEntry e = new DirectoryEntry(id, entry.user().orElse(null), entry.groups());
        write(() -> directory.set(entry.connectionId(), e));
    }

    @Override
    public void joined(String connectionId, String group) {
        write(() -> directory.executeOnKey(connectionId, new GroupChange(group, true)));
    }

    @Override
    public void left(String connectionId, String group) {
        write(() -> directory.executeOnKey(connectionId, new GroupChange(group, false)));
    }

    @Override
    public void unregister(String connectionId) {
        write(() -> directory.delete(connectionId));
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
        write(() -> revocations.remember(revocation));
    }

    private void write(Runnable change) {
        try {
            writes.execute(() -> {
                try {
                    change.run();
                } catch (HazelcastInstanceNotActiveException e) {
                    // The member stopped: the other members forget this node's connections.
                    LOG.debug("A change to the connection directory was dropped: the member stopped", e);
                } catch (RuntimeException e) {
                    LOG.warn("A change to the connection directory failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("The directory is closed: a change is dropped");
        }
    }

    @Override
    public CompletionStage<Optional<String>> locate(String connectionId) {
        requireNonNull(connectionId, "connectionId");
        return directory.getAsync(connectionId).thenApply(e -> Optional.ofNullable(e).map(DirectoryEntry::getNode));
    }

    @Override
    public CompletionStage<List<String>> ids(Audience audience) {
        requireNonNull(audience, "audience");
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
        return CompletableFuture.supplyAsync(() -> List.copyOf(directory.keySet(where)), queries);
    }

    @Override
    public CompletionStage<byte[]> forward(String node, byte[] request) {
        requireNonNull(node, "node");
        requireNonNull(request, "request");
        Member target = null;
        for (Member m : instance.getCluster().getMembers()) {
            if (m.getUuid().toString().equals(node)) {
                target = m;
            }
        }
        if (target == null) {
            return CompletableFuture.failedFuture(new NodeUnreachableException(node, "not a member of the cluster"));
        }
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        requests.submitToMember(new NodeTask(request), target, new ExecutionCallback<byte[]>() {
            @Override
            public void onResponse(byte[] response) {
                if (response.length == 0) {
                    answer.completeExceptionally(new NodeUnreachableException(node, "no gateway runs on it"));
                } else {
                    answer.complete(response);
                }
            }

            @Override
            public void onFailure(Throwable t) {
                answer.completeExceptionally(new NodeUnreachableException(node, t.toString(), t));
            }
        });
        return answer.orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).exceptionallyCompose(x -> {
            if (x instanceof java.util.concurrent.TimeoutException) {
                return CompletableFuture.failedFuture(new NodeUnreachableException(node,
                        "no answer within " + TIMEOUT.toSeconds() + " s", x));
            }
            return CompletableFuture.failedFuture(x);
        });
    }

    @Override
    public CompletionStage<List<byte[]>> broadcast(byte[] request) {
        requireNonNull(request, "request");
        CompletableFuture<List<byte[]>> answers = new CompletableFuture<>();
        requests.submitToAllMembers(new NodeTask(request), new MultiExecutionCallback() {
            @Override
            public void onResponse(Member member, Object value) {
            }

            @Override
            public void onComplete(Map<Member, Object> values) {
                answers.complete(answered(values));
            }
        });
        return answers.orTimeout(TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
    }

    /** The non-empty answers; a member that failed (left, or threw) is logged and left out. */
    private static List<byte[]> answered(Map<Member, Object> values) {
        List<byte[]> out = new ArrayList<>(values.size());
        for (Map.Entry<Member, Object> v : values.entrySet()) {
            if (v.getValue() instanceof byte[] b) {
                if (b.length > 0) {
                    out.add(b);
                }
            } else {
                LOG.warn("Member {} did not run a broadcast: {}", v.getKey().getUuid(), v.getValue());
            }
        }
        return out;
    }

    @Override
    public int members() {
        return instance.getCluster().getMembers().size();
    }

    /** Stops keeping the directory: the handler leaves the member's user context; pending writes still run. */
    @Override
    public void close() {
        if (instance.getLifecycleService().isRunning()) {
            try {
                instance.getUserContext().remove(HANDLER);
                instance.getCluster().removeMembershipListener(listener);
                revocations.close();
            } catch (HazelcastInstanceNotActiveException e) {
                LOG.debug("The member stopped meanwhile", e);
            }
        }
        writes.shutdown();
        queries.shutdown();
    }
}
