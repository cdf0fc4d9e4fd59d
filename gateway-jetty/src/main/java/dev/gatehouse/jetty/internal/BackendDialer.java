package dev.gatehouse.jetty.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.transport.HttpRequest;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.UpgradeListener;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.Admission;
import dev.gatehouse.internal.Integrations;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.internal.Bridge;
import dev.gatehouse.internal.DefaultGateway;

/**
 * Runs the part of an upgrade that both mounts share: admit the request, create the bridge, dial the
 * backend first, and classify a backend failure as the client's HTTP error.
 */
public final class BackendDialer {

    private static final Logger LOG = LoggerFactory.getLogger(BackendDialer.class);

    /** The backend's 101 response headers that the client's 101 carries too. */
    static final List<String> RELAYED_UPGRADE_HEADERS = List.of("Set-Cookie");
    /** The backend's rejection headers that the client's error response carries too. */
    private static final List<String> RELAYED_REJECTION_HEADERS = List.of("WWW-Authenticate", "Retry-After");
    /** The most of a backend's rejection body that is relayed. */
    private static final int MAX_BODY = 8 * 1024;

    private final DefaultGateway gateway;
    private volatile WebSocketCoreClient client; // set when the mount starts

    /** A dialler for the gateway's backends; {@link #client(WebSocketCoreClient)} gives it its client. */
    public BackendDialer(DefaultGateway gateway) {
        this.gateway = gateway;
    }

    /** The started client to dial with. */
    public void client(WebSocketCoreClient client) {
        this.client = client;
    }

    DefaultGateway gateway() {
        return gateway;
    }

    /**
     * The outcome of connecting a backend leg: connected ({@code refusal == null}) or a refusal for the client.
     *
     * @param bridge      the connection's bridge
     * @param backendLeg  the connected backend leg (a dialled backend, or a WebSocket API route's integrations)
     * @param subprotocol the subprotocol to answer the client with, or null for none
     * @param refusal     what the client gets instead of a 101, or null
     * @param relayed     the backend's 101 headers that the client's 101 carries too ({@link #RELAYED_UPGRADE_HEADERS})
     * @param extensions  the extension the backend accepted end to end, for the client's 101, or null for none
     */
    record Dialed(Bridge bridge, Channel backendLeg, String subprotocol, Refusal refusal,
            Map<String, List<String>> relayed, String extensions) {
        Dialed(Bridge bridge, Channel backendLeg, String subprotocol, Refusal refusal, Map<String, List<String>> relayed) {
            this(bridge, backendLeg, subprotocol, refusal, relayed, null);
        }
    }

    /**
     * Gives up on a dial whose backend answered 101 but whose client will not be upgraded: the bridge ends
     * and closes the backend leg with 1001 at once, and the abandoned dial is counted.
     */
    void abandon(Dialed dialed, String why) {
        gateway.abandonedDial();
        dialed.bridge().abandon(why);
    }

    /** Jetty's idle timeout for a leg: a safety net behind the engine's own idle and keepalive timers. */
    static Duration safetyIdleTimeout(Settings s) {
        long idle = s.idleTimeout().toMillis();
        long keepalive = s.pingInterval().isZero() ? 0 : s.pingInterval().plus(s.pongTimeout()).toMillis();
        if (idle == 0 && keepalive == 0) {
            return Duration.ZERO;
        }
        return Duration.ofMillis(Math.max(idle, keepalive) + s.closeTimeout().toMillis() + 1000);
    }

    /**
     * Creates the bridge of an admitted request and connects its backend leg: dials the backend of a proxy
     * route, or runs the {@code $connect} of a WebSocket API route. The future always completes normally; on
     * a refusal the bridge is already abandoned.
     */
    CompletableFuture<Dialed> connect(Admission.Admitted admission) {
        if (admission.route().webSocketApi().isEmpty()) {
            return dial(admission);
        }
        Bridge bridge = gateway.newBridge(admission);
        CompletableFuture<Integrations.Connect> connect;
        try {
            connect = gateway.connectApi(admission, bridge).toCompletableFuture();
        } catch (RuntimeException e) { // e.g. the timer refused the call's bound after a stop
            bridge.abandon("$connect could not start");
            return CompletableFuture.completedFuture(new Dialed(bridge, null, null, Refusal.rejected(gateway,
                    admission.handshake(), admission.route(), DefaultGateway.shuttingDown()), Map.of()));
        }
        return connect.thenApply(outcome -> {
            if (outcome instanceof Integrations.Connect.Accepted accepted) {
                // The integration's subprotocol, else the credential pair's marker a browser waits for.
                String subprotocol = accepted.subprotocol() != null ? accepted.subprotocol()
                        : admission.handshake().subprotocolFallback().orElse(null);
                return new Dialed(bridge, gateway.integrationLeg(admission, bridge, accepted), subprotocol, null, Map.of());
            }
            Integrations.Connect.Refused refused = (Integrations.Connect.Refused) outcome;
            Refusal refusal = Refusal.rejected(gateway, admission.handshake(), admission.route(), refused.reject());
            if (refused.body() != null && !gateway.rejections().hasBodyTemplate(admission.route(), refused.reject().kind())) {
                // No body template for this kind: the client gets the integration's own body.
                refusal = new Refusal(refusal.reject(), refused.body().getBytes(StandardCharsets.UTF_8),
                        refused.contentType());
            }
            bridge.abandon("$connect refused: " + refused.reject().message());
            return new Dialed(bridge, null, null, refusal, Map.of());
        });
    }

