package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.gatehouse.internal.PathTemplate;
import dev.gatehouse.routing.WebSocketApi;
import dev.gatehouse.session.MessageFilter;
import dev.gatehouse.session.MessageLimits;

/**
 * One entry of the gateway's route table: which upgrade requests it takes (path template and optional
 * host), how they are admitted (authenticator, then policies in order), where they go (backend), and,
 * optionally, settings that replace the gateway's.
 *
 * <p>A route without an authenticator of its own uses the gateway's ({@link Gateway.Builder#authenticator}),
 * and one without policies of its own uses the gateway's ({@link Gateway.Builder#policy}). A route's own
 * replace them: {@link Authenticator#none()} lets every client in on a gateway that requires a credential,
 * and {@link Policy#none()} runs no policy where the gateway has some.
 *
 * <pre>{@code
 * Route chat = Route.builder("/chat/{room}")
 *         .authenticator(ApiKeyAuthenticator.builder().key(secret, "mobile-app").build())
 *         .policy(OriginPolicy.allow("https://app.example.com"))
 *         .backend(Backend.of("ws://chat.internal:9000/rooms/{room}"))
 *         .build();
 * }</pre>
 *
 * <p>Path templates: literal segments, {@code {name}} parameters matching one segment, and an optional
 * trailing {@code /*} that matches the rest of the path (also nothing). The most specific route wins:
 * literal segments beat parameters, which beat the wildcard; a route with a host beats one without.
 */
public final class Route {

    private final String path;
    private final String host; // null: any host
    private final Authenticator authenticator; // null: the gateway's
    private final List<Policy> policies;
    private final MessageFilter clientMessages;  // null: none
    private final MessageFilter backendMessages; // null: none
    private final MessageLimits messageLimits;   // null: none
    private final Map<Rejection, GatewayResponse> responses;
    private final boolean forwardCredentials;
    private final Backend backend;           // null for a WebSocket API route
    private final WebSocketApi webSocketApi; // null for a proxy route
    private final Settings settings; // null: the gateway's
    private final int maxConnections;             // 0: no limit
    private final int maxConnectionsPerPrincipal; // 0: no limit
    private final int maxConnectionsPerIp;        // 0: no limit

    private Route(Builder b) {
        this.path = b.path;
        this.host = b.host;
        this.authenticator = b.authenticator;
        this.policies = List.copyOf(b.policies);
        this.clientMessages = b.clientMessages;
        this.backendMessages = b.backendMessages;
        this.messageLimits = b.messageLimits;
        this.responses = Map.copyOf(b.responses);
        this.forwardCredentials = b.forwardCredentials;
        this.backend = b.backend;
        this.webSocketApi = b.webSocketApi;
        this.settings = b.settings;
        this.maxConnections = b.maxConnections;
        this.maxConnectionsPerPrincipal = b.maxConnectionsPerPrincipal;
        this.maxConnectionsPerIp = b.maxConnectionsPerIp;
    }

    /** A route with no authenticator and no policies of its own: the gateway's apply. */
    public static Route of(String path, Backend backend) {
        return builder(path).backend(backend).build();
    }

    /**
     * Starts a route for a path template.
     *
     * @throws IllegalArgumentException if the template is malformed
     */
    public static Builder builder(String path) {
        return new Builder(path);
    }

    /** Returns a builder holding this route's values. */
    public Builder toBuilder() {
        Builder b = new Builder(path);
        b.host = host;
        b.authenticator = authenticator;
        b.policies.addAll(policies);
        b.clientMessages = clientMessages;
        b.backendMessages = backendMessages;
        b.messageLimits = messageLimits;
        b.responses.putAll(responses);
        b.forwardCredentials = forwardCredentials;
        b.backend = backend;
        b.webSocketApi = webSocketApi;
        b.settings = settings;
        b.maxConnections = maxConnections;
        b.maxConnectionsPerPrincipal = maxConnectionsPerPrincipal;
        b.maxConnectionsPerIp = maxConnectionsPerIp;
        return b;
    }

    /** The path template, e.g. {@code /chat/{room}}. */
    public String path() {
        return path;
    }

