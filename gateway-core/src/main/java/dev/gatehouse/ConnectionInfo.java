package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A snapshot of one bridged connection. Byte counts are payload bytes (UTF-8 for text); "in" is what the
 * client sent towards the backend, "out" what the backend sent towards the client.
 *
 * @param id              the connection's URL-safe id
 * @param route           the path template of the route it was accepted on
 * @param remoteAddress   the client's address
 * @param userAgent       the client's {@code User-Agent} header; empty when it sent none
 * @param principal       who the client is; empty when anonymous
 * @param user            the connection's user, whom the management API addresses: its principal's subject
 *                        unless a WebSocket API route's {@code $connect} named another; empty when anonymous
 * @param groups          the groups the connection belongs to
 * @param subprotocol     the negotiated subprotocol; empty when none
 * @param connectedAt     when both legs were connected
 * @param lastActiveAt    when the last activity (data, ping, unsolicited pong) was seen
 * @param messagesIn      messages from the client
 * @param bytesIn         payload bytes from the client
 * @param messagesOut     messages to the client
 * @param bytesOut        payload bytes to the client
 * @param pendingBytes    payload bytes (text or binary) the gateway holds right now, received on one leg
 *                        and not yet accepted by the other
 * @param peakPendingBytes the largest {@code pendingBytes} seen during the connection's life
 * @param target          the backend target it relays to, as configured (a {@link dev.gatehouse.balance.BackendGroup}'s
 *                        target URL, or the route's backend URL template); empty on a WebSocket API route
 */
public record ConnectionInfo(
        String id,
        String route,
        InetSocketAddress remoteAddress,
        Optional<String> userAgent,
        Optional<Principal> principal,
        Optional<String> user,
        List<String> groups,
        Optional<String> subprotocol,
        Instant connectedAt,
        Instant lastActiveAt,
        long messagesIn,
        long bytesIn,
        long messagesOut,
        long bytesOut,
        long pendingBytes,
        long peakPendingBytes,
        Optional<String> target) {

    /** Checks that every reference is present: nothing here is {@code null}. */
    public ConnectionInfo {
        requireNonNull(id, "id");
        requireNonNull(route, "route");
        requireNonNull(remoteAddress, "remoteAddress");
        requireNonNull(userAgent, "userAgent");
        requireNonNull(principal, "principal");
        requireNonNull(user, "user");
        groups = List.copyOf(groups);
        requireNonNull(subprotocol, "subprotocol");
        requireNonNull(connectedAt, "connectedAt");
        requireNonNull(lastActiveAt, "lastActiveAt");
        requireNonNull(target, "target");
    }
}
