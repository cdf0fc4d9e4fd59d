package dev.gatehouse.bench;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A reference relay on Jetty's {@code Session.Listener} API, the shape of Jetty's own test proxy: partial
 * text and binary forwarded fragment by fragment, the next frame demanded when the forwarded one was
 * written, pings answered by Jetty. No policies, no limits, no timers: it measures what the listener layer
 * costs a relay, against {@link FrameRelay} and Gatehouse ({@code --relay jetty-listener}).
 */
final class ListenerRelay {

    private ListenerRelay() {
    }

    /** An HTTP client on the server's thread pool, timer and buffers, started (so that clients reuse them). */
    static HttpClient sharedHttpClient(Server server) throws Exception {
        HttpClient http = new HttpClient();
        http.setExecutor(server.getThreadPool());
        http.setScheduler(server.getScheduler());
        http.setByteBufferPool(server.getByteBufferPool());
        http.start();
        return http;
    }

    /** The server handler relaying {@code /echo} to {@code backend}'s {@code /echo}. */
    static Handler handler(Server server, URI backend) throws Exception {
        WebSocketClient client = new WebSocketClient(sharedHttpClient(server));
        server.addBean(client);
        URI target = backend.resolve("/echo");
        return WebSocketUpgradeHandler.from(server, container -> {
            container.setIdleTimeout(Duration.ofMinutes(30));
            container.addMapping("/echo", (request, response, callback) -> {
                Leg front = new Leg();
                Leg back = new Leg();
                front.peer = back;
                back.peer = front;
                try {
                    client.connect(back, target).get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    response.setStatus(502);
                    callback.succeeded();
                    return null;
                }
                return front;
            });
        });
    }

    /** One leg; public because Jetty requires public endpoint classes. */
    public static final class Leg implements Session.Listener {
        private volatile Session session;
        private Leg peer;

        @Override
        public void onWebSocketOpen(Session s) {
            session = s;
            s.setIdleTimeout(Duration.ofMinutes(30));
            s.setMaxTextMessageSize(Long.MAX_VALUE);
            s.setMaxBinaryMessageSize(Long.MAX_VALUE);
            s.setInputBufferSize(64 * 1024);
            if (peer.session != null) {
                s.demand();
                peer.session.demand();
            }
        }

        @Override
        public void onWebSocketPartialText(String payload, boolean fin) {
            peer.session.sendPartialText(payload, fin, Callback.from(session::demand, this::fail));
        }

        @Override
        public void onWebSocketPartialBinary(ByteBuffer payload, boolean fin, Callback callback) {
            peer.session.sendPartialBinary(payload, fin, Callback.from(() -> {
                callback.succeed();
                session.demand();
            }, callback::fail));
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason, Callback callback) {
            Session out = peer.session;
            if (out != null && out.isOpen()) {
                out.close(statusCode, reason, callback);
            } else {
                callback.succeed();
            }
        }

        private void fail(Throwable cause) {
            session.close(1011, "relay failed", Callback.NOOP);
        }
    }
}
