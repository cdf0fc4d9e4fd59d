package dev.gatehouse.jetty.internal;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.UpgradeListener;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.eclipse.jetty.websocket.core.exception.WebSocketException;

import dev.gatehouse.spi.ChannelHandler;

/**
 * The backend leg's upgrade request: Jetty's {@link CoreClientUpgradeRequest} sends it and checks the
 * backend's 101 ({@code Sec-WebSocket-Accept}, {@code Connection: upgrade}), then, instead of Jetty's WebSocket
 * session, a {@link FrameLeg} takes the connection over. The leg, or the dial's failure, completes
 * {@link #leg()}.
 */
final class FrameUpgradeRequest extends CoreClientUpgradeRequest {

    private final HttpClient http;
    private final ChannelHandler handler;
    private final Duration idleTimeout;
    private final UpgradeListener listener;
    private final String offer; // the client's compression offer passed on to the backend, or null
    private final CompletableFuture<Connected> leg = new CompletableFuture<>();

    /**
     * A connected backend leg.
     *
     * @param subprotocol the subprotocol the backend chose, or null for none
     * @param extensions  the backend's {@code Sec-WebSocket-Extensions} answer to the client's offer it was
     *                    given, to relay to the client (Jetty drops the blanks around its {@code ;}); null for none
     */
    record Connected(FrameLeg leg, String subprotocol, String extensions) {
    }

    /**
     * @param handler     the engine's handler of the backend leg's events
     * @param idleTimeout the leg's safety idle timeout; zero for none
     * @param listener    told of the handshake's request and response, as Jetty tells its own listeners
     * @param offer       the client's permessage-deflate offer to pass on (see {@link ExtensionOffers}), or null
     */
    FrameUpgradeRequest(WebSocketCoreClient client, URI uri, ChannelHandler handler, Duration idleTimeout,
            UpgradeListener listener, String offer) {
        super(client, uri);
        this.offer = offer;
        if (offer != null) {
            headers(fields -> fields.put(HttpHeader.SEC_WEBSOCKET_EXTENSIONS, offer));
        }
        this.http = client.getHttpClient();
        this.handler = handler;
        this.idleTimeout = idleTimeout;
        this.listener = listener;
        addListener(listener);
    }

    /** Completes with the connected leg once the backend answered 101, or fails with why the dial failed. */
    CompletableFuture<Connected> leg() {
        return leg;
    }

    /**
     * Jetty's handshake succeeded: checks the backend's choices (at most the permessage-deflate that was
     * offered; a subprotocol that was offered), then installs the frame leg on the connection.
     */
    @Override
    public void upgrade(Response response, EndPoint endPoint) {
        List<String> answered = response.getHeaders().getCSV(HttpHeader.SEC_WEBSOCKET_EXTENSIONS, false);
        String extensions = null;
        if (!answered.isEmpty()) {
            String name = answered.get(0).split(";", 2)[0].trim();
            if (offer == null || answered.size() > 1 || !name.equalsIgnoreCase("permessage-deflate")) {
                throw new WebSocketException("Upgrade failed: Sec-WebSocket-Extensions contained extension not requested");
            }
            extensions = answered.get(0).trim();
        }
        List<String> chosen = response.getHeaders().getValuesList(HttpHeader.SEC_WEBSOCKET_SUBPROTOCOL);
        if (chosen.size() > 1) {
            throw new WebSocketException("Upgrade failed: too many subprotocols in the response: " + chosen);
        }
        String subprotocol = chosen.isEmpty() ? null : chosen.get(0);
        if (subprotocol != null && !getSubProtocols().contains(subprotocol)) {
            throw new WebSocketException("Upgrade failed: subprotocol " + subprotocol + " was not offered");
        }
        listener.onHandshakeResponse(response.getRequest(), response);
        FrameLeg frames = new FrameLeg(endPoint, http.getExecutor(), http.getByteBufferPool(), FrameLeg.Role.CLIENT,
                extensions == null ? 0 : FrameHeaders.RSV1, handler, l -> { }, idleTimeout);
        endPoint.upgrade(frames);
        if (!leg.complete(new Connected(frames, subprotocol, extensions))) {
            frames.abort(); // the dial was given up meanwhile
        }
    }

    @Override
    protected void handleException(Throwable failure) {
        leg.completeExceptionally(failure);
        super.handleException(failure);
    }

    /**
     * Jetty asks every upgrade request for a frame handler before it sends it; after a failed handshake it
     * reports the failure to it. The frame leg replaces Jetty's session, so this handler only completes
     * what Jetty gives it: {@link #leg()} reports the failure.
     */
    @Override
    public FrameHandler getFrameHandler() {
        return UNUSED;
    }

    private static final FrameHandler UNUSED = new FrameHandler() {
        @Override
        public void onOpen(CoreSession coreSession, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onFrame(Frame frame, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onError(Throwable cause, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onClosed(org.eclipse.jetty.websocket.core.CloseStatus closeStatus, Callback callback) {
            callback.succeeded();
        }
    };
}
