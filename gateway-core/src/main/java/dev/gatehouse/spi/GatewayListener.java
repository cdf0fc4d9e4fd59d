package dev.gatehouse.spi;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;
import java.util.function.IntSupplier;

import dev.gatehouse.Gateway;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;

/**
 * Hears what a gateway does, for metrics and tracing: handshakes, backend dials, messages, closes,
 * integration calls, management operations and the drain. Register one or more with
 * {@link Gateway.Builder#listener(GatewayListener)}; {@code gateway-micrometer}'s {@code GatehouseMetrics} is one.
 *
 * <pre>{@code
 * Gateway gateway = Gateway.builder()
 *         .route(Route.of("/echo", Backend.of("ws://localhost:9001/echo")))
 *         .listener(new GatewayListener() {
 *             public void connectionClosed(GatewayListener.CloseEvent e) { System.out.println(e.code()); }
 *         })
 *         .build();
 * }</pre>
 *
 * <p>Every method has an empty default, so a listener overrides only what it needs. Methods are called on
 * the gateway's own threads (Jetty's, the timer's, an integration's) at the moment the thing happens, often
 * concurrently, and must be quick and must not block: a few counter increments. An exception thrown by a
 * listener is logged and ignored; it never changes what the gateway does. Without any listener the gateway
 * pays no more than a field read per message.
 */
public interface GatewayListener {

    /** The direction of a message: {@code IN} from a client, {@code OUT} to a client. */
    enum Direction {
        /** From the client to the gateway. */
        IN,
        /** From the gateway to the client (relayed from the backend, an integration's reply, or a management send). */
        OUT;

        /** {@code in} or {@code out}. */
        public String tag() {
            return this == IN ? "in" : "out";
        }
    }

    /**
     * Counts the messages of a route's connections; asked once per connection, when its relay starts, and
     * then called for every complete message, on the leg's reading thread, so it must cost no more than a
     * counter increment or two.
     */
    @FunctionalInterface
    interface MessageCounter {
        /** Counts nothing; what {@link #messages(Route)} returns by default. */
        MessageCounter NONE = (direction, bytes) -> { };

        /**
         * A whole message went through.
         *
         * @param direction {@code IN} from the client, {@code OUT} to it
         * @param bytes     its payload size (compressed size on a compressed connection)
         */
        void message(Direction direction, long bytes);
    }

    /**
     * Called once by {@link Gateway.Builder#build()} with the gateway it built, before any traffic, so that a
     * listener can read gateway-wide figures such as {@link Gateway#pendingBytes()}. A listener given to several
     * builders is called once for each gateway.
     */
    default void built(Gateway gateway) {
    }

    /**
     * The message counter of a route's connections, or {@link MessageCounter#NONE} (the default) for none. The
     * same counter may be returned for every connection of a route.
     */
    default MessageCounter messages(Route route) {
        return MessageCounter.NONE;
    }

    /** A client was upgraded (status 101) and its relay started. */
    default void handshakeAccepted(HandshakeEvent event) {
    }

    /** A handshake was refused with an HTTP status, by the pipeline, the backend or {@code $connect}. */
    default void handshakeRejected(HandshakeEvent event) {
    }

    /** The dial of a proxy route's backend ended: it answered 101, or failed. */
    default void backendDialed(DialEvent event) {
    }

    /** A connection whose relay had started ended: both legs are closed. */
    default void connectionClosed(CloseEvent event) {
    }

    /** A call to an integration of a WebSocket API route ended ({@code $connect}, a message, {@code $disconnect}). */
    default void integrationCalled(IntegrationEvent event) {
    }

    /** A management operation (an {@code @connections} request or the like) was answered. */
    default void managementOperation(ManagementEvent event) {
    }

    /** {@link Gateway#drain(Duration)} started a drain. */
    default void drainStarted(DrainEvent event) {
    }

    /** The gateway joined a cluster ({@link Gateway.Builder#cluster}), once, right after {@link #built}. */
    default void clusterJoined(ClusterEvent event) {
    }

    /**
     * An operation of {@link Gateway#connections()} went through the cluster: forwarded to the node of a
     * connection on another node, or broadcast to every node. Operations on this node's connections, and ids
     * that the directory does not hold, are not reported.
     */
    default void clusterForwarded(ForwardEvent event) {
    }

    /**
     * A shared limit could not reach the cluster's engine, and the cluster applied its fallback instead (this
     * node's own count, or letting the handshake pass, or refusing it). The cluster logs a warning too.
     */
    default void clusterFellBack(FallbackEvent event) {
    }

    /**
     * A handshake's outcome.
     *
     * @param requestId the request's id (the connection id, when accepted)
     * @param route     the matched route; empty when none matched or the request was refused before routing
     * @param status    101 when accepted, else the HTTP status of the refusal
     * @param rejection the kind of refusal; empty when accepted
     * @param duration  from the start of the pipeline to the 101 or the refusal, the backend's dial included;
     *                  empty in the rare case the gateway no longer knew when it began (an upgrade refused
     *                  after its connection had already ended)
     */
    record HandshakeEvent(String requestId, Optional<Route> route, int status, Optional<Rejection> rejection,
            Optional<Duration> duration) {
        /** Checks the values are present. */
        public HandshakeEvent {
            requireNonNull(requestId, "requestId");
            requireNonNull(route, "route");
            requireNonNull(rejection, "rejection");
            requireNonNull(duration, "duration");
        }

        /** Whether the client was upgraded. */
        public boolean accepted() {
            return rejection.isEmpty();
        }
    }

