package dev.gatehouse.internal;

import java.net.InetSocketAddress;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.GatewayResponse;
import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.policy.Cidr;

/**
 * How a gateway answers and logs a rejected handshake: the {@link GatewayResponse}s configured per route and
 * gateway-wide shape the status, message and body, and each rejection gets one access-log line.
 */
public final class Rejections {

    private static final Logger ACCESS = LoggerFactory.getLogger("dev.gatehouse.access");

    private final Map<Rejection, GatewayResponse> responses; // gateway-wide, by kind

    Rejections(Map<Rejection, GatewayResponse> responses) {
        this.responses = Map.copyOf(responses);
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

    /** Logs a rejection that happened after admission, e.g. a backend refusal. */
    public void log(Handshake request, Route route, Verdict.Reject reject) {
        log(request.requestId(), route == null ? "-" : route.path(), request.path(),
                request.remoteAddress(), Cidr.text(request.clientAddress()), reject);
    }

    /**
     * Logs, in the same line as {@link #log(Handshake, Route, Verdict.Reject)}, a rejection that no
     * gateway's pipeline decided: one by Jetty's HTTP parser, or by a connector's request deadline. The
     * route is {@code -} and the client is the remote address.
     *
     * @param path the request's path, or {@code -} when there is none to log
     */
    public static void log(String requestId, String path, InetSocketAddress remote, Verdict.Reject reject) {
        String client = remote.getAddress() == null ? remote.getHostString() : Cidr.text(remote.getAddress());
        log(requestId, "-", path, remote, client, reject);
    }

    private static void log(String requestId, String route, String path, InetSocketAddress remote,
            String client, Verdict.Reject reject) {
        ACCESS.info("id={} route={} path={} remote={} client={} status={} error={} message=\"{}\"",
                requestId, route, path, remote, client, reject.status(), reject.kind().error(), reject.message());
    }
}
