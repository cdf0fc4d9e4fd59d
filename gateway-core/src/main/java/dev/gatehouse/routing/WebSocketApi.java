package dev.gatehouse.routing;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import dev.gatehouse.internal.SelectionExpression;

/**
 * What a WebSocket API route does with its connections: the route selection expression that reads a route
 * key from each message, and the integration of each route key. Set it on a route instead of a backend.
 *
 * <pre>{@code
 * Route.builder("/api")
 *         .authenticator(jwt)
 *         .webSocketApi(WebSocketApi.builder()
 *                 .integration("$connect", Integration.http(URI.create("http://svc.internal:8000/connect")))
 *                 .integration("sendmessage", Integration.of(chat::send))
 *                 .integration("$default", Integration.http(URI.create("http://svc.internal:8000/default")))
 *                 .build())
 *         .build();
 * }</pre>
 *
 * <p>Each text message's route key is the selection expression's value (by default the JSON member
 * {@code action}); a message whose key has no integration goes to {@code $default}, and without one the
 * client gets {@code {"message":"Forbidden",...}} and stays connected. Text that is not JSON and binary
 * messages go to {@code $default}. {@code $connect} decides the handshake before the 101;
 * {@code $disconnect} runs once when the connection ends. Immutable.
 */
public final class WebSocketApi {

    /** The route selection expression unless set: the JSON member {@code action}. */
    public static final String DEFAULT_SELECTION = "$request.body.action";
    /** The integration timeout unless set, AWS's: 29 seconds. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(29);
    /** The message size limit of WebSocket API routes unless their settings say otherwise: 128 KiB. */
    public static final long DEFAULT_MAX_MESSAGE_SIZE = 128 * 1024;

    private final String selection;
    private final Map<String, Integration> integrations; // route key -> integration, in the order added
    private final Duration timeout;
    private final boolean replies;

    private WebSocketApi(Builder b) {
        this.selection = b.selection;
        this.integrations = Collections.unmodifiableMap(new LinkedHashMap<>(b.integrations));
        this.timeout = b.timeout;
        this.replies = b.replies;
    }

    /** Starts a WebSocket API. */
    public static Builder builder() {
        return new Builder();
    }

    /** The route selection expression, as written. */
    public String selection() {
        return selection;
    }

    /** The integrations by route key, in the order they were added. */
    public Map<String, Integration> integrations() {
        return integrations;
    }

    /** The integration of a route key. */
    public Optional<Integration> integration(String routeKey) {
        return Optional.ofNullable(integrations.get(requireNonNull(routeKey, "routeKey")));
    }

    /** How long an integration may take to answer one event. */
    public Duration timeout() {
        return timeout;
    }

    /** Whether integrations' answers to messages are sent to the client. */
    public boolean replies() {
        return replies;
    }

    @Override
    public String toString() {
        return "WebSocketApi[selection=" + selection + ", routes=" + integrations.keySet() + "]";
    }

    /** Builds a {@link WebSocketApi}. */
    public static final class Builder {
        private String selection = DEFAULT_SELECTION;
        private final Map<String, Integration> integrations = new LinkedHashMap<>();
        private Duration timeout = DEFAULT_TIMEOUT;
        private boolean replies = true;

        private Builder() {
        }

        /**
         * The route selection expression: {@code $request.body.<path>}, or a template of
         * {@code ${request.body.<path>}} parts and literal text, e.g. {@code ${request.body.service}/${request.body.action}};
         * a path is dotted names and {@code [n]} indexes. Checked at {@link WebSocketApi.Builder#build()}.
         */
        public Builder selection(String selection) {
            this.selection = requireNonNull(selection, "selection");
            return this;
        }

        /**
         * The integration of a route key: {@code $connect}, {@code $disconnect}, {@code $default}, or a key of
         * your own (case-sensitive, not starting with {@code $}).
         *
         * @throws IllegalArgumentException if the key is empty, starts with {@code $} but is none of the three,
         *                                  or already has an integration
         */
        public Builder integration(String routeKey, Integration integration) {
            requireNonNull(routeKey, "routeKey");
            requireNonNull(integration, "integration");
            if (routeKey.isEmpty()) {
                throw new IllegalArgumentException("routeKey: \"\" (expected: $connect, $disconnect, $default or a key of your own)");
            }
            if (routeKey.startsWith("$") && !routeKey.equals("$connect") && !routeKey.equals("$disconnect")
                    && !routeKey.equals("$default")) {
                throw new IllegalArgumentException("routeKey: " + routeKey
                        + " (expected: $connect, $disconnect, $default, or a key not starting with $)");
            }
            if (integrations.putIfAbsent(routeKey, integration) != null) {
                throw new IllegalArgumentException("routeKey: " + routeKey + " has two integrations (expected: one)");
            }
            return this;
        }

        /**
         * How long an integration may take to answer one event; 29 s by default.
         * A message's integration that does not answer in time is answered like a 500; a {@code $connect}
         * that does not gets the client 504.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder timeout(Duration timeout) {
            requireNonNull(timeout, "timeout");
            if (timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
            }
            this.timeout = timeout;
            return this;
        }

        /** Whether answers to messages are sent to the client; true by default. */
        public Builder replies(boolean replies) {
            this.replies = replies;
            return this;
        }

        /**
         * Builds the API.
         *
         * @throws IllegalStateException    if no route key but {@code $connect} or {@code $disconnect} has an
         *                                  integration: no message could go anywhere
         * @throws IllegalArgumentException if the selection expression is malformed
         */
        public WebSocketApi build() {
            boolean messages = integrations.keySet().stream()
                    .anyMatch(k -> !k.equals("$connect") && !k.equals("$disconnect"));
            if (!messages) {
                throw new IllegalStateException("integrations: none for messages (expected: $default or a route key of your own)");
            }
            SelectionExpression.parse(selection); // refuses a malformed expression now, not on the first message
            return new WebSocketApi(this);
        }
    }
}
