package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Audience;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Connections;
import dev.gatehouse.Delivery;
import dev.gatehouse.Message;
import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.SendResult;
import dev.gatehouse.spi.Cluster;
import dev.gatehouse.spi.GatewayListener;

/**
 * {@link Connections} over a cluster: an operation on a connection of this node runs on the local
 * {@link Registry} at once; one on another node's connection finds its node in the directory and is forwarded
 * there; an operation on an audience (and a revocation) is broadcast, every node running it on its own
 * connections, and the counts are summed. An id the directory does not hold is gone; a forward to a node that
 * cannot be reached fails with {@link dev.gatehouse.NodeUnreachableException}.
 *
 * <p>{@link Requests} runs the other nodes' requests on the local registry.
 */
final class ClusterConnections implements Connections {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterConnections.class);

    private final Registry local;
    private final Cluster.Node node;
    private final Listeners listeners; // null when no listener is registered

    ClusterConnections(Registry local, Cluster.Node node, Listeners listeners) {
        this.local = requireNonNull(local, "local");
        this.node = requireNonNull(node, "node");
        this.listeners = listeners;
    }

    /** Reports an operation that went through the cluster, once it ended. */
    private <T> CompletionStage<T> reported(ClusterCodec.Op op, CompletionStage<T> stage) {
        if (listeners == null) {
            return stage;
        }
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        return stage.whenComplete((v, x) -> {
            Throwable cause = x instanceof java.util.concurrent.CompletionException && x.getCause() != null ? x.getCause() : x;
            String result = cause == null ? "ok" : cause instanceof NodeUnreachableException ? "unreachable" : "error";
            listeners.clusterForwarded(new GatewayListener.ForwardEvent(name, result));
        });
    }

    @Override
    public List<ConnectionInfo> list() {
        return local.list();
    }

    @Override
    public int count() {
        return local.count();
    }

    @Override
    public CompletionStage<Optional<ConnectionInfo>> info(String id) {
        requireNonNull(id, "id");
        if (local.find(id) != null) {
            return local.info(id);
        }
        return remote(ClusterCodec.Op.INFO, id, ClusterCodec.request(ClusterCodec.Op.INFO).string(id), Optional.empty(),
                in -> ClusterCodec.bool(in) ? Optional.of(ClusterCodec.info(in)) : Optional.empty());
    }

    @Override
    public CompletionStage<List<String>> ids(Audience audience) {
        requireNonNull(audience, "audience");
        return node.ids(audience).thenApply(all -> {
            List<String> ids = new ArrayList<>(all.size());
            for (String id : all) {
                if (!audience.excluded().contains(id)) {
                    ids.add(id);
                }
            }
            return ids;
        });
    }

    @Override
    public CompletionStage<SendResult> send(String id, Message message) {
        requireNonNull(id, "id");
        requireNonNull(message, "message");
        if (local.find(id) != null) {
            return local.send(id, message);
        }
        ClusterCodec.Writer request = ClusterCodec.message(ClusterCodec.request(ClusterCodec.Op.SEND).string(id), message);
        return remote(ClusterCodec.Op.SEND, id, request, SendResult.GONE, in -> SendResult.values()[(int) in.readLong()]);
    }

    @Override
    public CompletionStage<Delivery> send(Audience audience, Message message) {
        requireNonNull(audience, "audience");
        requireNonNull(message, "message");
        byte[] request = ClusterCodec.message(ClusterCodec.audience(ClusterCodec.request(ClusterCodec.Op.SEND_AUDIENCE),
                audience), message).bytes();
        return reported(ClusterCodec.Op.SEND_AUDIENCE, node.broadcast(request)).thenApply(answers -> {
            int recipients = 0;
            int refused = 0;
            for (byte[] a : answers) {
                DataInputStream in = ClusterCodec.readAnswer(a);
                try {
                    recipients += (int) in.readLong();
                    refused += (int) in.readLong();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return new Delivery(recipients, refused);
        });
    }

    @Override
    public CompletionStage<Boolean> close(String id, CloseStatus status) {
        requireNonNull(id, "id");
        checkSendable(status);
        if (local.find(id) != null) {
            return local.close(id, status);
        }
        return remote(ClusterCodec.Op.CLOSE, id, ClusterCodec.status(ClusterCodec.request(ClusterCodec.Op.CLOSE).string(id), status), false,
                ClusterCodec::bool);
    }

    @Override
    public CompletionStage<Integer> close(Audience audience, CloseStatus status) {
        requireNonNull(audience, "audience");
        checkSendable(status);
        return sum(ClusterCodec.Op.CLOSE_AUDIENCE, ClusterCodec.status(ClusterCodec.audience(
                ClusterCodec.request(ClusterCodec.Op.CLOSE_AUDIENCE), audience), status).bytes());
    }

    @Override
    public CompletionStage<Boolean> join(String id, String group) {
        return membership(ClusterCodec.Op.JOIN, id, group);
    }

    @Override
    public CompletionStage<Boolean> leave(String id, String group) {
        return membership(ClusterCodec.Op.LEAVE, id, group);
    }

    @Override
    public CompletionStage<Integer> revoke(String subject) {
        return revoke(subject, local.now().plus(REMEMBER_REVOCATION));
    }

    /**
     * Revokes on this node first (so that it holds even when the cluster cannot be reached), remembers the
     * revocation in the cluster (for the nodes that join later, and those that miss the broadcast), then broadcasts
     * it: every node remembers it and closes the principal's connections before it answers.
     */
    @Override
    public CompletionStage<Integer> revoke(String subject, Instant until) {
        requireNonNull(subject, "subject");
        requireNonNull(until, "until");
        Instant now = local.now();
        return local.revoke(subject, until).thenCompose(here -> {
            if (until.isAfter(now)) {
                node.remember(new Cluster.Revocation(subject, now, until));
            }
            return sum(ClusterCodec.Op.REVOKE, ClusterCodec.request(ClusterCodec.Op.REVOKE).string(subject)
                    .number(now.toEpochMilli()).number(until.toEpochMilli()).bytes()).thenApply(there -> here + there);
        });
    }

    private CompletionStage<Boolean> membership(ClusterCodec.Op op, String id, String group) {
        requireNonNull(id, "id");
        Audience.checkName(group, "group");
        if (local.find(id) != null) {
            return op == ClusterCodec.Op.JOIN ? local.join(id, group) : local.leave(id, group);
        }
        return remote(op, id, ClusterCodec.request(op).string(id).string(group), false, ClusterCodec::bool);
    }

    /** A broadcast whose answers are counts, summed. */
    private CompletionStage<Integer> sum(ClusterCodec.Op op, byte[] request) {
        return reported(op, node.broadcast(request)).thenApply(answers -> {
            int n = 0;
            for (byte[] a : answers) {
                try {
                    n += (int) ClusterCodec.readAnswer(a).readLong();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return n;
        });
    }

    /** A field reader that may fail on truncated input. */
    @FunctionalInterface
    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    /**
     * Runs a request on the node the directory says holds the connection: {@code gone} when it holds none,
     * or when it says this node (whose registry just answered that it has no such connection).
     */
    private <T> CompletionStage<T> remote(ClusterCodec.Op op, String id, ClusterCodec.Writer request, T gone,
            Reader<T> answer) {
        byte[] bytes = request.bytes();
        return node.locate(id).thenCompose(owner -> {
            if (owner.isEmpty() || owner.get().equals(node.id())) {
                return CompletableFuture.completedFuture(gone);
            }
            return reported(op, node.forward(owner.get(), bytes)).thenApply(a -> {
                try {
                    return answer.read(ClusterCodec.readAnswer(a));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        });
    }

    private static void checkSendable(CloseStatus status) {
        requireNonNull(status, "status");
        if (!status.isTransmittable()) {
            throw new IllegalArgumentException("status: " + status.code() + " (expected: a code that may be sent)");
        }
    }

    /** Runs the requests other nodes address to this one on its registry: this node's {@link Cluster.Handler}. */
    static final class Requests implements Cluster.Handler {

        private final Registry local;
        private final Listeners listeners; // null when none is registered

        Requests(Registry local, Listeners listeners) {
            this.local = requireNonNull(local, "local");
            this.listeners = listeners;
        }

        /**
         * Remembers the revocation, and closes this node's connections whose credential it covers: this node may
         * have missed its broadcast. A connection of a credential issued later stays open, so that hearing of an
         * old revocation again closes no new login.
         */
        @Override
        public void revoked(Cluster.Revocation revocation) {
            local.revocations().add(revocation, local.now());
            local.closeRevoked(revocation);
        }

        @Override
        public List<Cluster.Entry> entries() {
            return local.entries();
        }

        @Override
        public void fellBack(String limit, String fallback) {
            if (listeners != null) {
                listeners.clusterFellBack(new GatewayListener.FallbackEvent(limit, fallback));
            }
        }

        @Override
        public CompletionStage<byte[]> handle(byte[] request) {
            ClusterCodec.Request r = ClusterCodec.readRequest(request);
            try {
                return run(r.op(), r.in());
            } catch (IOException e) {
                LOG.warn("A cluster request for {} was truncated; refused", r.op(), e);
                return CompletableFuture.failedFuture(new IllegalArgumentException("cluster request " + r.op()
                        + ": truncated", e));
            }
        }

        private CompletionStage<byte[]> run(ClusterCodec.Op op, DataInputStream in) throws IOException {
            switch (op) {
                case INFO:
                    return local.info(ClusterCodec.string(in)).thenApply(info -> {
                        ClusterCodec.Writer w = ClusterCodec.answer().bool(info.isPresent());
                        info.ifPresent(i -> ClusterCodec.info(w, i));
                        return w.bytes();
                    });
                case SEND: {
                    String id = ClusterCodec.string(in);
                    return local.send(id, ClusterCodec.message(in)).thenApply(r -> ClusterCodec.answer().number(r.ordinal()).bytes());
                }
                case CLOSE: {
                    String id = ClusterCodec.string(in);
                    return local.close(id, ClusterCodec.status(in)).thenApply(answer(b -> ClusterCodec.answer().bool(b)));
                }
                case JOIN:
                    return local.join(ClusterCodec.string(in), ClusterCodec.string(in)).thenApply(answer(b -> ClusterCodec.answer().bool(b)));
                case LEAVE:
                    return local.leave(ClusterCodec.string(in), ClusterCodec.string(in)).thenApply(answer(b -> ClusterCodec.answer().bool(b)));
                case SEND_AUDIENCE: {
                    Audience audience = ClusterCodec.audience(in);
                    return local.send(audience, ClusterCodec.message(in))
                            .thenApply(d -> ClusterCodec.answer().number(d.recipients()).number(d.refused()).bytes());
                }
                case CLOSE_AUDIENCE: {
                    Audience audience = ClusterCodec.audience(in);
                    return local.close(audience, ClusterCodec.status(in)).thenApply(n -> ClusterCodec.answer().number(n).bytes());
                }
                default: {
                    String subject = ClusterCodec.string(in);
                    Instant revokedAt = Instant.ofEpochMilli(in.readLong());
                    Instant until = Instant.ofEpochMilli(in.readLong());
                    if (!until.isAfter(revokedAt)) {
                        return local.close(subject).thenApply(n -> ClusterCodec.answer().number(n).bytes());
                    }
                    // Remembered, then every connection of the principal closed, counting those its map event closed.
                    Cluster.Revocation revocation = new Cluster.Revocation(subject, revokedAt, until);
                    local.revocations().add(revocation, local.now());
                    int closed = local.closeBroadcast(revocation);
                    return CompletableFuture.completedFuture(ClusterCodec.answer().number(closed).bytes());
                }
            }
        }

        private static <T> Function<T, byte[]> answer(Function<T, ClusterCodec.Writer> writer) {
            return t -> writer.apply(t).bytes();
        }
    }
}
