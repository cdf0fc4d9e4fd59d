package dev.gatehouse.examples;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.eclipse.jetty.websocket.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The demo's backends: a plain Jetty WebSocket server on 127.0.0.1, on a free port, that knows nothing
 * about the gateway in front of it.
 * <ul>
 * <li>{@code /echo} sends every text and binary message back to its sender;</li>
 * <li>{@code /chat/{room}} sends every text message to every member of the room, the sender included.</li>
 * </ul>
 */
final class DemoBackend implements AutoCloseable {

    /** The outgoing frames a slow chat member may have queued before messages to it are dropped. */
    private static final int MAX_QUEUED_FRAMES = 1024;
    private static final String CHAT_PREFIX = "/chat/";

    private final Server server;
    private final ServerConnector connector;
    private final Map<String, Set<Session>> rooms = new ConcurrentHashMap<>(); // room -> open sessions; no empty sets

    private DemoBackend(long maxMessageSize) {
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(maxMessageSize);
            container.setMaxBinaryMessageSize(maxMessageSize);
            container.setMaxOutgoingFrames(MAX_QUEUED_FRAMES);
            // The gateway owns idle timeouts and keepalive; the backend never gives up on its own.
            container.setIdleTimeout(Duration.ZERO);
            container.addMapping("/echo", (request, response, callback) -> new Echo());
            container.addMapping(CHAT_PREFIX + "*", this::joinChat);
        }));
    }

    /**
     * Starts the backends.
     *
     * @param maxMessageSize the largest message they accept, in bytes
     * @throws Exception if Jetty cannot start
     */
    static DemoBackend start(long maxMessageSize) throws Exception {
        DemoBackend backend = new DemoBackend(maxMessageSize);
        backend.server.start();
        return backend;
    }

    /** The backends' base URL, e.g. {@code ws://127.0.0.1:40123}, to which a path is appended. */
    String url() {
        return "ws://127.0.0.1:" + connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    private Object joinChat(ServerUpgradeRequest request, Response response, org.eclipse.jetty.util.Callback callback) {
        String path = request.getHttpURI().getDecodedPath();
        String room = path.length() > CHAT_PREFIX.length() ? path.substring(CHAT_PREFIX.length()) : "";
        if (room.isEmpty() || room.contains("/")) {
            Response.writeError(request, response, callback, 404, "expected /chat/{room}");
            return null;
        }
        return new ChatMember(room);
    }

    private void broadcast(String room, String message) {
        for (Session member : rooms.getOrDefault(room, Set.of())) {
            // A member whose queue is full misses the message; the others do not wait for it.
            member.sendText(message, Callback.NOOP);
        }
    }

    /** Echoes each message once the previous echo was sent: a client that does not read is not buffered for. */
    public static final class Echo extends Session.Listener.Abstract {
        @Override
        public void onWebSocketOpen(Session session) {
            super.onWebSocketOpen(session);
            session.demand();
        }

        @Override
        public void onWebSocketText(String message) {
            Session session = getSession();
            session.sendText(message, Callback.from(session::demand, x -> session.close()));
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            // The payload is Jetty's buffer until the callback completes: send it, then release it.
            Session session = getSession();
            session.sendBinary(payload, Callback.from(() -> {
                callback.succeed();
                session.demand();
            }, x -> {
                callback.fail(x);
                session.close();
            }));
        }
    }

    /** One session in a chat room. */
    public final class ChatMember extends Session.Listener.AbstractAutoDemanding {
        private final String room;

        ChatMember(String room) {
            this.room = room;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            super.onWebSocketOpen(session);
            rooms.compute(room, (name, members) -> {
                Set<Session> set = members == null ? ConcurrentHashMap.newKeySet() : members;
                set.add(session);
                return set;
            });
        }

        @Override
        public void onWebSocketText(String message) {
            broadcast(room, message);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            callback.succeed();
            getSession().close(StatusCode.BAD_DATA, "the chat takes text messages only", Callback.NOOP);
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            leave();
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason, Callback callback) {
            leave();
            callback.succeed();
        }

        private void leave() {
            Session session = getSession();
            rooms.computeIfPresent(room, (name, members) -> {
                members.remove(session);
                return members.isEmpty() ? null : members;
            });
        }
    }
}
