package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.MapClearedListener;
import com.hazelcast.topic.ITopic;
import com.hazelcast.topic.Message;

import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.spi.Cluster;

/**
 * A node that is a Hazelcast client: clients run no executor tasks, so requests travel over topics. Each node
 * listens on the topic {@value #TOPIC}{@code <id>}; a request carries a request id and the requester's id, and its
 * answer comes back on the requester's topic with the same request id. The nodes alive are the keys of the map
 * {@value #NODES}, each node refreshing its own entry every {@link #HEARTBEAT} with a time to live of
 * {@link #TTL}: a node that stops refreshing expires, and every survivor reports it gone.
 */
final class ClientTransport implements Transport {

    /** The map of live gateway nodes: node id to the time of its last heartbeat, in epoch milliseconds. */
    static final String NODES = "gatehouse.nodes";
    /** The prefix of each node's request topic. */
    static final String TOPIC = "gatehouse.node.";
    /** How often a node refreshes its entry in {@value #NODES}. */
    static final Duration HEARTBEAT = Duration.ofSeconds(2);
    /** How long a node's entry lives without a refresh. */
    static final Duration TTL = Duration.ofSeconds(10);
    /** The most requests waiting for an answer; one more fails at once. */
    static final int MAX_PENDING = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(ClientTransport.class);
    private static final byte REQUEST = 1;
    private static final byte ANSWER = 2;

    private final HazelcastInstance client;
    private final Cluster.Handler handler;
    private final String id = UUID.randomUUID().toString();
    private final IMap<String, Long> nodes;
    private final Set<String> live = ConcurrentHashMap.newKeySet(); // the ids in NODES, as its events told them
    private final ConcurrentHashMap<Long, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>(); // by id
    private final AtomicLong requestIds = new AtomicLong();
    private final UUID nodesListener;
    private final UUID topicListener;
    private final ScheduledFuture<?> heartbeat;
    private final Executor completions; // where answers complete, off Hazelcast's threads

