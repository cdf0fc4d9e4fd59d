package dev.gatehouse.routing;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;

/**
 * One event of a WebSocket API connection, as an integration receives it: the same facts as AWS's
 * proxy-integration event, typed.
 *
 * @param type             what happened
 * @param routeKey         the route key that selected the integration ({@code $connect}, {@code sendmessage},
 *                         {@code $default}...)
 * @param connectionId     the connection's id, as the registry and the management API know it
 * @param requestId        the id of the client's upgrade request
 * @param messageId        the message's id; only for {@link Type#MESSAGE}
 * @param connectedAt      when the connection's upgrade was admitted
 * @param requestTime      when this event happened
 * @param handshake        the admitted handshake: principal, headers, query and path parameters (credentials
 *                         removed), client address
 * @param body             the message; only for {@link Type#MESSAGE}
 * @param disconnectStatus the close status of the connection; only for {@link Type#DISCONNECT}
 */
public record RouteEvent(Type type, String routeKey, String connectionId, String requestId, Optional<String> messageId,
        Instant connectedAt, Instant requestTime, Handshake handshake, Optional<Message> body,
        Optional<CloseStatus> disconnectStatus) {

    /** Checks that every part is present: nothing here is {@code null}. */
    public RouteEvent {
        requireNonNull(type, "type");
        requireNonNull(routeKey, "routeKey");
        requireNonNull(connectionId, "connectionId");
        requireNonNull(requestId, "requestId");
        requireNonNull(messageId, "messageId");
        requireNonNull(connectedAt, "connectedAt");
        requireNonNull(requestTime, "requestTime");
        requireNonNull(handshake, "handshake");
        requireNonNull(body, "body");
        requireNonNull(disconnectStatus, "disconnectStatus");
    }

    /** The kinds of events, named as AWS's {@code eventType}. */
    public enum Type {
        /** The client's upgrade, after authentication and policies, before its 101. */
        CONNECT,
        /** A message from the client. */
        MESSAGE,
        /** The connection ended, whatever ended it; sent once per admitted connection. */
        DISCONNECT
    }

    @Override
    public String toString() {
        return "RouteEvent[" + type + " " + routeKey + " on " + connectionId + body.map(b -> ", " + b).orElse("") + "]";
    }
}
