package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Authenticator;
import dev.gatehouse.BackendTls;
import dev.gatehouse.Connections;
import dev.gatehouse.Gateway;
import dev.gatehouse.GatewayException;
import dev.gatehouse.GatewayResponse;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;
import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.policy.Cidr;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.Cluster;
import dev.gatehouse.spi.GatewayListener;

/** The {@link Gateway} implementation: its lifecycle and drain, the registry, the timer, and the wiring of the pipeline. */
public final class DefaultGateway implements Gateway {

    private static final Logger LOG = LoggerFactory.getLogger(DefaultGateway.class);

    /** Seconds a client is told to wait before retrying a drained gateway. */
    private static final String DRAIN_RETRY_AFTER = "5";

    private final Settings settings;
    private final Duration drainWindow;
    private final BackendTls backendTls;
    private final Options options;
    private final ConnectionLimits connectionLimits;
    private volatile Table table; // the current route table; replaced whole by update(), under this
    private final Rejections rejections;
    private final HandshakePipeline pipeline;
    private final Registry registry;
    private final Connections connections; // the registry itself on a single node, else the cluster's view of it
    private final ConcurrentHashMap<BackendGroup, Balancer> balancers = new ConcurrentHashMap<>(); // by value: equal groups share
    private final PrincipalBuckets principalBuckets = new PrincipalBuckets();
    private final Ticker ticker;
    private final Integrations integrations;
    private final HealthChecks healthChecks;
    private final LongAdder abandonedDials = new LongAdder();
    private final Listeners listeners; // null when no listener is registered: the hot path checks this only
    private CompletableFuture<Void> drained; // null until drain() is called; guarded by this
    private volatile boolean draining; // set once, by the first drain(), and never cleared

    /**
     * The gateway-wide options of {@link Gateway.Builder}, validated by it.
     *
     * @param drainWindow           see {@link Gateway.Builder#drainWindow}
     * @param trustedProxies        see {@link Gateway.Builder#trustedProxies}
     * @param maxConnections        see {@link Gateway.Builder#maxConnections}; 0 for no limit
     * @param maxRequestHeaderBytes see {@link Gateway.Builder#maxRequestHeaderBytes}
     * @param maxRequestHeaders     see {@link Gateway.Builder#maxRequestHeaders}
     * @param maxRequestUriLength   see {@link Gateway.Builder#maxRequestUriLength}
     * @param maxConcurrentDials    see {@link Gateway.Builder#maxConcurrentDials}; 0 for the default
     * @param backendTls            see {@link Gateway.Builder#backendTls}
     * @param responses             see {@link Gateway.Builder#response}
     * @param authFailureLimit      see {@link Gateway.Builder#authFailureLimit}
     * @param authenticator         see {@link Gateway.Builder#authenticator}
     * @param policies              see {@link Gateway.Builder#policy}
     * @param listeners             see {@link Gateway.Builder#listener}
     * @param logMessages           see {@link Gateway.Builder#logMessages}
     * @param node                  see {@link Gateway.Builder#node}
     * @param cluster               see {@link Gateway.Builder#cluster}; empty for a single node
     */
    public record Options(Duration drainWindow, List<Cidr> trustedProxies, int maxConnections,
            int maxRequestHeaderBytes, int maxRequestHeaders, int maxRequestUriLength, int maxConcurrentDials,
            BackendTls backendTls,
            Map<Rejection, GatewayResponse> responses, AuthFailureLimit authFailureLimit,
            Authenticator authenticator, List<Policy> policies,
            List<GatewayListener> listeners, boolean logMessages, String node, Optional<Cluster> cluster) {
        /** Checks the values are present and copies the responses and listeners. */
        public Options {
            requireNonNull(drainWindow, "drainWindow");
            requireNonNull(trustedProxies, "trustedProxies");
            requireNonNull(backendTls, "backendTls");
            requireNonNull(authFailureLimit, "authFailureLimit");
            requireNonNull(authenticator, "authenticator");
            policies = List.copyOf(policies);
            requireNonNull(node, "node");
            requireNonNull(cluster, "cluster");
            trustedProxies = List.copyOf(trustedProxies);
            responses = Map.copyOf(responses);
            listeners = List.copyOf(listeners);
        }

        /** The bound on concurrent dials: the one set, else the default, or maxConnections when smaller. */
        int concurrentDials() {
            if (maxConcurrentDials > 0) {
                return maxConcurrentDials;
            }
            return maxConnections > 0 ? Math.min(maxConnections, Gateway.Builder.DEFAULT_CONCURRENT_DIALS)
                    : Gateway.Builder.DEFAULT_CONCURRENT_DIALS;
        }
    }