    /**
     * Enters this node in {@value #NODES}, starts its heartbeat on {@code timer}, and listens on its topic.
     *
     * @param gone told the id of each other node whose entry expired or was removed, on Hazelcast's event thread
     * @param lost run when this node's own entry expired: the others forgot its connections
     */
    ClientTransport(HazelcastInstance client, Cluster.Handler handler, Consumer<String> gone, Runnable lost,
            ScheduledExecutorService timer, Executor completions) {
        this.completions = requireNonNull(completions, "completions");
        this.client = requireNonNull(client, "client");
        this.handler = requireNonNull(handler, "handler");
        requireNonNull(gone, "gone");
        requireNonNull(lost, "lost");
        this.nodes = client.getMap(NODES);
        nodes.set(id, System.currentTimeMillis(), TTL.toMillis(), TimeUnit.MILLISECONDS);
        this.nodesListener = nodes.addEntryListener(new NodesListener(gone, lost), false);
        live.addAll(nodes.keySet());
        live.add(id);
        this.topicListener = client.<byte[]>getTopic(TOPIC + id).addMessageListener(this::received);
        this.heartbeat = timer.scheduleAtFixedRate(this::beat, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void beat() {
        try {
            nodes.setAsync(id, System.currentTimeMillis(), TTL.toMillis(), TimeUnit.MILLISECONDS)
                    .whenCompleteAsync((v, x) -> {
                        if (x != null) {
                            LOG.debug("A heartbeat of node {} failed", id, x);
                        }
                    }, Stages.DIRECT);
        } catch (RuntimeException e) {
            LOG.debug("A heartbeat of node {} failed", id, e);
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int members() {
        return live.size();
    }

    @Override
    public Set<String> nodes() {
        return Set.copyOf(nodes.keySet());
    }

    @Override
    public CompletionStage<byte[]> forward(String node, byte[] request) {
        if (live.contains(node)) {
            return request(node, request);
        }
        // Not heard of yet, perhaps: the map itself says.
        return Stages.handOff(nodes.getAsync(node), completions).exceptionally(x -> null).thenCompose(beat -> beat == null
                ? CompletableFuture.failedFuture(new NodeUnreachableException(node, "not a live gateway node"))
                : request(node, request));
    }

    private CompletableFuture<byte[]> request(String node, byte[] request) {
        if (pending.size() >= MAX_PENDING) {
            return CompletableFuture.failedFuture(new NodeUnreachableException(node,
                    MAX_PENDING + " requests wait for an answer already"));
        }
        long requestId = requestIds.incrementAndGet();
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        pending.put(requestId, answer);
        try {
            client.<byte[]>getTopic(TOPIC + node).publishAsync(encode(REQUEST, requestId, request))
                    .whenCompleteAsync((v, x) -> {
                        if (x != null) {
                            answer.completeExceptionally(new NodeUnreachableException(node, x.toString(), x));
                        }
                    }, completions);
        } catch (RuntimeException e) {
            answer.completeExceptionally(new NodeUnreachableException(node, e.toString(), e));
        }
        return answer.orTimeout(HazelcastNode.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((a, x) -> pending.remove(requestId))
                .exceptionallyCompose(x -> CompletableFuture.failedFuture(Stages.unwrap(x) instanceof TimeoutException
                        ? new NodeUnreachableException(node, "no answer within " + HazelcastNode.TIMEOUT.toSeconds()
                                + " s", Stages.unwrap(x))
                        : Stages.unwrap(x)))
                .thenCompose(a -> a.length == 0
                        ? CompletableFuture.failedFuture(new NodeUnreachableException(node, "its gateway failed the request"))
                        : CompletableFuture.completedFuture(a));
    }

    @Override
    public CompletionStage<List<byte[]>> broadcast(byte[] request) {
        List<CompletableFuture<byte[]>> each = new ArrayList<>();
        for (String node : List.copyOf(live)) {
            CompletableFuture<byte[]> answer = node.equals(id) ? handled(request) : request(node, request);
            each.add(answer.exceptionally(x -> {
                LOG.warn("Node {} did not run a broadcast: {}", node, x.toString());
                return null;
            }));
        }
        return CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            List<byte[]> out = new ArrayList<>(each.size());
            for (CompletableFuture<byte[]> a : each) {
                byte[] b = a.join();
                if (b != null && b.length > 0) {
                    out.add(b);
                }
            }
            return out;
        });
    }

    /** This node's handler's answer; a handler that throws fails it. */
    private CompletableFuture<byte[]> handled(byte[] request) {
        try {
            return handler.handle(request).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A message on this node's topic: a request to run, or an answer to one of ours. */
    private void received(Message<byte[]> message) {
        byte[] bytes = message.getMessageObject();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte kind = in.readByte();
            long requestId = in.readLong();
            String from = in.readUTF();
            byte[] payload = in.readAllBytes();
            if (kind == ANSWER) {
                CompletableFuture<byte[]> answer = pending.remove(requestId);
                if (answer != null) {
                    // Off the topic's event thread, which delivers this node's next answers too.
                    completions.execute(() -> answer.complete(payload));
                }
                return;
            }
            handled(payload).whenComplete((a, x) -> {
                if (x != null) {
                    LOG.warn("A request from node {} failed", from, x);
                }
                try {
                    client.<byte[]>getTopic(TOPIC + from).publishAsync(encode(ANSWER, requestId,
                            x == null ? a : new byte[0]));
                } catch (RuntimeException e) {
                    LOG.debug("An answer to node {} was lost", from, e);
                }
            });
        } catch (IOException e) {
            LOG.warn("A malformed message on topic {}{}: {} bytes", TOPIC, id, bytes.length);
        }
    }

    private byte[] encode(byte kind, long requestId, byte[] payload) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(payload.length + 64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(kind);
            out.writeLong(requestId);
            out.writeUTF(id);
            out.write(payload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Stops the heartbeat and removes this node's entry, so that the others forget it at once. */
    @Override
    public void close() {
        heartbeat.cancel(false);
        for (CompletableFuture<byte[]> p : pending.values()) {
            p.completeExceptionally(new NodeUnreachableException(id, "this node left the cluster"));
        }
        try {
            nodes.removeEntryListener(nodesListener);
            client.getTopic(TOPIC + id).removeMessageListener(topicListener);
            nodes.removeAsync(id).toCompletableFuture().get(HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | java.util.concurrent.ExecutionException | TimeoutException e) {
            LOG.debug("The client stopped meanwhile", e);
        }
    }

    @Override
    public String toString() {
        return "ClientTransport[" + id + "]";
    }

    /** Keeps {@link #live} and reports the nodes that left. */
    private final class NodesListener implements EntryAddedListener<String, Long>, EntryRemovedListener<String, Long>,
            EntryExpiredListener<String, Long>, EntryEvictedListener<String, Long>, MapClearedListener {
        private final Consumer<String> gone;
        private final Runnable lost;

        NodesListener(Consumer<String> gone, Runnable lost) {
            this.gone = gone;
            this.lost = lost;
        }

        @Override
        public void entryAdded(EntryEvent<String, Long> event) {
            live.add(event.getKey());
        }

        @Override
        public void entryRemoved(EntryEvent<String, Long> event) {
            left(event.getKey());
        }

        @Override
        public void entryExpired(EntryEvent<String, Long> event) {
            left(event.getKey());
        }

        @Override
        public void entryEvicted(EntryEvent<String, Long> event) {
            left(event.getKey());
        }

        @Override
        public void mapCleared(MapEvent event) {
            for (String node : List.copyOf(live)) {
                left(node);
            }
        }

        private void left(String node) {
            if (node.equals(id)) {
                LOG.warn("Node {} missed its heartbeats: the cluster forgot it, it joins again", id);
                lost.run();
                return;
            }
            live.remove(node);
            gone.accept(node);
        }
    }
}
