package dev.gatehouse.spi;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

import dev.gatehouse.Audience;
import dev.gatehouse.Gateway;
import dev.gatehouse.NodeUnreachableException;

/**
 * The seam to a cluster of gateway nodes, such as {@code HazelcastCluster} from {@code gateway-hazelcast}: a
 * directory of every node's connections, delivery of a request to one node, and a broadcast to every node.
 * With it, {@link Gateway#connections()} reaches a connection on any node; without one (the default) a gateway
 * is a single node whose registry is its own, in memory, and nothing goes through this seam.
 *
 * <pre>{@code
 * HazelcastCluster cluster = HazelcastCluster.embedded(hazelcastConfig);
 * Gateway gateway = Gateway.builder()
 *         .cluster(cluster)
 *         .route(Route.of("/chat", Backend.of("ws://chat.internal:9000/ws")))
 *         .build();
 * }</pre>
 *
 * <p>The gateway calls {@link #join} once, when it is built, and from then on tells the {@link Node} of its
 * connections as their relay starts and ends, and of the groups they join and leave. Requests travel as opaque
 * bytes that the gateway encodes and decodes; an implementation only carries them. A connection on this node is
 * always served locally, without a request.
 */
public interface Cluster {

    /**
     * Makes a gateway a node of this cluster. A later call (a gateway rebuilt with {@link Gateway#toBuilder()})
     * replaces the handler: one gateway answers for a node at a time.
     *
     * @param name    the gateway's node name ({@link Gateway.Builder#node}), for logs
     * @param handler runs the requests addressed to this node
     * @return this node, to keep the directory and to reach the other nodes
     */
    Node join(String name, Handler handler);

    /**
     * The gateway's side of its membership: runs the requests addressed to this node, and hears what the cluster
     * tells it. Only {@link #handle} must be implemented; the other methods do nothing by default.
     */
    @FunctionalInterface
    interface Handler {
        /**
         * Runs a request on this node's own connections. Never blocks: the gateway's registry answers at once.
         *
         * @param request the bytes another node's gateway gave to {@link Node#forward} or {@link Node#broadcast}
         * @return the answer's bytes, never empty
         */
        CompletionStage<byte[]> handle(byte[] request);

        /**
         * A revocation the cluster remembers: one made on any node, or, when this node joins, each one still in
         * force; it may come again. The gateway refuses the credential's handshakes from then on, until
         * {@link Revocation#until()}, and closes this node's connections of the credentials it covers (not those
         * of a later login). Called on the cluster's threads; never blocks.
         */
        default void revoked(Revocation revocation) {
        }

        /**
         * This node's open connections, as the directory should hold them: the cluster asks when it lost this
         * node's entries (its engine member restarted, or merged after a split) and registers them again.
         */
        default List<Entry> entries() {
            return List.of();
        }

        /**
         * The cluster could not be reached for a shared limit, and applied its fallback instead; for a warning
         * metric.
         *
         * @param limit    {@code rate}, {@code quota} or {@code connections}
         * @param fallback {@code local}, {@code open} or {@code closed}
         */
        default void fellBack(String limit, String fallback) {
        }
    }

    /**
     * A principal's credentials revoked: handshakes with a credential issued before {@code revokedAt}'s second (or
     * with no issue time) are refused until {@code until}, when the credential would have expired anyway.
     *
     * @param subject   the principal's subject
     * @param revokedAt when it was revoked
     * @param until     when the revocation may be forgotten; after {@code revokedAt}
     */
    record Revocation(String subject, Instant revokedAt, Instant until) {
        /** Checks the values are present and in order. */
        public Revocation {
            requireNonNull(subject, "subject");
            requireNonNull(revokedAt, "revokedAt");
            requireNonNull(until, "until");
            if (!until.isAfter(revokedAt)) {
                throw new IllegalArgumentException("until: " + until + " (expected: after revokedAt " + revokedAt + ")");
            }
        }
    }

    /**
     * One connection as the directory knows it: registered when its relay starts, unregistered when it ends.
     *
     * @param connectionId the connection's id
     * @param user         its user; empty when anonymous
     * @param groups       the groups it belongs to
     */
    record Entry(String connectionId, Optional<String> user, Set<String> groups) {
        /** Checks the values are present and copies the groups. */
        public Entry {
            requireNonNull(connectionId, "connectionId");
            requireNonNull(user, "user");
            groups = Set.copyOf(groups);
        }
    }

    /**
     * A gateway's membership of the cluster. The directory updates ({@link #register}, {@link #joined},
     * {@link #left}, {@link #unregister}) are called with the connection's lock held: they must not block, and
     * must take effect in the order they were called for one connection (later, not necessarily before they
     * return; until then a lookup may miss the change). The other methods may be called from any thread and
     * never block either.
     */
    interface Node {

        /** This node's id in the directory: unique in the cluster for as long as the node is a member. */
        String id();

        /** How many nodes the cluster has now, this one included; cheap enough for a metrics gauge. */
        int members();

        /** A connection's relay started on this node: the directory holds it from now on. */
        void register(Entry entry);

        /** A connection of this node joined a group. */
        void joined(String connectionId, String group);

        /** A connection of this node left a group. */
        void left(String connectionId, String group);

        /** A connection of this node ended: the directory forgets it. */
        void unregister(String connectionId);

        /**
         * Takes a slot of a concurrent-connection limit counted across the cluster (a principal's connections on
         * a route), if the nodes hold fewer than {@code max} together; atomic, so that nodes racing for the last
         * slot never both get it. A node's slots leave with it. Called during a handshake: it may wait for the
         * engine, for a bounded time; when the engine cannot be reached, the implementation's fallback decides.
         *
         * @param key the limit's key
         * @param max the most slots the cluster may hold under it, at least 1
         * @return whether a slot was taken; then {@link #release} gives it back, exactly once
         */
        boolean acquire(String key, int max);

        /** Gives back a slot this node took with {@link #acquire}. Never blocks. */
        void release(String key);

        /**
         * Remembers a revocation in the cluster until it expires: every node hears of it through
         * {@link Handler#revoked}, the nodes that join later included. Never blocks.
         */
        void remember(Revocation revocation);

        /**
         * The node that holds a connection.
         *
         * @return the node's {@link #id()}; empty when the directory holds no such connection (it closed, never
         *         existed, or its node died and the directory forgot it)
         */
        CompletionStage<Optional<String>> locate(String connectionId);

        /**
         * The ids of every connection in an audience, on every node, in no particular order; the audience's
         * exclusions are not applied.
         */
        CompletionStage<List<String>> ids(Audience audience);

        /**
         * Runs a request on one node through its {@link Handler}.
         *
         * @param node the node's {@link #id()}
         * @return the handler's answer; fails with {@link NodeUnreachableException} when the node is not a
         *         member, does not answer in time, or left while it ran
         */
        CompletionStage<byte[]> forward(String node, byte[] request);

        /**
         * Runs a request on every node, this one included, each exactly once, through its {@link Handler}.
         *
         * @return the answers of the nodes that answered; a node that left or failed while it ran is left out
         */
        CompletionStage<List<byte[]>> broadcast(byte[] request);
    }
}
