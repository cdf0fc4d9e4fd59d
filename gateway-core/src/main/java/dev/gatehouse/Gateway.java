package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.policy.Cidr;
import dev.gatehouse.internal.DefaultGateway;
import dev.gatehouse.spi.Cluster;
import dev.gatehouse.spi.GatewayListener;

/**
 * A WebSocket gateway: a route table with default settings, and the registry of the connections it
 * bridges. Build it once, then mount it on Jetty with {@code JettyGateway} from {@code gateway-jetty}:
 *
 * <pre>{@code
 * Gateway gateway = Gateway.builder()
 *         .route(Route.of("/echo", Backend.of("ws://localhost:9001/echo")))
 *         .settings(Settings.builder().idleTimeout(Duration.ofMinutes(5)).build())
 *         .build();
 * JettyGateway.install(gateway, servletContextHandler, "/*");
 * }</pre>
 *
 * <p>The settings and options are immutable; the route table can be replaced while the gateway runs, with
 * {@link #update(List)}, without dropping a connection. Instances come only from {@link #builder()}.
 */
public interface Gateway {

    /** Starts a gateway. */
    static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this gateway's routes, settings and options, to build a changed gateway from. The
     * gateway it builds is a new one, with a registry of its own; this one is not changed.
     */
    Builder toBuilder();

    /** The routes of the current route table, in the order they were added or given to {@link #update(List)}. */
    List<Route> routes();

    /** The version of the route table: 1 as built, one more for each {@link #update(List)} that changed it. */
    long version();

    /**
     * Replaces the route table, atomically, while the gateway runs:
     *
     * <pre>{@code
     * Gateway.Update u = gateway.update(List.of(chat, Route.of("/feed", Backend.of("ws://feed-b:7001/feed"))));
     * log.info("routes v{}: {} added, {} changed, {} removed", u.version(), u.added().size(),
     *         u.changed().size(), u.removed().size());
     * }</pre>
     *
     * <p>The new table is checked as {@link Builder#build()} checks its routes, and built whole before it
     * replaces the old one in a single step: handshakes that begin after this returns are routed by the new
     * table, and one in progress is routed by one table or the other, never a mix. Open connections keep what
     * they were accepted with (route, authenticator's verdict, backend target) and are never closed by an
     * update; the connections of a route that the new table no longer has stay until they end (see
     * {@link #update(List, Duration)} to close them). On a WebSocket API route, each message is routed by the
     * current version of its route: a changed selection expression, route key or integration takes effect
     * for the next message of connections already open, as long as the new table has a WebSocket API route
     * with the same host and path.
     *
     * <p>Routes are told apart by host and path template: a route of the new table whose host and path no
     * old route had is added; one whose host and path an old route had is unchanged when it is the same
     * {@link Route} object, and changed otherwise; an old route whose host and path the new table lacks is
     * removed. Pass the same objects for the routes that did not change: they keep their state (the
     * rate-limit buckets and quotas of their policies, the shared message buckets of their principals). A
     * route's connection limits count the connections open on its host and path, whichever version of it
     * accepted them; a backend group's balancer state (sessions per target, health) is kept while any route
     * has an equal group. An update that changes nothing touches nothing and keeps the version.
     *
     * <p>Thread-safe; updates run one at a time. The handshake path reads the table without a lock.
     *
     * @param routes the whole new route table
     * @return what changed, and the table's version now
     * @throws GatewayException if the new table is refused (no route, or two routes match the same requests);
     *                          the message names the problem, and the old table stays in place
     */
    Update update(List<Route> routes);

    /**
     * Replaces the route table as {@link #update(List)} does, and closes the connections whose route's host
     * and path the new table lacks (those of earlier updates too), as a drain does: each client gets its
     * route's {@link Settings#drainStatus()} (1012 "service restart" by default) and the backend 1001, at
     * moments spread evenly over {@code window}, so that clients do not all reconnect at once.
     *
     * @param drainRemoved the window over which to spread the closes; zero closes them all at once
     * @throws GatewayException         if the new table is refused; then no connection is closed
     * @throws IllegalArgumentException if the window is negative
     */
    Update update(List<Route> routes, Duration drainRemoved);