    /**
     * A backend dial's end.
     *
     * @param connectionId the connection's id
     * @param route        its route
     * @param target       the backend's scheme, host and port, e.g. {@code ws://chat.internal:7000}: never a path
     *                     or query, which may hold parameters or credentials
     * @param connected    whether the backend answered 101
     * @param duration     from the start of the dial to its end
     */
    record DialEvent(String connectionId, Route route, String target, boolean connected, Duration duration) {
        /** Checks the values are present. */
        public DialEvent {
            requireNonNull(connectionId, "connectionId");
            requireNonNull(route, "route");
            requireNonNull(target, "target");
            requireNonNull(duration, "duration");
        }
    }

    /**
     * The end of a connection whose relay started.
     *
     * @param connectionId the connection's id
     * @param route        its route
     * @param code         the close code the client leg ended with (1005 for a close without status, 1006 when
     *                     the connection was lost or dropped)
     * @param initiator    who decided the close: {@code client}, {@code backend} or {@code gateway}
     * @param cause        why, in one of a few words: {@code client_closed}, {@code backend_closed},
     *                     {@code client_lost}, {@code backend_lost}, {@code idle_timeout}, {@code keepalive_timeout},
     *                     {@code credential_expired}, {@code revoked}, {@code drain}, {@code target_down},
     *                     {@code message_too_big},
     *                     {@code rate_limited}, {@code invalid_payload}, {@code protocol_error}, {@code filter},
     *                     {@code management}, {@code aborted} or {@code other}
     * @param duration     from the start of the relay to the end
     */
    record CloseEvent(String connectionId, Route route, int code, String initiator, String cause, Duration duration) {
        /** Checks the values are present. */
        public CloseEvent {
            requireNonNull(connectionId, "connectionId");
            requireNonNull(route, "route");
            requireNonNull(initiator, "initiator");
            requireNonNull(cause, "cause");
            requireNonNull(duration, "duration");
        }
    }

    /**
     * The end of an integration call.
     *
     * @param connectionId the connection's id
     * @param route        its route
     * @param routeKey     the route key called: {@code $connect}, {@code $disconnect}, {@code $default} or a custom key
     * @param status       200 for a usable answer, the status of a {@code $connect}'s refusal, the integration's
     *                     status when it answered one the gateway cannot use, 502 when it could not be reached or
     *                     its answer was not valid, 503 when too many calls were in progress, 504 when it did not
     *                     answer in time, 500 for any other failure
     * @param failed       whether the call failed (anything but a usable answer); a {@code $connect}'s refusal is
     *                     a usable answer
     * @param latency      from the call to its answer or failure
     */
    record IntegrationEvent(String connectionId, Route route, String routeKey, int status, boolean failed,
            Duration latency) {
        /** Checks the values are present. */
        public IntegrationEvent {
            requireNonNull(connectionId, "connectionId");
            requireNonNull(route, "route");
            requireNonNull(routeKey, "routeKey");
            requireNonNull(latency, "latency");
        }
    }

    /**
     * A management operation's answer.
     *
     * @param operation the method and path template, e.g. {@code POST /@connections/{id}} or
     *                  {@code POST /groups/{group}/:send}: never an id, user or group
     * @param status    the HTTP status answered
     */
    record ManagementEvent(String operation, int status) {
        /** Checks the operation is present. */
        public ManagementEvent {
            requireNonNull(operation, "operation");
        }
    }

    /**
     * A gateway's membership of a cluster.
     *
     * @param node    this node's id in the cluster's directory
     * @param members the number of nodes in the cluster now, this one included: cheap, for a gauge
     */
    record ClusterEvent(String node, IntSupplier members) {
        /** Checks the values are present. */
        public ClusterEvent {
            requireNonNull(node, "node");
            requireNonNull(members, "members");
        }
    }

    /**
     * An operation that went through the cluster.
     *
     * @param operation {@code send}, {@code info}, {@code close}, {@code join} or {@code leave} (forwarded to
     *                  one node), {@code send_audience}, {@code close_audience} or {@code revoke} (broadcast)
     * @param result    {@code ok}, {@code unreachable} (the node could not be reached: HTTP 503) or
     *                  {@code error} (the cluster failed otherwise)
     */
    record ForwardEvent(String operation, String result) {
        /** Checks the values are present. */
        public ForwardEvent {
            requireNonNull(operation, "operation");
            requireNonNull(result, "result");
        }
    }

    /**
     * A shared limit that fell back.
     *
     * @param limit    {@code rate}, {@code quota} or {@code connections}
     * @param fallback {@code local}, {@code open} or {@code closed}
     */
    record FallbackEvent(String limit, String fallback) {
        /** Checks the values are present. */
        public FallbackEvent {
            requireNonNull(limit, "limit");
            requireNonNull(fallback, "fallback");
        }
    }

    /**
     * The start of a drain.
     *
     * @param connections the connections open when it started
     * @param window      the window over which their closes are spread
     */
    record DrainEvent(int connections, Duration window) {
        /** Checks the window is present. */
        public DrainEvent {
            requireNonNull(window, "window");
        }
    }
}