    /**
     * One version of the route table, immutable: what every handshake that reads it is routed by.
     *
     * @param version the table's version: 1 as built, one more for each update that changed it
     * @param routes  the routes, in the order given
     * @param matcher the routes ordered for matching
     * @param byKey   each route by its host and path ({@link RouteTable#key})
     */
    private record Table(long version, List<Route> routes, RouteTable matcher, Map<String, Route> byKey) {
        static Table of(long version, List<Route> routes, RouteTable matcher) {
            Map<String, Route> byKey = new HashMap<>();
            routes.forEach(r -> byKey.put(RouteTable.key(r), r));
            return new Table(version, routes, matcher, Map.copyOf(byKey));
        }
    }

    /** Validates the routes and builds the table; see {@link Gateway.Builder#build()}. */
    public DefaultGateway(List<Route> routes, Settings settings, Options options) {
        this(routes, settings, options, new SystemTicker());
    }

    private DefaultGateway(List<Route> routes, Settings settings, Options options, Ticker ticker) {
        List<Route> copy = List.copyOf(routes);
        this.settings = requireNonNull(settings, "settings");
        this.options = requireNonNull(options, "options");
        this.drainWindow = options.drainWindow();
        this.backendTls = options.backendTls();
        this.ticker = requireNonNull(ticker, "ticker");
        this.listeners = Listeners.of(options.listeners());
        this.table = Table.of(1, copy, new RouteTable(copy, settings, options.authenticator(), options.policies()));
        this.registry = new Registry(ticker, new Revocations());
        Cluster.Node member = options.cluster()
                .map(c -> c.join(options.node(), new ClusterConnections.Requests(registry, listeners)))
                .orElse(null);
        this.connectionLimits = new ConnectionLimits(options.maxConnections(), member);
        this.rejections = new Rejections(options.responses(), this);
        this.pipeline = new HandshakePipeline(() -> table.matcher(), settings, options, connectionLimits, rejections,
                () -> draining, ticker, group -> balancers.computeIfAbsent(group, g -> new Balancer(g, ticker)),
                registry.revocations());
        this.integrations = new Integrations(ticker, this);
        this.healthChecks = new HealthChecks(ticker, this::balancer, () -> ThreadLocalRandom.current().nextDouble());
        if (member != null) {
            registry.cluster(member);
            this.connections = new ClusterConnections(registry, member, listeners);
            if (listeners != null) {
                listeners.built(this);
                listeners.clusterJoined(new GatewayListener.ClusterEvent(member.id(), member::members));
            }
        } else {
            this.connections = registry;
            if (listeners != null) {
                listeners.built(this);
            }
        }
    }

    /** The node name of a gateway built without {@link Gateway.Builder#node}: {@code HOSTNAME}, else {@code gatehouse}. */
    public static String defaultNode() {
        String host = System.getenv("HOSTNAME");
        return host == null || host.isBlank() ? "gatehouse" : host;
    }

    /** The listeners as one, or null when there is none. */
    Listeners observers() {
        return listeners;
    }