    /**
     * Creates the bridge of an admitted request and dials its backend. The future always completes
     * normally, at the latest shortly after the route's connect timeout; on a refusal the bridge is
     * already abandoned.
     */
    /**
     * Creates the bridge of an admitted request and dials its backend; after the backend's 101 a
     * {@link FrameLeg} takes the connection over. The future always completes normally, at the latest
     * shortly after the route's connect timeout; on a refusal the bridge is already abandoned.
     */
    CompletableFuture<Dialed> dial(Admission.Admitted admission) {
        Handshake h = admission.handshake();
        Settings settings = admission.settings();
        Bridge bridge = gateway.newBridge(admission);
        Capture capture = new Capture();
        long timeoutMillis = settings.connectTimeout().toMillis();
        CompletableFuture<FrameUpgradeRequest.Connected> connect;
        try {
            FrameUpgradeRequest upgrade = new FrameUpgradeRequest(client, admission.backendUri(), bridge.backendHandler(),
                    safetyIdleTimeout(settings), capture, compressionOffer(admission));
            upgrade.setSubProtocols(admission.subprotocols());
            upgrade.headers(fields -> admission.backendHeaders().forEach(fields::put));
            upgrade.timeout(timeoutMillis, TimeUnit.MILLISECONDS);
            client.connect(upgrade);
            connect = upgrade.leg();
        } catch (IOException | RuntimeException e) {
            connect = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<FrameUpgradeRequest.Connected> bounded = new CompletableFuture<>();
        Future<?> bound = gateway.schedule(() -> bounded.completeExceptionally(
                new TimeoutException("backend dial exceeded " + (timeoutMillis + 1000) + " ms")),
                Duration.ofMillis(timeoutMillis + 1000));
        connect.whenComplete((connected, failure) -> {
            bound.cancel(false);
            if (failure == null) {
                bounded.complete(connected);
            } else {
                bounded.completeExceptionally(failure);
            }
        });
        CompletableFuture<FrameUpgradeRequest.Connected> attempt = connect;
        return bounded.handle((connected, failure) -> {
            if (failure == null) {
                String subprotocol = connected.subprotocol() != null ? connected.subprotocol()
                        : h.subprotocolFallback().orElse(null);
                return new Dialed(bridge, connected.leg(), subprotocol, null, capture.relayed, connected.extensions());
            }
            attempt.cancel(true);
            if (!attempt.isCompletedExceptionally()) {
                // Connected just as the bound expired: the leg is closed with 1001.
                attempt.thenAccept(late -> {
                    gateway.abandonedDial();
                    late.leg().close(CloseStatus.GOING_AWAY);
                    late.leg().demand(); // read the reply, which ends the connection
                });
            } else {
                EndPoint upgraded = capture.endPoint;
                if (upgraded != null && upgraded.isOpen()) {
                    // The backend answered 101 but its handshake was refused after it: close that connection.
                    gateway.abandonedDial();
                    upgraded.close();
                }
            }
            Refusal refusal = classify(failure, capture, h, settings, admission.route());
            bridge.abandon("backend dial failed: " + refusal.reject().message());
            return new Dialed(bridge, null, null, refusal, Map.of());
        });
    }

    /**
     * The client's permessage-deflate offer to pass on to the backend, so that the two negotiate compression
     * end to end and the gateway relays compressed frames as they are: the one offer the gateway accepts
     * ({@link ExtensionOffers}), or null when there is none or the route's in-session policies must read its
     * messages.
     */
    private static String compressionOffer(Admission.Admitted admission) {
        Route route = admission.route();
        if (route.clientMessages().isPresent() || route.backendMessages().isPresent()
                || route.messageLimits().isPresent()) {
            return null;
        }
        List<String> offers = admission.handshake().headers().get("sec-websocket-extensions");
        return offers == null || offers.isEmpty() ? null : ExtensionOffers.accepted(offers).orElse(null);
    }

    private Refusal classify(Throwable failure, Capture capture, Handshake h, Settings settings, Route route) {
        Throwable cause = unwrap(failure);
        int status = capture.status;
        LOG.debug("Backend dial for request {} failed (status {})", h.requestId(), status, cause);
        if (capture.answered && isBadMessage(cause)) {
            // Jetty's parser refused the answer (a bad status line, header or body framing), whatever its status.
            return Refusal.rejected(gateway, h, route,
                    Verdict.reject(Rejection.BAD_GATEWAY, "the backend's answer is not a valid HTTP response"));
        }
        if (isTooManyDials(cause)) {
            return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.UNAVAILABLE,
                    "too many handshakes are waiting for this backend").withHeader("Retry-After", "1"));
        }
        if (status >= 400 && status <= 499) {
            Verdict.Reject reject = Verdict.reject(Rejection.BACKEND_REJECTED,
                    "the backend refused the upgrade with status " + status).withStatus(status);
            for (String name : RELAYED_REJECTION_HEADERS) {
                String value = capture.headers.get(name);
                if (value != null) {
                    reject = reject.withHeader(name, value);
                }
            }
            Refusal shaped = Refusal.rejected(gateway, h, route, reject);
            if (capture.body.size() > 0 && !gateway.rejections().hasBodyTemplate(route, Rejection.BACKEND_REJECTED)) {
                // No body template for this kind: the client gets the backend's own body.
                String type = capture.contentType == null ? "application/octet-stream" : capture.contentType;
                return new Refusal(shaped.reject(), capture.body.toByteArray(), type);
            }
            return shaped;
        }
        if (isTimeout(cause)) {
            return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.GATEWAY_TIMEOUT,
                    "the backend did not complete its handshake within " + settings.connectTimeout().toMillis() + " ms"));
        }
        if (status > 0 && status != 101) {
            return Refusal.rejected(gateway, h, route,
                    Verdict.reject(Rejection.BAD_GATEWAY, "the backend answered the upgrade with status " + status));
        }
        if (status == 101) {
            return Refusal.rejected(gateway, h, route,
                    Verdict.reject(Rejection.BAD_GATEWAY, "the backend's handshake response was invalid"));
        }
        return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.BAD_GATEWAY, "the backend is unreachable"));
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static boolean isBadMessage(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof HttpException) {
                return true;
            }
        }
        return false;
    }

    /** Whether the dial was refused because the backend's queue of waiting dials is full. */
    private static boolean isTooManyDials(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof RejectedExecutionException) {
                return true;
            }
        }
        return false;
    }

    private static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** Records the backend's handshake response: status, a few headers, and up to 8 KiB of body. */
    private static final class Capture implements UpgradeListener {
        private volatile boolean answered; // the backend sent something back
        private volatile int began = -1;   // the status of the backend's status line, once parsed
        private volatile int status = -1;  // the status the backend answered, -1 if none could be parsed
        private volatile EndPoint endPoint; // the backend's connection once it answered 101, or null
        private volatile String contentType;
        private final Map<String, String> headers = new ConcurrentHashMap<>();
        private volatile Map<String, List<String>> relayed = Map.of();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream(); // guarded by itself

        @Override
        public void onHandshakeRequest(Request request) {
            request.onResponseBegin(response -> began = response.getStatus());
            request.onResponseContent((response, content) -> append(content));
        }

        @Override
        public void onHandshakeResponse(Request request, Response response) {
            if (response.getStatus() == 101 && request instanceof HttpRequest) {
                // After a 101 the connection belongs to no exchange: keep it, to close it if the dial fails.
                Object upgraded = ((HttpRequest) request).getConversation().getAttribute(EndPoint.class.getName());
                if (upgraded instanceof EndPoint) {
                    endPoint = (EndPoint) upgraded;
                }
            }
            // The status line as the backend sent it: a response Jetty cannot parse (there or in a later
            // header) gets a 400 of Jetty's making, which is the backend's fault, not the client's.
            status = began;
            answered = true;
            contentType = response.getHeaders().get(HttpHeader.CONTENT_TYPE);
            Map<String, List<String>> upgradeHeaders = new HashMap<>();
            for (String name : RELAYED_UPGRADE_HEADERS) {
                List<String> values = response.getHeaders().getValuesList(name);
                if (!values.isEmpty()) {
                    upgradeHeaders.put(name, List.copyOf(values));
                }
            }
            relayed = Map.copyOf(upgradeHeaders);
            for (String name : RELAYED_REJECTION_HEADERS) {
                String value = response.getHeaders().get(name);
                if (value != null) {
                    headers.put(name, value);
                }
            }
        }

        private void append(ByteBuffer content) {
            synchronized (body) {
                int room = MAX_BODY - body.size();
                int n = Math.min(room, content.remaining());
                for (int i = 0; i < n; i++) {
                    body.write(content.get(content.position() + i));
                }
            }
        }
    }
}
