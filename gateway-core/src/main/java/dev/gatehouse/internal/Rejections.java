package dev.gatehouse.internal;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import dev.gatehouse.GatewayResponse;
import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.spi.GatewayListener;

/**
 * How a gateway answers and logs a rejected handshake: the {@link GatewayResponse}s configured per route and
 * gateway-wide shape the status, message and body, and each rejection gets one access-log line.
 */
public final class Rejections {

    private final Map<Rejection, GatewayResponse> responses; // gateway-wide, by kind
    private final DefaultGateway gateway; // whose listeners hear of rejections; null in unit tests of the shaping

    Rejections(Map<Rejection, GatewayResponse> responses, DefaultGateway gateway) {
        this.responses = Map.copyOf(responses);
        this.gateway = gateway;
    }

    /**
     * A rejection as the route's, else the gateway's, {@link GatewayResponse} for its kind shapes it.
     *
     * @param route the matched route, or null when none matched
     */
    public Verdict.Reject customize(Route route, Verdict.Reject reject) {
        GatewayResponse r = response(route, reject.kind());
        return r == null ? reject : r.applyTo(reject);
    }

    /**
     * The body of a rejection, already {@linkplain #customize customized}: the configured template's, else
     * the gateway's JSON.
     *
     * @return the content type and the body
     */
    public Map.Entry<String, String> body(Route route, Verdict.Reject reject, String requestId) {
        GatewayResponse r = response(route, reject.kind());
        if (r != null && r.contentType().isPresent()) {
            return Map.entry(r.contentType().get(), r.body(reject, requestId).orElseThrow());
        }
        return Map.entry("application/json", Json.errorBody(reject, requestId));
    }

    /** Whether a body template is configured for this kind of rejection on this route (or gateway-wide). */
    public boolean hasBodyTemplate(Route route, Rejection kind) {
        GatewayResponse r = response(route, kind);
        return r != null && r.contentType().isPresent();
    }

    private GatewayResponse response(Route route, Rejection kind) {
        GatewayResponse r = route == null ? null : route.responses().get(kind);
        return r != null ? r : responses.get(kind);
    }

    /**
     * Logs a rejection that happened after admission, e.g. a backend refusal, and tells the listeners, with the
     * time since the pipeline began when the connection is still known.
     */
    public void log(Handshake request, Route route, Verdict.Reject reject) {
        long start = gateway == null ? -1 : gateway.refused(request.requestId());
        log(request, route, reject, start);
    }

    /** Logs a rejection of a handshake whose pipeline began at {@code startNanos} (-1 when unknown). */
    void log(Handshake request, Route route, Verdict.Reject reject, long startNanos) {
        String path = route == null ? null : route.path();
        long nanos = startNanos < 0 || gateway == null ? -1 : Math.max(0, gateway.ticker().nanoTime() - startNanos);
        String node = gateway == null ? DefaultGateway.defaultNode() : gateway.node();
        if (AccessLog.LOGGER.isInfoEnabled()) {
            try (Mdc mdc = Mdc.of(request.requestId(), path)) {
                AccessLog.LOGGER.info(AccessLog.rejection(node, request, path, reject, nanos < 0 ? -1 : nanos / 1_000_000));
            }
        }
        Listeners observers = gateway == null ? null : gateway.observers();
        if (observers != null) {
            observers.handshakeRejected(new GatewayListener.HandshakeEvent(request.requestId(), Optional.ofNullable(route),
                    reject.status(), Optional.of(reject.kind()),
                    nanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(nanos))));
        }
    }

    /**
     * Logs, in the same form as {@link #log(Handshake, Route, Verdict.Reject)}, a rejection that no
     * gateway's pipeline decided: one by Jetty's HTTP parser, or by a connector's request deadline. The
     * route is null and the client is the remote address.
     *
     * @param path the request's path, or {@code -} when there is none to log
     */
    public static void log(String requestId, String path, InetSocketAddress remote, Verdict.Reject reject) {
        try (Mdc mdc = Mdc.of(requestId, null)) {
            AccessLog.LOGGER.info(AccessLog.rejection(DefaultGateway.defaultNode(), requestId, path, remote, reject));
        }
    }
}