    /** The host this route is limited to, e.g. {@code api.example.com} or {@code *.example.com}. */
    public Optional<String> host() {
        return Optional.ofNullable(host);
    }

    /**
     * The route's own authenticator; empty when it has none, and the gateway's ({@link Gateway#authenticator()})
     * authenticates its clients.
     */
    public Optional<Authenticator> authenticator() {
        return Optional.ofNullable(authenticator);
    }

    /**
     * The route's own pre-handshake policies, in the order they run; empty when it has none, and the gateway's
     * ({@link Gateway#policies()}) run.
     */
    public List<Policy> policies() {
        return policies;
    }

    /** The filter of the messages clients send. */
    public Optional<MessageFilter> clientMessages() {
        return Optional.ofNullable(clientMessages);
    }

    /** The filter of the messages the backend sends. */
    public Optional<MessageFilter> backendMessages() {
        return Optional.ofNullable(backendMessages);
    }

    /** The rate limits on the messages clients send. */
    public Optional<MessageLimits> messageLimits() {
        return Optional.ofNullable(messageLimits);
    }

    /** How this route answers kinds of rejection, over the gateway's {@link GatewayResponse}s. */
    public Map<Rejection, GatewayResponse> responses() {
        return responses;
    }

    /** Whether the client's credential (header, query parameter or cookie) reaches the backend too. */
    public boolean forwardsCredentials() {
        return forwardCredentials;
    }

    /** The backend of a proxy route; empty for a WebSocket API route. */
    public Optional<Backend> backend() {
        return Optional.ofNullable(backend);
    }

    /** What a WebSocket API route does with messages; empty for a proxy route. */
    public Optional<WebSocketApi> webSocketApi() {
        return Optional.ofNullable(webSocketApi);
    }

    /** This route's settings, when they replace the gateway's. */
    public Optional<Settings> settings() {
        return Optional.ofNullable(settings);
    }

    /** The most connections open at once on this route; 0 (the default) for no limit. */
    public int maxConnections() {
        return maxConnections;
    }

    /** The most connections open at once on this route per principal (anonymous: per client address); 0 for none. */
    public int maxConnectionsPerPrincipal() {
        return maxConnectionsPerPrincipal;
    }

    /** The most connections open at once on this route per client address; 0 for no limit. */
    public int maxConnectionsPerIp() {
        return maxConnectionsPerIp;
    }

    @Override
    public String toString() {
        return "Route[" + (host == null ? "" : host) + path + "]";
    }

    /** Builds a {@link Route}. */
    public static final class Builder {
        private final String path;
        private final PathTemplate template; // the parsed path, to check the backend against
        private String host;
        private Authenticator authenticator;
        private final List<Policy> policies = new ArrayList<>();
        private MessageFilter clientMessages;
        private MessageFilter backendMessages;
        private MessageLimits messageLimits;
        private final Map<Rejection, GatewayResponse> responses = new EnumMap<>(Rejection.class);
        private boolean forwardCredentials;
        private Backend backend;
        private WebSocketApi webSocketApi;
        private Settings settings;
        private int maxConnections;
        private int maxConnectionsPerPrincipal;
        private int maxConnectionsPerIp;

        private Builder(String path) {
            this.path = requireNonNull(path, "path");
            this.template = PathTemplate.parse(path);
        }

        /**
         * Limits the route to one host (case-insensitive, port ignored), or to the subdomains of one with
         * {@code *.example.com}.
         */
        public Builder host(String host) {
            requireNonNull(host, "host");
            String h = host.toLowerCase(Locale.ROOT);
            String bare = h.startsWith("*.") ? h.substring(2) : h;
            if (bare.isEmpty() || bare.contains("*") || bare.contains("/") || bare.contains(":")) {
                throw new IllegalArgumentException("host: " + host + " (expected: a host name or *.domain)");
            }
            this.host = h;
            return this;
        }

        /**
         * The route's own authenticator, which replaces the gateway's; {@link Authenticator#none()} admits
         * clients without a credential. Without one, the gateway's authenticates this route's clients.
         */
        public Builder authenticator(Authenticator authenticator) {
            this.authenticator = requireNonNull(authenticator, "authenticator");
            return this;
        }

