package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

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
 * The outcome of the handshake pipeline, which a mount switches on: {@link Rejected}, answered with the
 * rejection's HTTP response, or {@link Admitted}, with everything needed to dial the backend.
 */
public sealed interface Admission {

    /** The effective settings (the gateway's when no route matched). */
    Settings settings();

    /** The rejection, when the handshake was refused; empty when admitted. */
    default Optional<Verdict.Reject> rejection() {
        return this instanceof Rejected r ? Optional.of(r.reject()) : Optional.empty();
    }

    /** A refused handshake; its access-log line is already written. */
    final class Rejected implements Admission {
        private final Verdict.Reject reject;
        private final Route route;       // null when no route matched
        private final Settings settings;

        Rejected(Verdict.Reject reject, Route route, Settings settings) {
            this.reject = requireNonNull(reject, "reject");
            this.route = route;
            this.settings = requireNonNull(settings, "settings");
        }

        /** Why the handshake was refused, with the status, headers and body to answer. */
        public Verdict.Reject reject() {
            return reject;
        }

        /** The matched route, whose custom responses apply; empty for a 404 and for requests refused before routing. */
        public Optional<Route> route() {
            return Optional.ofNullable(route);
        }

        @Override
        public Settings settings() {
            return settings;
        }
    }

    /**
     * An admitted handshake, of a proxy route (with the backend to dial) or of a WebSocket API route. It holds its connection slots (the concurrent-connection limits) until
     * {@link DefaultGateway#newBridge} passes them to the bridge, which gives them back when it ends; an adapter
     * must therefore create the bridge of every admitted request.
     */
    final class Admitted implements Admission {
        private final Route route;
        private final Settings settings;
        private final Handshake handshake;
        private final URI backendUri; // null for a WebSocket API route
        private final Balancer.Plan plan; // the targets to try, for a backend group; else null
        private final Map<String, List<String>> backendHeaders;
        private final AtomicReference<ConnectionLimits.Reservation> reservation; // NONE once passed to a bridge
        private boolean dialled; // a single backend's one target was handed out; touched by the dialling thread
        private final long startNanos; // the gateway ticker's nanoTime when the pipeline began

        Admitted(Route route, Settings settings, Handshake handshake, URI backendUri, Balancer.Plan plan,
                Map<String, List<String>> backendHeaders, ConnectionLimits.Reservation reservation, long startNanos) {
            this.startNanos = startNanos;
            this.route = requireNonNull(route, "route");
            this.settings = requireNonNull(settings, "settings");
            this.handshake = requireNonNull(handshake, "handshake");
            if ((backendUri == null) == route.backend().isPresent()) {
                throw new IllegalArgumentException("backendUri: " + backendUri + " for " + route);
            }
            this.backendUri = backendUri;
            this.plan = plan;
            this.backendHeaders = backendHeaders; // built by the pipeline, never changed after
            this.reservation = new AtomicReference<>(reservation);
        }

        /**
         * The next target to dial: a single backend's one target, then null; a backend group's next untried
         * target by its balance, until its attempts are spent. Called by one thread at a time.
         */
        public DialTarget nextTarget() {
            if (plan == null) {
                if (dialled) {
                    return null;
                }
                dialled = true;
                URI uri = backendUri();
                // A template names the target without the request's parameters; a custom backend by its URI's origin.
                String name = route.backend().orElseThrow() instanceof UriTemplateBackend t ? t.toString()
                        : uri.getScheme() + "://" + uri.getRawAuthority();
                return new DialTarget(uri, name, null);
            }
            Balancer.Lease lease = plan.next();
            if (lease == null) {
                return null;
            }
            try {
                return new DialTarget(HandshakePipeline.withQuery(lease.uri(), handshake), lease.target(), lease);
            } catch (RuntimeException e) {
                lease.release();
                throw e;
            }
        }

        /** Whether the last {@link #nextTarget()} found no healthy target of a group that refuses then. */
        public boolean noHealthyTarget() {
            return plan != null && plan.refused();
        }

        /** The most targets a dial tries: a backend group's attempts, else 1. */
        public int attempts() {
            return plan == null ? 1 : plan.attempts();
        }

        /** Hands the connection slots over, once; later calls get {@link ConnectionLimits.Reservation#NONE}. */
        ConnectionLimits.Reservation takeReservation() {
            return reservation.getAndSet(ConnectionLimits.Reservation.NONE);
        }

        /** The gateway ticker's nanoTime when the handshake pipeline began. */
        long startNanos() {
            return startNanos;
        }

        /** The matched route. */
        public Route route() {
            return route;
        }

        @Override
        public Settings settings() {
            return settings;
        }

        /** The handshake after authentication and policies. */
        public Handshake handshake() {
            return handshake;
        }

        /**
         * The backend URI to dial, query included.
         *
         * @throws IllegalStateException for a WebSocket API route, which has no backend
         */
        public URI backendUri() {
            if (backendUri == null) {
                throw new IllegalStateException("a WebSocket API route has no backend: " + route);
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
}