    /**
     * A request admitted and still being dialled or upgraded is refused: its bridge reports a dial still
     * unreported as failed, so that listeners hear of the dial before the refusal.
     *
     * @return the nanoTime at which its handshake pipeline began, or -1 when no such connection is known
     */
    long refused(String requestId) {
        Bridge b = registry.find(requestId);
        if (b == null) {
            return -1;
        }
        b.dialed(false);
        return b.handshakeStart();
    }

    /** This gateway's node name, for the access log. */
    String node() {
        return options.node();
    }

    /** Whether the access log gets a line per routed message. */
    boolean logMessages() {
        return options.logMessages();
    }

    @Override
    public List<GatewayListener> listeners() {
        return options.listeners();
    }

    @Override
    public long pendingBytes() {
        long sum = 0;
        for (Bridge b : registry.all()) {
            sum += b.pendingBytes();
        }
        return sum;
    }

    /**
     * A gateway with the routes, settings and options of one built by {@link Gateway#builder()}, whose
     * connections read the time from, and schedule their timers on, this ticker instead of the system's.
     */
    static DefaultGateway of(Gateway gateway, Ticker ticker) {
        DefaultGateway built = of(gateway);
        return new DefaultGateway(built.routes(), built.settings, built.options, ticker);
    }

    /**
     * The implementation behind a {@link Gateway}.
     *
     * @throws IllegalArgumentException if the gateway was not built by {@link Gateway#builder()}
     */
    public static DefaultGateway of(Gateway gateway) {
        requireNonNull(gateway, "gateway");
        if (gateway instanceof DefaultGateway) {
            return (DefaultGateway) gateway;
        }
        throw new IllegalArgumentException("gateway: " + gateway.getClass().getName()
                + " (expected: a gateway built by Gateway.builder())");
    }

    /** The gateway-wide options it was built with. */
    Options options() {
        return options;
    }

    @Override
    public Gateway.Builder toBuilder() {
        Gateway.Builder b = Gateway.builder()
                .settings(settings)
                .drainWindow(options.drainWindow())
                .backendTls(options.backendTls())
                .authFailureLimit(options.authFailureLimit())
                .authenticator(options.authenticator())
                .trustedProxies(options.trustedProxies().stream().map(Cidr::toString).toArray(String[]::new))
                .maxRequestHeaderBytes(options.maxRequestHeaderBytes())
                .maxRequestHeaders(options.maxRequestHeaders())
                .maxRequestUriLength(options.maxRequestUriLength())
                .logMessages(options.logMessages())
                .node(options.node());
        options.cluster().ifPresent(b::cluster);
        options.listeners().forEach(b::listener);
        if (options.maxConnections() > 0) {
            b.maxConnections(options.maxConnections());
        }
        if (options.maxConcurrentDials() > 0) {
            b.maxConcurrentDials(options.maxConcurrentDials());
        }
        options.responses().forEach(b::response);
        options.policies().forEach(b::policy);
        routes().forEach(b::route);
        return b;
    }

    @Override
    public List<Route> routes() {
        return table.routes();
    }

    @Override
    public long version() {
        return table.version();
    }

    @Override
    public Update update(List<Route> routes) {
        return apply(routes, null);
    }

    @Override
    public Update update(List<Route> routes, Duration drainRemoved) {
        requireNonNull(drainRemoved, "drainRemoved");
        if (drainRemoved.isNegative()) {
            throw new IllegalArgumentException("drainRemoved: " + drainRemoved + " (expected: >= 0)");
        }
        return apply(routes, drainRemoved);
    }

