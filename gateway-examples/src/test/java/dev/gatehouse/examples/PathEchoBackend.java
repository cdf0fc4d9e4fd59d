package dev.gatehouse.examples;

import java.net.URI;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A test backend on 127.0.0.1, port 0, at every path: it first sends one text message describing the
 * upgrade it received ({@code /path?query consumer=<X-Gatehouse-Consumer>}), then echoes text messages.
 */
final class PathEchoBackend implements AutoCloseable {

    private final Server server;
    private final ServerConnector connector;

    PathEchoBackend() throws Exception {
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(WebSocketUpgradeHandler.from(server, container -> container.addMapping("/*", (rq, rs, cb) -> {
            String consumer = rq.getHeaders().get("X-Gatehouse-Consumer");
            return new Greeter(rq.getHttpURI().getPathQuery() + " consumer=" + (consumer == null ? "-" : consumer));
        })));
        server.start();
    }

    /** A URL of this backend, e.g. {@code url("/rooms/{room}")}. */
    String url(String path) {
        return "ws://127.0.0.1:" + connector.getLocalPort() + path;
    }

    URI uri(String path) {
        return URI.create(url(path));
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** Greets with a description of the upgrade, then echoes. */
    public static final class Greeter extends Session.Listener.AbstractAutoDemanding {
        private final String greeting;

        Greeter(String greeting) {
            this.greeting = greeting;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            super.onWebSocketOpen(session);
            session.sendText(greeting, Callback.NOOP);
        }

        @Override
        public void onWebSocketText(String message) {
            getSession().sendText(message, Callback.NOOP);
        }
    }
}
