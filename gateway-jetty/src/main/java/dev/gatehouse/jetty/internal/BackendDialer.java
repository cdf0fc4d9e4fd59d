package dev.gatehouse.jetty.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
import dev.gatehouse.internal.DialTarget;

/**
 * Runs the part of an upgrade that both mounts share: admit the request, create the bridge, dial the
 * backend first, and classify a backend failure as the client's HTTP error.
 */
public final class BackendDialer {

    private static final Logger LOG = LoggerFactory.getLogger(BackendDialer.class);

    /** The backend's 101 response headers that the client's 101 carries too. */
    static final List<String> RELAYED_UPGRADE_HEADERS = List.of("Set-Cookie");
    /** The backend's rejection headers that the client's error response carries too. */
    static final List<String> RELAYED_REJECTION_HEADERS = List.of("WWW-Authenticate", "Retry-After");

    private final DefaultGateway gateway;
    private volatile BackendConnector connector; // set when the mount starts

    /** A dialler for the gateway's backends; {@link #connector(BackendConnector)} gives it its connector. */
    public BackendDialer(DefaultGateway gateway) {
        this.gateway = gateway;
    }

    /** The started connector to dial with. */
    public void connector(BackendConnector connector) {
        this.connector = connector;
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
     * Creates the bridge of an admitted request and dials its backend; after the backend's 101 a
     * {@link FrameLeg} takes the connection over. A backend group's dial fails over to another target when a
     * target is unreachable, times out, answers 5xx or a broken handshake, up to the group's attempts. The
     * future always completes normally, at the latest when each attempt's connect timeout has passed; on a
     * refusal the bridge is already abandoned.
     */
    CompletableFuture<Dialed> dial(Admission.Admitted admission) {
        Bridge bridge = gateway.newBridge(admission);
        CompletableFuture<Dialed> result = new CompletableFuture<>();
        attempt(admission, bridge, null, result);
        return result;
    }

    /**
     * Dials the admission's next target, or refuses the client with the last attempt's failure when none is
     * left. Completes {@code result} on every path, an unexpected exception included.
     */
    private void attempt(Admission.Admitted admission, Bridge bridge, Throwable last, CompletableFuture<Dialed> result) {
        Handshake h = admission.handshake();
        Settings settings = admission.settings();
        DialTarget target = null;
        try {
            target = admission.nextTarget();
            if (target == null) {
                Refusal refusal = last == null && admission.noHealthyTarget()
                        ? Refusal.rejected(gateway, h, admission.route(), Verdict.reject(Rejection.UNAVAILABLE,
                                "no backend target is healthy").withHeader("Retry-After", "1"))
                        : classify(last, h, settings, admission.route());
                refuse(bridge, refusal, result);
                return;
            }
            bridge.dialling(target.uri());
            DialTarget dialled = target;
            connector.dial(target.uri(), admission.backendHeaders(), admission.subprotocols(), compressionOffer(admission),
                    bridge.backendHandler(), safetyIdleTimeout(settings), settings.connectTimeout())
                    .whenComplete((connected, failure) -> settle(admission, bridge, dialled, connected, failure, result));
        } catch (RuntimeException e) {
            LOG.warn("Backend dial for request {} failed in the gateway", h.requestId(), e);
            if (target != null) {
                target.failed(false);
            }
            refuse(bridge, Refusal.rejected(gateway, h, admission.route(),
                    Verdict.reject(Rejection.INTERNAL_ERROR, "the backend dial failed in the gateway")), result);
        }
    }

    /** One attempt ended: the client's upgrade goes on, another target is tried, or the client is refused. */
    private void settle(Admission.Admitted admission, Bridge bridge, DialTarget target, BackendHandshake.Connected connected,
            Throwable failure, CompletableFuture<Dialed> result) {
        Handshake h = admission.handshake();
        try {
            if (failure == null) {
                target.connected(bridge);
                String subprotocol = connected.subprotocol() != null ? connected.subprotocol()
                        : h.subprotocolFallback().orElse(null);
                result.complete(new Dialed(bridge, connected.leg(), subprotocol, null, connected.relayed(),
                        connected.extensions()));
                return;
            }
            Throwable cause = unwrap(failure);
            BackendConnector.DialFailure.Kind kind = cause instanceof BackendConnector.DialFailure d ? d.kind() : null;
            if (kind == BackendConnector.DialFailure.Kind.INVALID_UPGRADE) {
                gateway.abandonedDial(); // the backend answered 101, and its connection is closed unused
            }
            boolean fault = targetsFault(cause);
            target.failed(fault);
            if (fault || kind == BackendConnector.DialFailure.Kind.TOO_MANY
                    || kind == BackendConnector.DialFailure.Kind.QUEUE_TIMEOUT) {
                LOG.debug("Backend target {} failed for request {}; trying another if any", target.name(), h.requestId(), cause);
                attempt(admission, bridge, failure, result);
            } else {
                refuse(bridge, classify(failure, h, admission.settings(), admission.route()), result);
            }
        } catch (RuntimeException e) {
            LOG.warn("Backend dial for request {} failed in the gateway", h.requestId(), e);
            if (connected != null) {
                connected.leg().abort();
            }
            refuse(bridge, Refusal.rejected(gateway, h, admission.route(),
                    Verdict.reject(Rejection.INTERNAL_ERROR, "the backend dial failed in the gateway")), result);
        }
    }

    private static void refuse(Bridge bridge, Refusal refusal, CompletableFuture<Dialed> result) {
        try {
            bridge.abandon("backend dial failed: " + refusal.reject().message());
        } finally {
            result.complete(new Dialed(bridge, null, null, refusal, Map.of()));
        }
    }

    /**
     * Whether a failed dial is the target's fault, which counts against its health and moves the dial to
     * another target: unreachable, a timeout, a broken answer, or a 5xx. A 4xx is the backend's answer to
     * this client; a 1xx or 3xx is not a WebSocket answer, but says the target is up; the gateway's own
     * queue and failures say nothing about the target.
     */
    private static boolean targetsFault(Throwable cause) {
        if (!(cause instanceof BackendConnector.DialFailure d)) {
            return false;
        }
        switch (d.kind()) {
            case TOO_MANY:
            case QUEUE_TIMEOUT:
            case GATEWAY:
                return false;
            case STATUS:
                return d.answer().status() >= 500;
            default:
                return true;
        }
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

    private Refusal classify(Throwable failure, Handshake h, Settings settings, Route route) {
        Throwable cause = unwrap(failure);
        LOG.debug("Backend dial for request {} failed", h.requestId(), cause);
        if (!(cause instanceof BackendConnector.DialFailure dial)) {
            return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.BAD_GATEWAY, "the backend is unreachable"));
        }
        BackendHandshake.Answer answer = dial.answer();
        switch (dial.kind()) {
            case TOO_MANY:
                return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.UNAVAILABLE,
                        "too many handshakes are waiting for this backend").withHeader("Retry-After", "1"));
            case TIMEOUT:
                return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.GATEWAY_TIMEOUT,
                        "the backend did not complete its handshake within " + settings.connectTimeout().toMillis() + " ms"));
            case QUEUE_TIMEOUT:
                return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.GATEWAY_TIMEOUT,
                        "the dial waited " + settings.connectTimeout().toMillis() + " ms for a turn to the backend"));
            case GATEWAY:
                return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.UNAVAILABLE,
                        "the gateway could not dial the backend now").withHeader("Retry-After", "1"));
            case BAD_RESPONSE:
                return Refusal.rejected(gateway, h, route,
                        Verdict.reject(Rejection.BAD_GATEWAY, "the backend's answer is not a valid HTTP response"));
            case INVALID_UPGRADE:
                return Refusal.rejected(gateway, h, route,
                        Verdict.reject(Rejection.BAD_GATEWAY, "the backend's handshake response was invalid"));
            case STATUS:
                int status = answer.status();
                if (status >= 400 && status <= 499) {
                    return backendRejected(answer, h, route);
                }
                return Refusal.rejected(gateway, h, route,
                        Verdict.reject(Rejection.BAD_GATEWAY, "the backend answered the upgrade with status " + status));
            default:
                return Refusal.rejected(gateway, h, route, Verdict.reject(Rejection.BAD_GATEWAY, "the backend is unreachable"));
        }
    }

    /** The client's answer when the backend refused the upgrade with a 4xx: its status, a few headers and its body. */
    private Refusal backendRejected(BackendHandshake.Answer answer, Handshake h, Route route) {
        int status = answer.status();
        Verdict.Reject reject = Verdict.reject(Rejection.BACKEND_REJECTED,
                "the backend refused the upgrade with status " + status).withStatus(status);
        for (String name : RELAYED_REJECTION_HEADERS) {
            String value = answer.headers().get(name);
            if (value != null) {
                reject = reject.withHeader(name, value);
            }
        }
        Refusal shaped = Refusal.rejected(gateway, h, route, reject);
        if (answer.body().length > 0 && !gateway.rejections().hasBodyTemplate(route, Rejection.BACKEND_REJECTED)) {
            // No body template for this kind: the client gets the backend's own body.
            String type = answer.contentType() == null ? "application/octet-stream" : answer.contentType();
            return new Refusal(shaped.reject(), answer.body(), type);
        }
        return shaped;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
