package dev.gatehouse;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import dev.gatehouse.policy.RevocationPolicy;

/**
 * The registry of a gateway's open connections, and the management operations on them: send to a connection,
 * a user, a group or everyone; look connections up; close them; put them in groups. The HTTP management API
 * is these operations over HTTP.
 *
 * <p>The operations return {@link CompletionStage}s so that they work unchanged when a connection lives on
 * another gateway node; on one node they complete before they return. Every method is thread-safe, and none
 * blocks. In a cluster ({@link Gateway.Builder#cluster}) an operation on a connection whose node cannot be
 * reached fails with {@link NodeUnreachableException}; sends and closes to an audience, and revocations, reach
 * every node once and sum their counts; {@link #list()} and {@link #count()} stay this node's.
 *
 * <p>A message sent to a connection goes through its outbound queue, bounded by
 * {@link Settings#maxOutboundQueue()} bytes, and reaches the client between two relayed messages, never inside
 * a fragmented one. On a proxy route it goes to the client only, never to the backend.
 *
 * <pre>{@code
 * Connections connections = gateway.connections();
 * connections.join(id, "room-42");
 * connections.send(Audience.group("room-42"), Message.text("{\"joined\":\"alice\"}"))
 *         .thenAccept(d -> log.info("sent to {} connections", d.recipients()));
 * connections.close(id, CloseStatus.of(4000, "kicked"));
 * }</pre>
 */
public interface Connections {

    /** The open connections of this node (both legs connected), in no particular order. */
    List<ConnectionInfo> list();

    /** How many connections are open on this node. */
    int count();

    /** One open connection by id: empty when no open connection has that id. */
    CompletionStage<Optional<ConnectionInfo>> info(String id);

    /**
     * The ids of the open connections in an audience, in no particular order; its exclusions are left out.
     * Costs the size of the user's or group's membership; {@link Audience#all()} lists every connection.
     */
    CompletionStage<List<String>> ids(Audience audience);

    /**
     * Sends a message to one connection's client.
     *
     * @return {@link SendResult#QUEUED} once the connection holds it, {@link SendResult#GONE} when no open
     *         connection has that id, {@link SendResult#QUEUE_FULL} when its outbound queue has no room,
     *         {@link SendResult#TOO_LARGE} when the queue could never hold it
     */
    CompletionStage<SendResult> send(String id, Message message);

    /**
     * Sends a message to the client of every open connection in an audience. Costs the size of the user's or
     * group's membership, not the number of connections. A connection whose outbound queue is full is
     * skipped and counted in {@link Delivery#refused()} (and closed, if {@link Settings#outboundOverflow()} says
     * so); the others still get the message.
     */
    CompletionStage<Delivery> send(Audience audience, Message message);

    /**
     * Closes a connection: the client receives {@code status}, a proxy route's backend 1001, and a WebSocket
     * API route runs {@code $disconnect} with {@code status}.
     *
     * @return whether an open connection had that id
     * @throws IllegalArgumentException if the status may not be sent (1005, 1006, 1015)
     */
    CompletionStage<Boolean> close(String id, CloseStatus status);

    /**
     * Closes every open connection in an audience, as {@link #close(String, CloseStatus)} does.
     *
     * @return how many connections were closed
     * @throws IllegalArgumentException if the status may not be sent
     */
    CompletionStage<Integer> close(Audience audience, CloseStatus status);

    /**
     * Adds an open connection to a group (nothing changes if it is a member already). Membership ends when
     * the connection closes.
     *
     * @return whether an open connection had that id
     * @throws IllegalArgumentException if the group name is not valid (see {@link Audience#checkName})
     */
    CompletionStage<Boolean> join(String id, String group);

    /**
     * Removes a connection from a group (nothing changes if it was not a member).
     *
     * @return whether an open connection had that id
     * @throws IllegalArgumentException if the group name is not valid
     */
    CompletionStage<Boolean> leave(String id, String group);

    /**
     * Revokes a principal's credentials for {@linkplain #REMEMBER_REVOCATION 24 hours}; see
     * {@link #revoke(String, Instant)}. Prefer that form when you know when the revoked credential expires.
     *
     * @param subject the principal's {@link Principal#subject()}, whatever user the connections have
     * @return how many connections were closed
     */
    CompletionStage<Integer> revoke(String subject);

    /**
     * Revokes a principal's credentials: its connections, open or still opening, are closed with 1008 "revoked"
     * (the backend gets 1001), and until {@code until} its handshakes are refused with 401 and
     * {@code WWW-Authenticate: Bearer error="invalid_token"} when the credential was issued before now (a JWT's
     * {@code iat}) or carries no issue time (an API key). A credential issued later, a new login, passes. Give
     * the revoked credential's expiry as {@code until}: after it, the credential is refused anyway. With a
     * cluster, every node closes the principal's connections and remembers the revocation, nodes that join
     * later included; a node that hears of it late closes then the connections whose credential it covers.
     * For your own revocation list, see {@link RevocationPolicy}.
     *
     * <p>Issue times have whole seconds ({@code iat}), so "before now" is before the current second: a credential
     * issued in the second of the revocation passes, so that a login right after it is not locked out, even one
     * issued a moment before the revocation in that same second. Its connections open now are closed all the
     * same; it may connect again. Reissue credentials after the revocation, not before it in the same second.
     *
     * @param subject the principal's {@link Principal#subject()}, whatever user the connections have
     * @param until   when the gateway may forget the revocation; in the past, connections are closed and
     *                nothing is remembered
     * @return how many connections were closed, on every node
     */
    CompletionStage<Integer> revoke(String subject, Instant until);

    /** How long {@link #revoke(String)} remembers a revocation. */
    Duration REMEMBER_REVOCATION = Duration.ofHours(24);
}