    /**
     * What an {@link #update(List)} did. Routes are told apart by host and path template.
     *
     * @param version the route table's version after the update; unchanged when the update changed nothing
     * @param added   the new table's routes whose host and path the old one lacked, in the new table's order
     * @param changed the new table's routes that replaced another route with the same host and path
     * @param removed the old table's routes whose host and path the new table lacks, in the old table's order
     * @param closing how many connections of removed routes the update is closing; 0 unless asked with
     *                {@link #update(List, Duration)}
     */
    record Update(long version, List<Route> added, List<Route> changed, List<Route> removed, int closing) {
        /** Copies the lists. */
        public Update {
            added = List.copyOf(added);
            changed = List.copyOf(changed);
            removed = List.copyOf(removed);
        }

        /** Whether the update left the table as it was: nothing added, changed or removed. */
        public boolean changedNothing() {
            return added.isEmpty() && changed.isEmpty() && removed.isEmpty();
        }
    }

    /** The default settings of routes that have none of their own. */
    Settings settings();

    /**
     * The authenticator of routes that have none of their own; {@link Authenticator#none()} unless set with
     * {@link Builder#authenticator(Authenticator)}.
     */
    Authenticator authenticator();

    /** The pre-handshake policies of routes that have none of their own, in the order they run. */
    List<Policy> policies();

    /** The open connections. */
    Connections connections();

    /**
     * Starts a graceful drain: new upgrades get 503 with {@code Retry-After}, and every open connection is
     * closed with its route's {@link Settings#drainStatus()} (the backend gets 1001), at moments spread
     * evenly over {@code window} so that clients do not all reconnect at once. Calling it again returns
     * the same future. There is no way back: a drained gateway stays closed to new upgrades.
     *
     * @param window the time over which to spread the closes; zero closes everything at once
     * @return completes when no connection is left
     */
    CompletableFuture<Void> drain(Duration window);

    /** Whether {@link #drain(Duration)} was called. */
    boolean isDraining();

    /** How the gateway connects to {@code wss://} backends. */
    BackendTls backendTls();

    /**
     * The window over which an adapter spreads the closes when its server stops; zero (all at once) unless
     * set with {@link Builder#drainWindow(Duration)}.
     */
    Duration drainWindow();

    /**
     * The data bytes the relay holds right now, summed over every connection: frames received on one leg and
     * not yet written to the other. Cheap enough for a metrics scrape (one pass over the open connections).
     */
    long pendingBytes();

    /** The listeners given to {@link Builder#listener(GatewayListener)}, in order. */
    List<GatewayListener> listeners();

    /** Builds a {@link Gateway}. */
    final class Builder {
        /** The default of {@link #maxConcurrentDials}, unless {@link #maxConnections} is smaller. */
        public static final int DEFAULT_CONCURRENT_DIALS = 4096;

        private final List<Route> routes = new ArrayList<>();
        private Settings settings = Settings.defaults();
        private Duration drainWindow = Duration.ZERO;
        private BackendTls backendTls = BackendTls.defaults();
        private final java.util.Map<Rejection, GatewayResponse> responses = new java.util.EnumMap<>(Rejection.class);
        private List<Cidr> trustedProxies = List.of();
        private int maxConnections;
        private int maxRequestHeaderBytes = 16 * 1024;
        private int maxRequestHeaders = 100;
        private int maxRequestUriLength = 8 * 1024;
        private int maxConcurrentDials; // 0: the default, see maxConcurrentDials()
        private AuthFailureLimit authFailureLimit = AuthFailureLimit.defaults();
        private Authenticator authenticator = Authenticator.none();
        private final List<Policy> policies = new ArrayList<>();
        private final List<GatewayListener> listeners = new ArrayList<>();
        private boolean logMessages;
        private String node = DefaultGateway.defaultNode();
        private Cluster cluster; // null: a single node

        private Builder() {
        }