    /**
     * Builds the new table completely, then puts it in place with one write; updates run one at a time. Routes
     * are the same when they are the same object; a route of the new table whose host and path an old route
     * had is a changed one.
     */
    private synchronized Update apply(List<Route> routes, Duration drainRemoved) {
        requireNonNull(routes, "routes");
        for (int i = 0; i < routes.size(); i++) {
            requireNonNull(routes.get(i), "routes[" + i + "]");
        }
        List<Route> copy = List.copyOf(routes);
        Table old = table;
        RouteTable matcher;
        try {
            matcher = new RouteTable(copy, settings, options.authenticator(), options.policies());
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new GatewayException("update refused: " + e.getMessage() + "; the route table stays at version "
                    + old.version(), e);
        }
        List<Route> added = new ArrayList<>();
        List<Route> changed = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        for (Route r : copy) {
            String key = RouteTable.key(r);
            keys.add(key);
            Route before = old.byKey().get(key);
            if (before == null) {
                added.add(r);
            } else if (before != r) {
                changed.add(r);
            }
        }
        List<Route> removed = old.routes().stream().filter(r -> !keys.contains(RouteTable.key(r))).toList();
        if (added.isEmpty() && changed.isEmpty() && removed.isEmpty()) {
            // Only the connections of routes removed by earlier updates can be left to close.
            return new Update(old.version(), List.of(), List.of(), List.of(),
                    drainRemoved == null ? 0 : drainRemoved(old, drainRemoved));
        }
        Table next = Table.of(old.version() + 1, copy, matcher);
        table = next;
        retireBalancers(copy);
        healthChecks.follow(copy); // probes for the new groups, none for the groups gone
        int closing = drainRemoved == null ? 0 : drainRemoved(next, drainRemoved);
        LOG.info("Route table version {}: {} added, {} changed, {} removed{}", next.version(), added.size(),
                changed.size(), removed.size(), drainRemoved == null ? "" : "; closing " + closing
                        + " connection(s) of removed routes over " + drainRemoved);
        return new Update(next.version(), added, changed, removed, closing);
    }

    /**
     * Forgets the live state of the backend groups that no route of the table has: their open sessions keep
     * the balancer they were counted in, and a group that comes back starts afresh.
     */
    private void retireBalancers(List<Route> routes) {
        Set<BackendGroup> inUse = new HashSet<>();
        for (Route r : routes) {
            if (r.backend().orElse(null) instanceof BackendGroup g) {
                inUse.add(g);
            }
        }
        balancers.keySet().removeIf(g -> !inUse.contains(g));
    }

    /**
     * Closes the connections whose route's host and path no route of the table has, as a drain does, at
     * moments spread evenly over the window; returns how many.
     */
    private int drainRemoved(Table next, Duration window) {
        List<Bridge> orphans = registry.all().stream()
                .filter(b -> !next.byKey().containsKey(RouteTable.key(b.route()))).toList();
        Spread.over(ticker, orphans, window, Bridge::drain);
        return orphans.size();
    }

    /**
     * The version of a WebSocket API route that the next message of a connection it accepted is routed by:
     * the current table's route with the same host and path, while that is a WebSocket API route, else the
     * route it was accepted with. Cheap: the lookup is made again only when the table changed.
     */
    Supplier<Route> current(Route accepted) {
        String key = RouteTable.key(accepted);
        return new Supplier<>() {
            private volatile Seen seen = new Seen(null, accepted); // the last table looked at and its answer

            @Override
            public Route get() {
                Table t = table;
                Seen s = seen;
                if (s.table() != t) {
                    Route now = t.byKey().get(key);
                    s = new Seen(t, now != null && now.webSocketApi().isPresent() ? now : accepted);
                    seen = s;
                }
                return s.route();
            }
        };
    }

    private record Seen(Table table, Route route) {
    }

