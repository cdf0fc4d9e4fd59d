package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;

import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.spi.Cluster;

/**
 * A node that embeds a member: its id is the member's UUID, its handler sits in the member's user context
 * ({@link HazelcastNode#HANDLER}) for the {@link NodeTask}s that the executor service {@value HazelcastNode#EXECUTOR}
 * runs there, and a member that leaves is reported as gone.
 */
final class MemberTransport implements Transport {

    private static final Logger LOG = LoggerFactory.getLogger(MemberTransport.class);

    private final HazelcastInstance instance;
    private final Cluster.Handler handler;
    private final String id;
    private final IExecutorService requests;
    private final UUID listener;
    private final Executor completions; // where answers complete, off Hazelcast's threads

    /**
     * Registers the handler in the member's user context and listens for members that leave.
     *
     * @param gone told the id of each member that leaves, on Hazelcast's event thread
     * @throws IllegalArgumentException if the instance is a Hazelcast client
     */
    MemberTransport(HazelcastInstance instance, Cluster.Handler handler, Consumer<String> gone, Executor completions) {
        this.completions = completions;
        this.instance = requireNonNull(instance, "instance");
        this.handler = requireNonNull(handler, "handler");
        requireNonNull(gone, "gone");
        Member local;
        try {
            local = instance.getCluster().getLocalMember();
        } catch (UnsupportedOperationException e) {
            throw new IllegalArgumentException("instance: a Hazelcast client (expected: a member, embedded in "
                    + "this gateway node)", e);
        }
        this.id = local.getUuid().toString();
        this.requests = instance.getExecutorService(HazelcastNode.EXECUTOR);
        instance.getUserContext().put(HazelcastNode.HANDLER, handler);
        this.listener = instance.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                gone.accept(event.getMember().getUuid().toString());
            }
        });
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int members() {
        return instance.getCluster().getMembers().size();
    }

    @Override
    public Set<String> nodes() {
        return instance.getCluster().getMembers().stream().map(m -> m.getUuid().toString())
                .collect(Collectors.toSet());
    }

    @Override
    public CompletionStage<byte[]> forward(String node, byte[] request) {
        Member target = null;
        for (Member m : instance.getCluster().getMembers()) {
            if (m.getUuid().toString().equals(node)) {
                target = m;
            }
        }
        if (target == null) {
            return CompletableFuture.failedFuture(new NodeUnreachableException(node, "not a member of the cluster"));
        }
        CompletableFuture<byte[]> answer = Stages.handOff(stage(requests.submitToMember(new NodeTask(request), target)),
                completions);
        return answer.orTimeout(HazelcastNode.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).handle((response, x) -> {
            if (x == null && response.length > 0) {
                return response;
            }
            Throwable cause = x == null ? null : Stages.unwrap(x);
            throw new CompletionException(cause == null ? new NodeUnreachableException(node, "no gateway runs on it")
                    : cause instanceof TimeoutException ? new NodeUnreachableException(node,
                            "no answer within " + HazelcastNode.TIMEOUT.toSeconds() + " s", cause)
                    : new NodeUnreachableException(node, cause.toString(), cause));
        });
    }

    /**
     * Runs the request on every member at once and collects the answers of those that answered within the
     * timeout; a member that failed, left or did not answer in time is logged and left out.
     */
    @Override
    public CompletionStage<List<byte[]>> broadcast(byte[] request) {
        Map<Member, Future<byte[]>> sent = requests.submitToAllMembers(new NodeTask(request));
        Map<Member, CompletableFuture<byte[]>> answers = new HashMap<>();
        sent.forEach((member, f) -> answers.put(member, Stages.handOff(stage(f), completions)
                .orTimeout(HazelcastNode.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)));
        return CompletableFuture.allOf(answers.values().toArray(new CompletableFuture<?>[0])).handle((v, x) -> {
            Map<Member, Object> values = new HashMap<>();
            answers.forEach((member, f) -> values.put(member, f.isCompletedExceptionally()
                    ? f.handle((ok, failure) -> Stages.unwrap(failure)).join() : f.join()));
            return answered(values);
        });
    }

    /** Hazelcast's executor futures are completion stages; a plain future is refused (never happens). */
    @SuppressWarnings("unchecked")
    private static <T> CompletionStage<T> stage(Future<T> f) {
        if (f instanceof CompletionStage<?> s) {
            return (CompletionStage<T>) s;
        }
        throw new IllegalStateException("Hazelcast's executor gave a " + f.getClass().getName()
                + " (expected: a CompletionStage)");
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
    public void close() {
        try {
            if (instance.getLifecycleService().isRunning()) {
                instance.getUserContext().remove(HazelcastNode.HANDLER, handler);
                instance.getCluster().removeMembershipListener(listener);
            }
        } catch (RuntimeException e) {
            LOG.debug("The member stopped meanwhile", e);
        }
    }
}
