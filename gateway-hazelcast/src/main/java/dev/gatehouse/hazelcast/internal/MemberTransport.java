package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.core.MultiExecutionCallback;

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

    /**
     * Registers the handler in the member's user context and listens for members that leave.
     *
     * @param gone told the id of each member that leaves, on Hazelcast's event thread
     * @throws IllegalArgumentException if the instance is a Hazelcast client
     */
    MemberTransport(HazelcastInstance instance, Cluster.Handler handler, Consumer<String> gone) {
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
        return answer.orTimeout(HazelcastNode.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).exceptionallyCompose(x -> {
            if (x instanceof TimeoutException) {
                return CompletableFuture.failedFuture(new NodeUnreachableException(node,
                        "no answer within " + HazelcastNode.TIMEOUT.toSeconds() + " s", x));
            }
            return CompletableFuture.failedFuture(x);
        });
    }

    @Override
    public CompletionStage<List<byte[]>> broadcast(byte[] request) {
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
        return answers.orTimeout(HazelcastNode.TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
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
