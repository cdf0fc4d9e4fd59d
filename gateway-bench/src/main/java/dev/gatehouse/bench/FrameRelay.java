package dev.gatehouse.bench;

import java.net.URI;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;
import org.eclipse.jetty.websocket.core.server.WebSocketUpgradeHandler;

/**
 * A reference relay on Jetty's frame level ({@code FrameHandler}/{@code CoreSession}): every frame, control
 * frames included, is forwarded as it came, text as raw UTF-8, and the inbound frame is released and the
 * next one demanded when the forwarded copy was written. No policies, no limits, no timers: it measures
 * what Jetty's core layer costs a relay, against {@link ListenerRelay} and Gatehouse
 * ({@code --relay jetty-frames}).
 */
final class FrameRelay {

    private FrameRelay() {
    }

    /**
     * The server handler relaying {@code /echo} to {@code backend}'s {@code /echo}; with {@code nonBlocking},
     * the client legs are read on Jetty's selector thread ({@link NonBlockingHandshaker}).
     */
    static Handler handler(Server server, URI backend, boolean nonBlocking) throws Exception {
        WebSocketCoreClient client = new WebSocketCoreClient(ListenerRelay.sharedHttpClient(server), null);
        server.addBean(client);
        WebSocketNegotiator negotiator = negotiator(client, backend.resolve("/echo"));
        WebSocketComponents components = WebSocketServerComponents.ensureWebSocketComponents(server);
        if (!nonBlocking) {
            return new WebSocketUpgradeHandler(components, h -> h.addMapping("/echo", negotiator));
        }
        NonBlockingHandshaker handshaker = new NonBlockingHandshaker();
        return new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                if (!"/echo".equals(Request.getPathInContext(request))
                        || !handshaker.upgradeRequest(negotiator, request, response, callback, components, null)) {
                    Response.writeError(request, response, callback, 404);
                }
                return true;
            }
        };
    }

    private static WebSocketNegotiator negotiator(WebSocketCoreClient client, URI target) {
        return (request, response, callback) -> {
            Leg front = new Leg();
            Leg back = new Leg();
            front.peer = back;
            back.peer = front;
            try {
                client.connect(CoreClientUpgradeRequest.from(client, target, back)).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                response.setStatus(502);
                callback.succeeded();
                return null;
            }
            return front;
        };
    }

    /** One leg: forwards its frames to the peer leg's session. */
    static final class Leg implements FrameHandler {
        private volatile CoreSession session;
        private Leg peer;

        @Override
        public void onOpen(CoreSession coreSession, Callback callback) {
            session = coreSession;
            coreSession.setMaxFrameSize(0);
            coreSession.setMaxTextMessageSize(0);
            coreSession.setMaxBinaryMessageSize(0);
            coreSession.setInputBufferSize(64 * 1024);
            callback.succeeded();
            if (peer.session != null) {
                coreSession.demand();
                peer.session.demand();
            }
        }

        @Override
        public void onFrame(Frame frame, Callback callback) {
            CoreSession out = peer.session;
            if (frame.getOpCode() == OpCode.CLOSE) {
                CloseStatus status = new CloseStatus(frame.getPayload());
                out.close(status.getCode(), status.getReason(), callback);
                return;
            }
            Frame copy = new Frame(frame.getOpCode(), frame.isFin(), frame.getPayload());
            out.sendFrame(copy, Callback.from(() -> {
                callback.succeeded();
                session.demand();
            }, callback::failed), false);
        }

        @Override
        public void onError(Throwable cause, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onClosed(CloseStatus closeStatus, Callback callback) {
            CoreSession out = peer.session;
            if (out != null && out.isOutputOpen()) {
                out.close(closeStatus.getCode() == CloseStatus.NO_CLOSE ? CloseStatus.SERVER_ERROR : closeStatus.getCode(),
                        closeStatus.getReason(), Callback.NOOP);
            }
            callback.succeeded();
        }
    }
}
