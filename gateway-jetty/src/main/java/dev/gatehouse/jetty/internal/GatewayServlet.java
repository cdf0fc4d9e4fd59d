package dev.gatehouse.jetty.internal;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletCoreRequest;
import org.eclipse.jetty.ee10.servlet.ServletCoreResponse;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.FutureCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.Admission;
import dev.gatehouse.internal.DefaultGateway;

/**
 * The ee10 upgrade servlet: runs the handshake pipeline and dials the backend before it upgrades, so that
 * every refusal is a plain HTTP response with the gateway's JSON body. The request thread waits for the
 * backend's handshake, bounded by the route's connect timeout.
 */
public final class GatewayServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(GatewayServlet.class);

    private final transient BackendDialer dialer;

    /** A servlet that admits and dials through {@code dialer}. */
    public GatewayServlet(BackendDialer dialer) {
        this.dialer = dialer;
    }

    /** This request no longer waits for its dial: a backend that connects later is closed at once. */
    private void giveUp(CompletableFuture<BackendDialer.Dialed> dial) {
        dial.thenAccept(late -> {
            if (late.refusal() == null) {
                late.backendLeg().close(CloseStatus.GOING_AWAY);
                late.backendLeg().demand(); // read a reply if Jetty waits for one (after 1001 it drops the connection itself)
                dialer.abandon(late, "the client's request gave up waiting for the backend");
            }
        });
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Handshake request = Requests.from(req);
        Admission outcome = dialer.gateway().admit(request);
        if (outcome instanceof Admission.Rejected rejected) {
            Refusal.of(dialer.gateway(), rejected.route().orElse(null), rejected.reject(), request.requestId())
                    .write(resp);
            return;
        }
        Admission.Admitted admission = (Admission.Admitted) outcome;
        BackendDialer.Dialed dialed;
        CompletableFuture<BackendDialer.Dialed> dial = dialer.connect(admission);
        try {
            long bound = admission.route().webSocketApi().map(api -> api.timeout().toMillis())
                    .orElse(admission.settings().connectTimeout().toMillis() * admission.attempts()) + 5000;
            dialed = dial.get(bound, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            giveUp(dial);
            Refusal.rejected(dialer.gateway(), request, admission.route(), DefaultGateway.shuttingDown())
                    .write(resp);
            return;
        } catch (ExecutionException | TimeoutException e) {
            // dial() completes normally within its own bound; this is a broken invariant.
            LOG.error("Backend dial for request {} did not complete", request.requestId(), e);
            giveUp(dial);
            Refusal.rejected(dialer.gateway(), request, admission.route(),
                    Verdict.reject(Rejection.INTERNAL_ERROR, "the backend dial failed")).write(resp);
            return;
        }
        Request coreRequest = ServletCoreRequest.wrap(req);
        Response coreResponse = ServletCoreResponse.wrap(coreRequest, resp, false);
        FutureCallback done = new FutureCallback();
        Optional<Refusal> refusal = Upgrades.afterDial(dialer, dialed, request, admission, coreRequest, coreResponse,
                done);
        if (refusal.isPresent()) {
            refusal.get().write(resp);
        } else {
            done.block(); // until the 101 is written, as Jetty's own servlet upgrade waits
        }
    }
}
