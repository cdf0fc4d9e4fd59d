package dev.gatehouse.bench;

import java.nio.ByteBuffer;
import java.time.Duration;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The backend role: a Jetty 12 core WebSocket server on 127.0.0.1 whose {@code /echo} endpoint sends every
 * text and binary message back. It auto-demands, and reads a binary message's successor only once the
 * echo was written (the inbound buffer is released by the send's callback). The same server answers
 * {@code POST /integration}, the HTTP integration of the WebSocket API scenarios, with the event's message
 * ({@link HttpEcho}). Usage: {@code backend [--port 0] [--max-lifetime 60m]}.
 */
final class EchoBackend {

    /** The largest message the backend accepts: room for the 1 MiB scenario. */
    static final long MAX_MESSAGE = 64L << 20;

    private EchoBackend() {
    }

    static void main(String[] args) throws Exception {
        int port = 0;
        Duration maxLifetime = Duration.ofMinutes(60);
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--port":
                    port = Args.integer("--port", Args.value(args, i), 0);
                    break;
                case "--max-lifetime":
                    maxLifetime = Args.duration("--max-lifetime", Args.value(args, i));
                    break;
                default:
                    throw new UsageException("backend: unknown option " + args[i]);
            }
        }
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("backend");
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setAcceptQueueSize(1024);
        server.addConnector(connector);
        WebSocketUpgradeHandler upgrades = WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(MAX_MESSAGE);
            container.setMaxBinaryMessageSize(MAX_MESSAGE);
            container.setIdleTimeout(Duration.ofMinutes(30));
            container.addMapping("/echo", (request, response, callback) -> new Echo());
        });
        upgrades.setHandler(new HttpEcho()); // what is not a WebSocket upgrade
        server.setHandler(upgrades);
        server.start();
        RoleControl.serve(server, connector.getLocalPort(), maxLifetime);
    }

    /** Echoes whole messages; public because Jetty requires public endpoint classes. */
    public static final class Echo extends Session.Listener.AbstractAutoDemanding {

        @Override
        public void onWebSocketText(String message) {
            getSession().sendText(message, Callback.NOOP);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            getSession().sendBinary(payload, callback);
        }
    }
}
