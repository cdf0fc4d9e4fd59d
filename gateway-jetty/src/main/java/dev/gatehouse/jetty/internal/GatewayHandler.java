package dev.gatehouse.jetty.internal;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Handshake;
import dev.gatehouse.internal.Admission;

/**
 * The core-Handler mount: takes requests that match a route, runs the handshake pipeline, dials the
 * backend asynchronously (no thread waits) and upgrades once the backend answered 101. Requests that
 * match no route go to the wrapped handler, or get 404 when there is none.
 */
public final class GatewayHandler extends Handler.Wrapper {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayHandler.class);

    private final BackendDialer dialer;

    /** A handler dialling through {@code dialer}, passing unrouted requests to {@code next} (may be null). */
    public GatewayHandler(BackendDialer dialer, Handler next) {
        super(next);
        this.dialer = dialer;
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
        Admission outcome = dialer.gateway().admit(h);
        if (outcome instanceof Admission.Rejected rejected) {
            Refusal.of(dialer.gateway(), rejected.route().orElse(null), rejected.reject(), h.requestId())
                    .write(response, callback);
            return true;
        }
        Admission.Admitted admission = (Admission.Admitted) outcome;
        dialer.connect(admission).thenAccept(dialed -> upgrade(dialed, h, admission, request, response, callback));
        return true;
    }

    private void upgrade(BackendDialer.Dialed dialed, Handshake h, Admission.Admitted admission, Request request,
            Response response, Callback callback) {
        try {
            Upgrades.afterDial(dialer, dialed, h, admission, request, response, callback)
                    .ifPresent(refusal -> refusal.write(response, callback));
        } catch (Throwable x) {
            LOG.debug("Client upgrade of request {} failed", h.requestId(), x);
            callback.failed(x);
        }
    }
}