        /**
         * Adds a listener of what the gateway does (handshakes, dials, messages, closes, integration calls,
         * management operations, drain), e.g. {@code GatehouseMetrics.of(registry)} from {@code gateway-micrometer}.
         * Several may be added; they are called in the order added.
         */
        public Builder listener(GatewayListener listener) {
            listeners.add(requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Whether the access log ({@code dev.gatehouse.access}) gets one line per message routed on a WebSocket
         * API route, with its route key and the integration's status and latency; off by default.
         */
        public Builder logMessages(boolean logMessages) {
            this.logMessages = logMessages;
            return this;
        }

        /**
         * The name of this gateway node in the access log's {@code node} field; by default the {@code HOSTNAME}
         * environment variable, else {@code gatehouse}.
         *
         * @throws IllegalArgumentException if it is blank
         */
        public Builder node(String node) {
            requireNonNull(node, "node");
            if (node.isBlank()) {
                throw new IllegalArgumentException("node: \"" + node + "\" (expected: a name)");
            }
            this.node = node;
            return this;
        }

        /**
         * Makes this gateway one node of a cluster, e.g. {@code HazelcastCluster.embedded(config)} from
         * {@code gateway-hazelcast}: {@link Gateway#connections()} then reaches the connections of every node (a
         * send, info, close, join or leave on another node's connection is forwarded to it; a send or close to
         * an audience, and a revocation, reach every node once). Without it the gateway is a single node and
         * nothing goes through a cluster. The gateway joins the cluster when it is built. A connection on this
         * node is always served locally; the relay never goes through the cluster. An operation on a connection
         * whose node cannot be reached fails with {@link NodeUnreachableException}; the info of a connection on
         * another node carries its principal's subject only.
         */
        public Builder cluster(Cluster cluster) {
            this.cluster = requireNonNull(cluster, "cluster");
            return this;
        }

        /**
         * The proxies (load balancers, CDNs) in front of the gateway whose {@code X-Forwarded-For} is believed:
         * IPv4 or IPv6 networks in CIDR notation, or single addresses. None by default, so that the client's
         * address is always the TCP peer's and a client cannot spoof it.
         *
         * <p>When the peer is in one of these networks, the client's address ({@link Handshake#clientAddress()})
         * is the right-most {@code X-Forwarded-For} entry that is not itself a trusted proxy (the left-most if
         * all are), and the backend's {@code X-Forwarded-For} is the incoming chain with the peer appended.
         * Otherwise the client is the peer and the backend's {@code X-Forwarded-For} is the peer alone.
         *
         * @throws IllegalArgumentException if an entry is not an address or CIDR
         */
        public Builder trustedProxies(String... cidrs) {
            List<Cidr> parsed = new ArrayList<>();
            for (String c : cidrs) {
                parsed.add(Cidr.parse(requireNonNull(c, "trustedProxies")));
            }
            this.trustedProxies = List.copyOf(parsed);
            return this;
        }

        /**
         * The most connections open at once through this gateway; beyond it, handshakes get 503
         * {@link Rejection#UNAVAILABLE} with {@code Retry-After}. No limit by default. A slot is held from
         * admission until the connection ends. Routes have their own limits: {@link Route.Builder#maxConnections}.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder maxConnections(int maxConnections) {
            this.maxConnections = positive(maxConnections, "maxConnections");
            return this;
        }

        /**
         * The most bytes of request headers (names and values, summed) a handshake may carry; beyond it: 431
         * {@link Rejection#REQUEST_HEADERS_TOO_LARGE}. 16 KiB by default. Jetty refuses requests whose header
         * block exceeds its own {@code HttpConfiguration.requestHeaderSize} (8 KiB by default) with 431 before
         * the gateway sees them.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder maxRequestHeaderBytes(int maxRequestHeaderBytes) {
            this.maxRequestHeaderBytes = positive(maxRequestHeaderBytes, "maxRequestHeaderBytes");
            return this;
        }

        /**
         * The most request header fields a handshake may carry; beyond it: 431
         * {@link Rejection#REQUEST_HEADERS_TOO_LARGE}. 100 by default.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder maxRequestHeaders(int maxRequestHeaders) {
            this.maxRequestHeaders = positive(maxRequestHeaders, "maxRequestHeaders");
            return this;
        }

        /**
         * The longest request path plus query string a handshake may have, in characters as received; beyond
         * it: 414 {@link Rejection#URI_TOO_LONG}. 8 KiB by default.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder maxRequestUriLength(int maxRequestUriLength) {
            this.maxRequestUriLength = positive(maxRequestUriLength, "maxRequestUriLength");
            return this;
        }

        /**
         * The most backend handshakes in flight at once to one backend (scheme, host and port); an upgraded
         * connection no longer counts. By default {@value #DEFAULT_CONCURRENT_DIALS}, the Linux default accept
         * backlog, so that a reconnect storm reaches the backend at once without overflowing its listen queue,
         * or {@link #maxConnections} when that is smaller. Further dials wait in a queue, each holding its
         * connection slot, until a dial finishes or their connect timeout ends; the queue holds at most
         * {@link #maxConnections} dials, or 16 times this limit when no connection limit is set, and a dial
         * beyond it gets 503 {@link Rejection#UNAVAILABLE} with {@code Retry-After}.
         *
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder maxConcurrentDials(int maxConcurrentDials) {
            this.maxConcurrentDials = positive(maxConcurrentDials, "maxConcurrentDials");
            return this;
        }

        /**
         * How many failed authentications a client address may have before it is refused for a cool-down (429
         * {@link Rejection#RATE_LIMITED} with {@code Retry-After}, for every handshake from that address);
         * {@link AuthFailureLimit#defaults()}, 60 a minute, unless set; {@link AuthFailureLimit#none()} turns it
         * off. See {@link AuthFailureLimit} for what counts.
         */
        public Builder authFailureLimit(AuthFailureLimit authFailureLimit) {
            this.authFailureLimit = requireNonNull(authFailureLimit, "authFailureLimit");
            return this;
        }

        private static int positive(int value, String name) {
            if (value < 1) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
            }
            return value;
        }

        /** How the gateway answers a kind of rejection, unless a route says otherwise. */
        public Builder response(Rejection kind, GatewayResponse response) {
            responses.put(requireNonNull(kind, "kind"), requireNonNull(response, "response"));
            return this;
        }

        /** How to connect to {@code wss://} backends; {@link BackendTls#defaults()} unless set. */
        public Builder backendTls(BackendTls backendTls) {
            this.backendTls = requireNonNull(backendTls, "backendTls");
            return this;
        }

        /**
         * The window over which stopping the server spreads the connections' closes (see
         * {@link Gateway#drain(Duration)}); zero by default. Stopping waits for the drain up to this window
         * plus the close timeout.
         */
        public Builder drainWindow(Duration drainWindow) {
            requireNonNull(drainWindow, "drainWindow");
            if (drainWindow.isNegative()) {
                throw new IllegalArgumentException("drainWindow: " + drainWindow + " (expected: >= 0)");
            }
            this.drainWindow = drainWindow;
            return this;
        }

        /**
         * The authenticator of every route that has none of its own ({@link Route.Builder#authenticator}); a
         * route's own replaces it, and {@link Authenticator#none()} on a route admits its clients without a
         * credential. {@link Authenticator#none()} unless set.
         *
         * <pre>{@code
         * Gateway.builder()
         *         .authenticator(ApiKeyAuthenticator.of(key, "web-app"))         // every route...
         *         .route(Route.of("/chat/{room}", chat))
         *         .route(Route.builder("/public").authenticator(Authenticator.none()) // ...but this one
         *                 .backend(feed).build())
         * }</pre>
         */
        public Builder authenticator(Authenticator authenticator) {
            this.authenticator = requireNonNull(authenticator, "authenticator");
            return this;
        }

        /**
         * Adds a pre-handshake policy of every route that has none of its own ({@link Route.Builder#policy});
         * they run in the order added, after authentication. A route with policies of its own runs those
         * instead, and {@link Policy#none()} on a route runs none.
         */
        public Builder policy(Policy policy) {
            policies.add(requireNonNull(policy, "policy"));
            return this;
        }

        /** Adds a route. */
        public Builder route(Route route) {
            routes.add(requireNonNull(route, "route"));
            return this;
        }

        /** The default settings; {@link Settings#defaults()} unless set. */
        public Builder settings(Settings settings) {
            this.settings = requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Builds the gateway.
         *
         * @throws IllegalStateException if there is no route, or two routes match the same requests
         */
        public Gateway build() {
            return new DefaultGateway(routes, settings, new DefaultGateway.Options(drainWindow, trustedProxies,
                    maxConnections, maxRequestHeaderBytes, maxRequestHeaders, maxRequestUriLength, maxConcurrentDials,
                    backendTls, responses, authFailureLimit, authenticator, policies, listeners, logMessages, node,
                    java.util.Optional.ofNullable(cluster)));
        }
    }
}
