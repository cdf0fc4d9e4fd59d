package dev.gatehouse.examples;

import static java.util.Objects.requireNonNull;
import static java.util.concurrent.CompletableFuture.completedFuture;

import java.util.List;
import java.util.concurrent.CompletionStage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.gatehouse.Audience;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Connections;
import dev.gatehouse.Message;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;

/**
 * The demo's chat rooms: a WebSocket API route with no backend, whose in-process integrations keep the rooms
 * in the gateway's connection registry, a room being a group. Each message is a JSON object routed by its
 * {@code action}:
 * <ul>
 * <li>{@code {"action":"join","room":"blue"}} leaves the connection's previous room and joins {@code blue};
 * the reply is {@code {"type":"joined","room":"blue"}}, with {@code "left":"red"} when it left a room;</li>
 * <li>{@code {"action":"send","room":"blue","text":"hi","name":"alice"}} sends
 * {@code {"type":"message","room":"blue","from":"alice","text":"hi"}} to every member of {@code blue}, the
 * sender included, and replies nothing; {@code name} is optional, and only a member may send;</li>
 * <li>anything else ({@code $default}), and any bad input, gets {@code {"type":"error","message":"..."}} and
 * the connection stays open.</li>
 * </ul>
 * Group membership ends with the connection, so there is no {@code $disconnect} to clean up after.
 *
 * <p>The integrations need the gateway's {@link Connections}, which exist only once the gateway that holds
 * this route is built: {@link #attach} them then, before the server starts. Thread-safe.
 */
final class DemoRooms {

    /** The route's path. */
    static final String PATH = "/rooms";
    /** The longest message text, in characters. */
    static final int MAX_TEXT_LENGTH = 2000;
    /** The longest sender name, in characters. */
    static final int MAX_NAME_LENGTH = 64;
    private static final String USAGE = "send {\"action\":\"join\",\"room\":\"lobby\"}, then "
            + "{\"action\":\"send\",\"room\":\"lobby\",\"text\":\"hi\"}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private volatile Connections connections; // null until attach(), then never changes

    /** The route's API: {@code join}, {@code send} and {@code $default}. */
    WebSocketApi api() {
        return WebSocketApi.builder()
                .integration("join", Integration.of(this::join))
                .integration("send", Integration.of(this::send))
                .integration("$default", Integration.of(DemoRooms::unknown))
                .build();
    }

    /**
     * Gives the integrations the registry of the gateway that holds the route; call it once.
     *
     * @throws IllegalStateException if called twice
     */
    void attach(Connections connections) {
        synchronized (this) {
            if (this.connections != null) {
                throw new IllegalStateException("connections: attached already (expected: once)");
            }
            this.connections = requireNonNull(connections, "connections");
        }
    }

    private CompletionStage<Reply> join(RouteEvent event) {
        JsonNode request = object(event);
        String room;
        try {
            room = room(request);
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        }
        Connections registry = registry();
        String id = event.connectionId();
        // One message of a connection is with its integration at a time, so nothing else changes its rooms now.
        return registry.info(id).thenCompose(info -> {
            List<String> previous = info.map(ConnectionInfo::groups).orElse(List.of()).stream()
                    .filter(group -> !group.equals(room)).toList();
            CompletionStage<Boolean> left = completedFuture(true);
            for (String group : previous) {
                left = left.thenCompose(ignored -> registry.leave(id, group));
            }
            return left.thenCompose(ignored -> registry.join(id, room)).thenApply(joined -> {
                if (!joined) {
                    return Reply.none(); // the connection closed meanwhile
                }
                ObjectNode reply = JSON.createObjectNode().put("type", "joined").put("room", room);
                if (!previous.isEmpty()) {
                    reply.put("left", previous.get(0));
                }
                return Reply.text(reply.toString());
            });
        });
    }

    private CompletionStage<Reply> send(RouteEvent event) {
        JsonNode request = object(event);
        String room;
        String text;
        String name;
        try {
            room = room(request);
            text = string(request, "text", MAX_TEXT_LENGTH);
            name = request.has("name") ? string(request, "name", MAX_NAME_LENGTH) : "anonymous";
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        }
        Connections registry = registry();
        return registry.info(event.connectionId()).thenCompose(info -> {
            if (info.isEmpty() || !info.get().groups().contains(room)) {
                return error("room: not joined \"" + room + "\" (expected: join it first)");
            }
            String message = JSON.createObjectNode().put("type", "message").put("room", room).put("from", name)
                    .put("text", text).toString();
            // The Java form of the management API's POST /groups/{room}/:send: to every member, the sender too.
            return registry.send(Audience.group(room), Message.text(message)).thenApply(delivery -> Reply.none());
        });
    }

    private static CompletionStage<Reply> unknown(RouteEvent event) {
        if (event.body().isPresent() && event.body().get() instanceof Message.Binary) {
            return error("a binary message (expected: JSON text; " + USAGE + ")");
        }
        JsonNode request = object(event);
        if (request.isMissingNode()) {
            return error("not a JSON object (expected: " + USAGE + ")");
        }
        JsonNode action = request.path("action");
        if (action.isMissingNode() || action.isNull()) {
            return error("action: missing (expected: join or send)");
        }
        return error("action: " + action + " (expected: join or send)");
    }

    private Connections registry() {
        Connections c = connections;
        if (c == null) {
            // Answered like a failed integration; the runner attaches before it starts, so no client sees it.
            throw new IllegalStateException("connections: not attached (expected: attach() before the server starts)");
        }
        return c;
    }

    /** The message as a JSON object, or a missing node when it is not one. */
    private static JsonNode object(RouteEvent event) {
        if (event.body().isEmpty() || !(event.body().get() instanceof Message.Text text)) {
            return JSON.missingNode();
        }
        try {
            JsonNode node = JSON.readTree(text.text());
            return node != null && node.isObject() ? node : JSON.missingNode();
        } catch (JsonProcessingException e) {
            return JSON.missingNode();
        }
    }

    /**
     * The request's room: a valid group name.
     *
     * @throws IllegalArgumentException naming the problem
     */
    private static String room(JsonNode request) {
        JsonNode room = request.path("room");
        if (!room.isTextual()) {
            throw new IllegalArgumentException("room: " + (room.isMissingNode() ? "missing" : room.toString())
                    + " (expected: a string, e.g. \"lobby\")");
        }
        return Audience.checkName(room.textValue(), "room");
    }

    /**
     * A string member that is not blank and at most {@code max} characters long.
     *
     * @throws IllegalArgumentException naming the problem
     */
    private static String string(JsonNode request, String member, int max) {
        JsonNode value = request.path(member);
        if (!value.isTextual()) {
            throw new IllegalArgumentException(member + ": " + (value.isMissingNode() ? "missing" : value.toString())
                    + " (expected: a string)");
        }
        String s = value.textValue();
        if (s.isBlank() || s.length() > max) {
            throw new IllegalArgumentException(member + ": " + s.length() + " characters (expected: 1 to " + max
                    + ", not blank)");
        }
        return s;
    }

    private static CompletionStage<Reply> error(String message) {
        return completedFuture(Reply.text(JSON.createObjectNode().put("type", "error").put("message", message).toString()));
    }
}