        /**
         * Adds a policy of the route's own; policies run in the order added. A route with policies of its own
         * runs those instead of the gateway's ({@link Policy#none()} for none at all).
         */
        public Builder policy(Policy policy) {
            policies.add(requireNonNull(policy, "policy"));
            return this;
        }

        /** A filter for every message clients send on this route: validation, transformation, interception. */
        public Builder clientMessages(MessageFilter filter) {
            this.clientMessages = requireNonNull(filter, "filter");
            return this;
        }

        /** A filter for every message the backend sends on this route. */
        public Builder backendMessages(MessageFilter filter) {
            this.backendMessages = requireNonNull(filter, "filter");
            return this;
        }

        /** Rate limits on the messages clients send. */
        public Builder messageLimits(MessageLimits limits) {
            this.messageLimits = requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Forwards the client's credential to the backend as it came (an {@code Authorization} header, an
         * API key, a token in the query or a cookie), for backends that check it again. Off by default: the
         * backend gets the identity headers instead. The browser subprotocol pair is never forwarded.
         */
        public Builder forwardCredentials(boolean forward) {
            this.forwardCredentials = forward;
            return this;
        }

        /** How this route answers a kind of rejection, over the gateway's setting. */
        public Builder response(Rejection kind, GatewayResponse response) {
            responses.put(requireNonNull(kind, "kind"), requireNonNull(response, "response"));
            return this;
        }

        /** The backend, which makes this a proxy route; a route has a backend or a WebSocket API. */
        public Builder backend(Backend backend) {
            this.backend = requireNonNull(backend, "backend");
            return this;
        }

        /**
         * Makes this a WebSocket API route: the gateway terminates the client's WebSocket and routes each
         * message to an integration. The gateway buffers these messages whole, so the route always has a size
         * limit: {@link WebSocketApi#DEFAULT_MAX_MESSAGE_SIZE} where the settings leave theirs at the default
         * or unlimited, else theirs.
         */
        public Builder webSocketApi(WebSocketApi webSocketApi) {
            this.webSocketApi = requireNonNull(webSocketApi, "webSocketApi");
            return this;
        }

        /** Settings that replace the gateway's for this route. */
        public Builder settings(Settings settings) {
            this.settings = requireNonNull(settings, "settings");
            return this;
        }

        /**
         * The most connections open at once on this route; beyond it, handshakes get 429
         * {@link Rejection#TOO_MANY_CONNECTIONS}. A slot is held from admission until the connection ends.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder maxConnections(int maxConnections) {
            this.maxConnections = positive(maxConnections, "maxConnections");
            return this;
        }

        /**
         * The most connections one principal (by subject) may have open at once on this route; anonymous
         * handshakes are counted per client address instead. Beyond it: 429 {@link Rejection#TOO_MANY_CONNECTIONS}.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder maxConnectionsPerPrincipal(int maxConnectionsPerPrincipal) {
            this.maxConnectionsPerPrincipal = positive(maxConnectionsPerPrincipal, "maxConnectionsPerPrincipal");
            return this;
        }

        /**
         * The most connections one client address ({@link Handshake#clientAddress()}) may have open at once on
         * this route. Beyond it: 429 {@link Rejection#TOO_MANY_CONNECTIONS}.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder maxConnectionsPerIp(int maxConnectionsPerIp) {
            this.maxConnectionsPerIp = positive(maxConnectionsPerIp, "maxConnectionsPerIp");
            return this;
        }

        private static int positive(int value, String name) {
            if (value < 1) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
            }
            return value;
        }

        /**
         * Builds the route.
         *
         * @throws IllegalStateException if neither or both of a backend and a WebSocket API are set, or the
         *                               backend template uses a parameter the path does not define
         */
        public Route build() {
            if (backend == null && webSocketApi == null) {
                throw new IllegalStateException("backend: not set for route " + path + " (expected: a backend or a WebSocket API)");
            }
            if (backend != null && webSocketApi != null) {
                throw new IllegalStateException("backend: set for route " + path
                        + ", which has a WebSocket API (expected: one of the two)");
            }
            if (backend != null) {
                template.checkBackend(backend, path);
            }
            return new Route(this);
        }
    }
}
