package dev.gatehouse.internal;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import dev.gatehouse.Handshake;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;

/**
 * The outcome of the handshake pipeline: either a rejection, or an admitted request with everything
 * needed to dial the backend. An admitted request holds its connection slots (the concurrent-connection
 * limits) until {@link DefaultGateway#newBridge} passes them to the bridge, which gives them back when it
 * ends; an adapter must therefore create the bridge of every admitted request.
 */
public final class Admission {

    private final Verdict.Reject reject;          // null when admitted
    private final Route route;                    // null when no route matched
    private final Settings settings;
    private final Handshake handshake;
    private final URI backendUri;                 // null when rejected
    private final Map<String, List<String>> backendHeaders;
    private final AtomicReference<ConnectionLimits.Reservation> reservation; // NONE once passed to a bridge

    private Admission(Verdict.Reject reject, Route route, Settings settings, Handshake handshake, URI backendUri,
            Map<String, List<String>> backendHeaders, ConnectionLimits.Reservation reservation) {
        this.reject = reject;
        this.route = route;
        this.settings = settings;
        this.handshake = handshake;
        this.backendUri = backendUri;
        this.backendHeaders = backendHeaders;
        this.reservation = new AtomicReference<>(reservation);
    }

    static Admission rejected(Verdict.Reject reject, Route route, Settings settings, Handshake handshake) {
        return new Admission(reject, route, settings, handshake, null, Map.of(), ConnectionLimits.Reservation.NONE);
    }

    static Admission admitted(Route route, Settings settings, Handshake handshake, URI backendUri,
            Map<String, List<String>> backendHeaders, ConnectionLimits.Reservation reservation) {
        return new Admission(null, route, settings, handshake, backendUri, backendHeaders, reservation);
    }

    /** Hands the connection slots over, once; later calls get {@link ConnectionLimits.Reservation#NONE}. */
    ConnectionLimits.Reservation takeReservation() {
        return reservation.getAndSet(ConnectionLimits.Reservation.NONE);
    }

    /** The rejection, when the handshake was refused. */
    public Optional<Verdict.Reject> rejection() {
        return Optional.ofNullable(reject);
    }

    /** The matched route; empty for a 404. */
    public Optional<Route> route() {
        return Optional.ofNullable(route);
    }

    /** The effective settings (the gateway's when no route matched). */
    public Settings settings() {
        return settings;
    }

    /** The handshake after authentication and policies. */
    public Handshake handshake() {
        return handshake;
    }

    /** The backend URI to dial, query included. Only for admitted requests. */
    public URI backendUri() {
        if (backendUri == null) {
            throw new IllegalStateException("rejected");
        }
        return backendUri;
    }

    /** The headers to send to the backend, besides the WebSocket handshake's own. */
    public Map<String, List<String>> backendHeaders() {
        return backendHeaders;
    }

    /** The client's offered subprotocols, which are offered to the backend as they are. */
    public List<String> subprotocols() {
        return handshake.subprotocols();
    }
}
