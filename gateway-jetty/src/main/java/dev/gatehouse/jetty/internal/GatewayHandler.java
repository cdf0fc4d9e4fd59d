package dev.gatehouse.jetty.internal;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.server.WebSocketMappings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.Admission;
import dev.gatehouse.internal.Bridge;

/**
 * The core-Handler mount: takes requests that match a route, runs the handshake pipeline, dials the
 * backend asynchronously (no thread waits) and upgrades once the backend answered 101. Requests that
 * match no route go to the wrapped handler, or get 404 when there is none.
 */
public final class GatewayHandler extends Handler.Wrapper {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayHandler.class);

    private final BackendDialer dialer;
    private final WebSocketMappings upgrader;

    /** A handler upgrading through {@code upgrader}, passing unrouted requests to {@code next} (may be null). */
    public GatewayHandler(BackendDialer dialer, WebSocketMappings upgrader, Handler next) {
        super(next);
        this.dialer = dialer;
        this.upgrader = upgrader;
    }

    /**
     * Blocking, whatever the wrapped handler is: authenticators, custom authorizers, policies and limiter
     * stores run in {@link #handle}, and none of them may run on a selector thread, where it would stall
     * every connection of that selector.
     */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.BLOCKING;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Handshake h = Requests.from(request);
        Handler next = getHandler();
        if (next != null && !dialer.gateway().hasRoute(h)) {
            return next.handle(request, response, callback);
        }
        Admission admission = dialer.gateway().admit(h);
        if (admission.rejection().isPresent()) {
            Refusal.of(dialer.gateway(), admission.route().orElse(null), admission.rejection().get(), h.requestId())
                    .write(response, callback);
            return true;
        }
        dialer.dial(admission).thenAccept(dialed -> upgrade(dialed, h, admission, request, response, callback));
        return true;
    }

    private void upgrade(BackendDialer.Dialed dialed, Handshake h, Admission admission, Request request,
            Response response, Callback callback) {
        if (dialed.refusal() != null) {
            dialed.refusal().write(response, callback);
            return;
        }
        Bridge bridge = dialed.bridge();
        String subprotocol = dialed.subprotocol();
        if (!bridge.backendConnected(dialed.backendLeg(), subprotocol)) {
            dialer.abandon(dialed, "closed before the client upgrade");
            Refusal.rejected(dialer.gateway(), h, admission.route().orElse(null),
                    Verdict.reject(Rejection.UNAVAILABLE, "the gateway is shutting down").withHeader("Retry-After", "5"))
                    .write(response, callback);
            return;
        }
        JettyLeg clientLeg = new JettyLeg(bridge.clientHandler(), bridge::clientConnected,
                BackendDialer.safetyIdleTimeout(admission.settings()));
        boolean upgraded;
        try {
            // If the 101 cannot be written (the client left during the dial), the client leg never opens:
            // the backend leg is closed at once rather than at the bridge's connect deadline.
            Callback written = Callback.from(callback, (Throwable failure) -> {
                if (failure != null) {
                    dialer.abandon(dialed, "client upgrade failed");
                }
            });
            upgraded = upgrader.upgrade(Upgrades.negotiator(dialed, clientLeg), Upgrades.offering(request),
                    response, written, null);
        } catch (Throwable x) {
            LOG.debug("Client upgrade of request {} failed", h.requestId(), x);
            dialer.abandon(dialed, "client upgrade failed");
            callback.failed(x);
            return;
        }
        if (!upgraded) {
            dialer.abandon(dialed, "client upgrade refused");
            Refusal.rejected(dialer.gateway(), h, admission.route().orElse(null),
                    Verdict.reject(Rejection.UPGRADE_REQUIRED, "not a valid WebSocket upgrade request")
                            .withHeader("Upgrade", "websocket").withHeader("Sec-WebSocket-Version", "13"))
                    .write(response, callback);
        }
    }
}