    /** The live state kept for a backend group, or null when none is kept; never creates one. For tests. */
    Balancer keptBalancer(BackendGroup group) {
        return balancers.get(group);
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    public Authenticator authenticator() {
        return options.authenticator();
    }

    @Override
    public List<Policy> policies() {
        return options.policies();
    }

    @Override
    public Connections connections() {
        return connections;
    }

    Registry registry() {
        return registry;
    }

    /** The gateway's clocks and timer. */
    Ticker ticker() {
        return ticker;
    }

    /** Runs a task after a delay on the gateway's timer thread; a cancelled task is forgotten at once. */
    public Future<?> schedule(Runnable task, Duration delay) {
        return ticker.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Drops every connection left, without close handshakes: the last step of stopping. */
    public void abortAll() {
        registry.all().forEach(Bridge::abort);
    }

    /**
     * Counts a backend connection that the gateway closed right after its dial was abandoned: the backend
     * answered 101 but the client will not be upgraded (a bad handshake response, a dial that answered
     * after its deadline, a client that gave up or whose own upgrade failed).
     */
    public void abandonedDial() {
        abandonedDials.increment();
    }

    /** How many backend connections were closed because their dial was abandoned. */
    public long abandonedDials() {
        return abandonedDials.sum();
    }

    /**
     * The most backend dials that wait for one backend beyond {@link #maxConcurrentDials()}: the global
     * connection limit, whose slots they hold, else 16 times the dial limit.
     */
    public int maxQueuedDials() {
        return options.maxConnections() > 0 ? options.maxConnections()
                : (int) Math.min(Integer.MAX_VALUE, 16L * options.concurrentDials());
    }

    /** The most backend handshakes in flight at once to one backend; see {@link Gateway.Builder#maxConcurrentDials}. */
    public int maxConcurrentDials() {
        return options.concurrentDials();
    }

    @Override
    public BackendTls backendTls() {
        return backendTls;
    }

    @Override
    public Duration drainWindow() {
        return drainWindow;
    }

    @Override
    public boolean isDraining() {
        return draining;
    }

    @Override
    public synchronized CompletableFuture<Void> drain(Duration window) {
        requireNonNull(window, "window");
        if (window.isNegative()) {
            throw new IllegalArgumentException("window: " + window + " (expected: >= 0)");
        }
        if (drained != null) {
            return drained;
        }
        draining = true;
        drained = registry.whenEmpty();
        List<Bridge> bridges = registry.all();
        if (listeners != null) {
            // Before any close, so that listeners hear of the drain before the connections it ends.
            listeners.drainStarted(new GatewayListener.DrainEvent(bridges.size(), window));
        }
        Spread.over(ticker, bridges, window, Bridge::drain);
        LOG.info("Draining {} connection(s) over {}", bridges.size(), window);
        return drained;
    }

    /**
     * Starts the active health checks of the routes' backend groups, probing with {@code prober}; the adapter
     * calls it when its mount starts. Does nothing when they already run.
     */
    public void startHealthChecks(HealthProber prober) {
        healthChecks.start(requireNonNull(prober, "prober"), routes());
    }

    /** Stops the active health checks, when the mount stops: no probe starts after this call. */
    public void stopHealthChecks() {
        healthChecks.stop();
    }

    /** The live state of a backend group, shared by equal groups. */
    Balancer balancer(BackendGroup group) {
        return balancers.computeIfAbsent(group, g -> new Balancer(g, ticker));
    }

    /** The message buckets a principal shares across its connections on a route; see {@link PrincipalBuckets}. */
    TokenBucket[] principalBuckets(Route route, Handshake h) {
        return principalBuckets.of(route, h);
    }

    /** How this gateway calls its WebSocket API routes' integrations; an adapter gives it its pool and HTTP client. */
    public Integrations integrations() {
        return integrations;
    }

    /**
     * Runs {@code $connect} for an admitted request of a WebSocket API route whose bridge was created. The
     * stage always completes normally; on a refusal the adapter abandons the bridge and answers the refusal.
     *
     * @throws IllegalArgumentException if the route is a proxy route
     */
    public CompletionStage<Integrations.Connect> connectApi(Admission.Admitted admission, Bridge bridge) {
        WebSocketApi api = admission.route().webSocketApi()
                .orElseThrow(() -> new IllegalArgumentException("admission: " + admission.route() + " is a proxy route"));
        RouteEvent event = new RouteEvent(RouteEvent.Type.CONNECT, "$connect", bridge.id(),
                admission.handshake().requestId(), Optional.empty(), bridge.admittedAt(), ticker.now(),
                admission.handshake(), Optional.empty(), Optional.empty());
        return integrations.connect(admission.route(), api, event, admission.subprotocols());
    }

    /**
     * The backend leg of a WebSocket API connection whose {@code $connect} accepted it, attached to its
     * bridge, which takes the user and groups {@code $connect} named; pass it to {@link Bridge#backendConnected}.
     */
    public Channel integrationLeg(Admission.Admitted admission, Bridge bridge, Integrations.Connect.Accepted accepted) {
        bridge.identify(accepted.user(), accepted.groups());
        return integrationLeg(admission, bridge);
    }

    /**
     * The backend leg of a WebSocket API connection, attached to its bridge, with the user and groups it has.
     * Each message is routed by the current version of its route ({@link #current}).
     */
    Channel integrationLeg(Admission.Admitted admission, Bridge bridge) {
        if (admission.route().webSocketApi().isEmpty()) {
            throw new IllegalArgumentException("admission: " + admission.route() + " is a proxy route");
        }
        IntegrationLeg.Invoker invoker = new IntegrationLeg.Invoker() {
            @Override
            public CompletionStage<Reply> invoke(Route route, Integration integration, RouteEvent event) {
                return integrations.invoke(route, integration, event, route.webSocketApi().orElseThrow().timeout());
            }

            @Override
            public CompletionStage<Reply> disconnect(Route route, Integration integration, RouteEvent event) {
                return integrations.invokeDisconnect(route, integration, event, route.webSocketApi().orElseThrow().timeout());
            }

            @Override
            public void disconnectFailed() {
                integrations.disconnectFailed();
            }
        };
        IntegrationLeg leg = new IntegrationLeg(current(admission.route()), invoker, bridge.id(), admission.handshake(),
                bridge.admittedAt(), ticker,
                admission.settings().maxBackendMessageSize() == 0 ? Long.MAX_VALUE : admission.settings().maxBackendMessageSize(),
                admission.route().path());
        leg.attach(bridge.backendHandler(), bridge::clientCloseStatus);
        return leg;
    }

    /** The 503 of a handshake that meets a draining gateway, with {@code Retry-After}. */
    public static Verdict.Reject shuttingDown() {
        return Verdict.reject(Rejection.UNAVAILABLE, "the gateway is shutting down")
                .withHeader("Retry-After", DRAIN_RETRY_AFTER);
    }

    /** Whether a route matches the request's host and path. */
    public boolean hasRoute(Handshake request) {
        return table.matcher().match(request.hostName(), request.path()) != null;
    }

    ConnectionLimits connectionLimits() {
        return connectionLimits;
    }

    /**
     * Runs the handshake pipeline ({@link HandshakePipeline}) on a request: a rejection, logged, or an
     * admission that holds the request's connection slots until {@link #newBridge} hands them to the bridge.
     */
    public Admission admit(Handshake request) {
        return pipeline.admit(request);
    }

    /** How this gateway answers and logs rejected handshakes. */
    public Rejections rejections() {
        return rejections;
    }

    /**
     * Creates the bridge of an admitted request and registers it; the adapter then dials the backend. The
     * admission's connection slots pass to the bridge, which gives them back when it leaves the registry.
     * Call it once for every admitted admission, or its slots are never given back.
     */
    public Bridge newBridge(Admission.Admitted admission) {
        Bridge bridge = new Bridge(this, admission);
        registry.add(bridge, admission.takeReservation());
        bridge.arm();
        // A revocation may have come after the pipeline checked it (while the admission waited for its slots),
        // too early for Registry.close to see this bridge: closed as that close would have closed it.
        Optional<Principal> principal = admission.handshake().principal();
        if (principal.isPresent() && registry.revocations().refuses(principal.get(), ticker.now())) {
            Registry.closeRevoked(bridge, principal.get().subject());
        }
        return bridge;
    }

}
