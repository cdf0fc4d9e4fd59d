package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.AuthFailureLimit;
import dev.gatehouse.Connections;
import dev.gatehouse.Gateway;
import dev.gatehouse.GatewayResponse;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;

/** The {@link Gateway} implementation: route table, handshake pipeline, registry and timers. */
public final class DefaultGateway implements Gateway {

    static final Logger ACCESS = LoggerFactory.getLogger("dev.gatehouse.access");
    private static final Logger LOG = LoggerFactory.getLogger(DefaultGateway.class);

    /** The prefix of the headers the gateway sets for the backend, which a client may not send. */
    static final String IDENTITY_PREFIX = "x-gatehouse-";

    /** Seconds a client is told to wait before retrying a drained gateway. */
    private static final String DRAIN_RETRY_AFTER = "5";

    private final List<Route> routes;
    private final Settings settings;
    private final Duration drainWindow;
    private final dev.gatehouse.BackendTls backendTls;
    private final Options options;
    private final ConnectionLimits connectionLimits;
    private final AuthFailures authFailures; // failed authentications per client address
    private final RouteTable table;
    private final Registry registry = new Registry();
    /** Over this many, idle (full) per-principal buckets are forgotten. */
    private static final int MAX_PRINCIPAL_BUCKETS = 10_000;
    private final java.util.concurrent.ConcurrentHashMap<String, TokenBucket[]> principalBuckets =
            new java.util.concurrent.ConcurrentHashMap<>(); // route + principal -> [messages, bytes]
    private final ScheduledThreadPoolExecutor scheduler;
    private final java.util.concurrent.atomic.LongAdder abandonedDials = new java.util.concurrent.atomic.LongAdder();
    private CompletableFuture<Void> drained; // null until drain() is called; guarded by this
    private volatile boolean draining;

    /**
     * The gateway-wide options of {@link Gateway.Builder}, validated by it.
     *
     * @param drainWindow           see {@link Gateway.Builder#drainWindow}
     * @param trustedProxies        see {@link Gateway.Builder#trustedProxies}
     * @param maxConnections        see {@link Gateway.Builder#maxConnections}; 0 for no limit
     * @param maxRequestHeaderBytes see {@link Gateway.Builder#maxRequestHeaderBytes}
     * @param maxRequestHeaders     see {@link Gateway.Builder#maxRequestHeaders}
     * @param maxRequestUriLength   see {@link Gateway.Builder#maxRequestUriLength}
     * @param maxConcurrentDials    see {@link Gateway.Builder#maxConcurrentDials}, its default applied
     * @param backendTls            see {@link Gateway.Builder#backendTls}
     * @param responses             see {@link Gateway.Builder#response}
     * @param authFailureLimit      see {@link Gateway.Builder#authFailureLimit}
     */
    public record Options(Duration drainWindow, TrustedProxies trustedProxies, int maxConnections,
            int maxRequestHeaderBytes, int maxRequestHeaders, int maxRequestUriLength, int maxConcurrentDials,
            dev.gatehouse.BackendTls backendTls,
            Map<Rejection, GatewayResponse> responses, AuthFailureLimit authFailureLimit) {
        /** Checks the values are present and copies the responses. */
        public Options {
            requireNonNull(drainWindow, "drainWindow");
            requireNonNull(trustedProxies, "trustedProxies");
            requireNonNull(backendTls, "backendTls");
            requireNonNull(authFailureLimit, "authFailureLimit");
            responses = Map.copyOf(responses);
        }
    }

    /** Validates the routes and builds the table; see {@link Gateway.Builder#build()}. */
    public DefaultGateway(List<Route> routes, Settings settings, Options options) {
        this.routes = List.copyOf(routes);
        this.settings = requireNonNull(settings, "settings");
        this.options = requireNonNull(options, "options");
        this.drainWindow = options.drainWindow();
        this.backendTls = options.backendTls();
        this.table = new RouteTable(this.routes, settings);
        this.connectionLimits = new ConnectionLimits(this.routes, options.maxConnections());
        this.authFailures = new AuthFailures(options.authFailureLimit(), AuthFailures.DEFAULT_MAX_ADDRESSES);
        this.scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "gatehouse-timer");
            t.setDaemon(true);
            return t;
        });
        scheduler.setRemoveOnCancelPolicy(true);
        scheduler.setKeepAliveTime(30, TimeUnit.SECONDS);
        scheduler.allowCoreThreadTimeOut(true);
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

    @Override
    public List<Route> routes() {
        return routes;
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    public Connections connections() {
        return registry;
    }

    Registry registry() {
        return registry;
    }

    ScheduledThreadPoolExecutor scheduler() {
        return scheduler;
    }

    /** Runs a task after a delay on the gateway's timer thread; a cancelled task is forgotten at once. */
    public ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        return scheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
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
                : (int) Math.min(Integer.MAX_VALUE, 16L * options.maxConcurrentDials());
    }

    /** The most backend handshakes in flight at once to one backend; see {@link Gateway.Builder#maxConcurrentDials}. */
    public int maxConcurrentDials() {
        return options.maxConcurrentDials();
    }

    @Override
    public dev.gatehouse.BackendTls backendTls() {
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
        long step = bridges.isEmpty() ? 0 : window.toNanos() / bridges.size();
        for (int i = 0; i < bridges.size(); i++) {
            Bridge bridge = bridges.get(i);
            if (i == 0 || step == 0) {
                bridge.drain();
            } else {
                scheduler.schedule(bridge::drain, step * i, TimeUnit.NANOSECONDS);
            }
        }
        LOG.info("Draining {} connection(s) over {}", bridges.size(), window);
        return drained;
    }

    /**
     * The per-principal message buckets [messages, bytes] of a route's {@link dev.gatehouse.MessageLimits},
     * shared by the principal's connections (anonymous ones by client address); entries are null when
     * that limit is not set.
     */
    TokenBucket[] principalBuckets(Route route, Handshake h) {
        dev.gatehouse.MessageLimits limits = route.messageLimits().orElse(null);
        if (limits == null || (limits.principalMessagesPerSecond() == 0 && limits.principalBytesPerSecond() == 0)) {
            return new TokenBucket[2];
        }
        String who = h.principal().map(p -> "p:" + p.subject())
                .orElseGet(() -> "a:" + Cidr.text(h.clientAddress()));
        long now = System.nanoTime();
        if (principalBuckets.size() > MAX_PRINCIPAL_BUCKETS) {
            principalBuckets.values().removeIf(b -> (b[0] == null || b[0].isFull(now)) && (b[1] == null || b[1].isFull(now)));
        }
        return principalBuckets.computeIfAbsent(route.path() + " " + who, k -> new TokenBucket[] {
            limits.principalMessagesPerSecond() > 0
                    ? new TokenBucket(limits.principalMessagesPerSecond(), limits.principalMessageBurst(), now) : null,
            limits.principalBytesPerSecond() > 0
                    ? new TokenBucket(limits.principalBytesPerSecond(), limits.principalByteBurst(), now) : null});
    }

    /** The 503 of a handshake that meets a draining gateway, with {@code Retry-After}. */
    public static Verdict.Reject shuttingDown() {
        return Verdict.reject(Rejection.UNAVAILABLE, "the gateway is shutting down")
                .withHeader("Retry-After", DRAIN_RETRY_AFTER);
    }

    /** Whether a route matches the request's host and path. */
    public boolean hasRoute(Handshake request) {
        return table.match(request.hostName(), request.path()) != null;
    }

    ConnectionLimits connectionLimits() {
        return connectionLimits;
    }

    /**
     * Runs the handshake pipeline: size limits of the request, route match, upgrade check, drain check,
     * client address, the address's cool-down after failed authentications, authenticator (whose
     * {@link Rejection#UNAUTHORIZED} counts one failure of the address), policies, the backend's target, and
     * last the connection limits, whose slots the admission holds until {@link #newBridge} hands them to the
     * bridge. Logs one access line for a rejection.
     */
    public Admission admit(Handshake request) {
        Verdict.Reject tooLarge = checkSize(request);
        if (tooLarge != null) {
            return rejected(request, null, settings, tooLarge);
        }
        String badTarget = malformedTarget(request);
        if (badTarget != null) {
            // Refused before anything decodes the target: Jetty's handshakers and clients throw on these.
            return rejected(request, null, settings, Verdict.reject(Rejection.BAD_REQUEST, badTarget));
        }
        RouteTable.Match match = table.match(request.hostName(), request.path());
        if (match == null) {
            return rejected(request, null, settings,
                    Verdict.reject(Rejection.ROUTE_NOT_FOUND, "no route for " + request.path()));
        }
        Route route = match.route();
        Settings routeSettings = match.settings();
        if (!request.isWebSocketUpgrade()) {
            return rejected(request, route, routeSettings,
                    Verdict.reject(Rejection.UPGRADE_REQUIRED, "this path accepts WebSocket upgrades only")
                            .withHeader("Upgrade", "websocket"));
        }
        String malformed = malformedUpgrade(request);
        if (malformed != null) {
            // Refused here, before anything else runs: the backend is never dialled for a request that
            // Jetty would not upgrade.
            return rejected(request, route, routeSettings,
                    Verdict.reject(Rejection.UPGRADE_REQUIRED, malformed)
                            .withHeader("Upgrade", "websocket")
                            .withHeader("Sec-WebSocket-Version", "13"));
        }
        String badKey = malformedKey(request);
        if (badKey == null) {
            badKey = malformedSubprotocols(request);
        }
        if (badKey != null) {
            return rejected(request, route, routeSettings, Verdict.reject(Rejection.BAD_REQUEST, badKey));
        }
        if (draining) {
            return rejected(request, route, routeSettings, shuttingDown());
        }
        boolean trustedPeer = options.trustedProxies().trustsPeer(request);
        Handshake.Builder clean = request.toBuilder().pathParameters(match.parameters())
                .clientAddress(options.trustedProxies().clientAddress(request));
        // Identity headers come from the gateway only: drop any a client sent before anyone reads them.
        request.headers().keySet().stream().filter(name -> name.startsWith(IDENTITY_PREFIX)).forEach(clean::removeHeader);
        Handshake handshake = clean.build();
        long coolDown = authFailures.coolDownLeft(handshake.clientAddress());
        if (coolDown > 0) {
            String retry = Long.toString(Math.max(1, (coolDown + 999_999_999) / 1_000_000_000));
            return rejected(request, handshake, route, routeSettings, Verdict.reject(Rejection.RATE_LIMITED,
                    "too many failed authentications from this address; retry in " + retry + " s")
                    .withHeader("Retry-After", retry));
        }
        Verdict verdict = authenticate(route, handshake);
        if (verdict instanceof Verdict.Reject reject && reject.kind() == Rejection.UNAUTHORIZED) {
            authFailures.failed(handshake.clientAddress());
        }
        if (verdict instanceof Verdict.Allow) {
            verdict = new Links(route.policies(), 0).proceed(((Verdict.Allow) verdict).handshake());
        }
        if (verdict instanceof Verdict.Reject) {
            return rejected(request, handshake, route, routeSettings, (Verdict.Reject) verdict);
        }
        Handshake admitted = ((Verdict.Allow) verdict).handshake();
        if (route.forwardsCredentials()) {
            admitted = withCredentials(request, admitted);
        }
        URI target;
        try {
            target = requireNonNull(route.backend().target(admitted), "backend returned null");
            String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                throw new GatewayStateException("backend target " + target.getScheme() + "://… is not ws:// or wss://");
            }
            if (!admitted.query().isEmpty()) {
                String uri = target.toString();
                target = URI.create(uri + (target.getRawQuery() == null ? "?" : "&")
                        + PercentCodec.encodeIllegalQueryCharacters(admitted.query()));
            }
        } catch (RuntimeException e) {
            LOG.error("Backend of {} failed to resolve a target for request {}", route, request.requestId(), e);
            return rejected(request, route, routeSettings,
                    Verdict.reject(Rejection.INTERNAL_ERROR, "the route's backend could not be resolved"));
        }
        ConnectionLimits.Outcome slots = connectionLimits.reserve(route, admitted);
        if (slots.reject() != null) {
            return rejected(request, admitted, route, routeSettings, slots.reject());
        }
        return Admission.admitted(route, routeSettings, admitted, target,
                ForwardedHeaders.of(admitted, request.requestId(), trustedPeer, route.forwardsCredentials()),
                slots.reservation());
    }

    /**
     * The admitted handshake with the headers and query parameters that authentication removed put back,
     * for routes that forward credentials. Identity headers a client sent stay removed.
     */
    private static Handshake withCredentials(Handshake request, Handshake admitted) {
        Handshake.Builder b = admitted.toBuilder().query(request.query());
        request.headers().forEach((name, values) -> {
            if (!admitted.headers().containsKey(name) && !name.startsWith(IDENTITY_PREFIX)) {
                values.forEach(v -> b.addHeader(name, v));
            }
        });
        return b.build();
    }

    /** The 431 or 414 for a request over the gateway's size limits, or null. */
    private Verdict.Reject checkSize(Handshake request) {
        int uri = request.path().length() + (request.query().isEmpty() ? 0 : 1 + request.query().length());
        if (uri > options.maxRequestUriLength()) {
            return Verdict.reject(Rejection.URI_TOO_LONG, "the request URI is longer than "
                    + options.maxRequestUriLength() + " characters");
        }
        int count = 0;
        long bytes = 0;
        for (Map.Entry<String, List<String>> e : request.headers().entrySet()) {
            for (String value : e.getValue()) {
                count++;
                bytes += e.getKey().length() + value.length();
            }
        }
        if (count > options.maxRequestHeaders()) {
            return Verdict.reject(Rejection.REQUEST_HEADERS_TOO_LARGE, "the request has more than "
                    + options.maxRequestHeaders() + " header fields");
        }
        if (bytes > options.maxRequestHeaderBytes()) {
            return Verdict.reject(Rejection.REQUEST_HEADERS_TOO_LARGE, "the request headers are larger than "
                    + options.maxRequestHeaderBytes() + " bytes");
        }
        return null;
    }

    /**
     * Creates the bridge of an admitted request and registers it; the adapter then dials the backend. The
     * admission's connection slots pass to the bridge, which gives them back when it leaves the registry.
     * Call it once for every admitted admission, or its slots are never given back.
     */
    public Bridge newBridge(Admission admission) {
        if (admission.rejection().isPresent()) {
            throw new IllegalArgumentException("admission: rejected");
        }
        Bridge bridge = new Bridge(this, admission);
        registry.add(bridge, admission.takeReservation());
        bridge.arm();
        return bridge;
    }

    /**
     * What makes a {@code GET} with {@code Upgrade: websocket} an invalid RFC 6455 opening handshake, or null
     * when it is valid: {@code Connection} must include {@code upgrade}, {@code Sec-WebSocket-Version} must be
     * 13 and {@code Sec-WebSocket-Key} must be present.
     */
    private static String malformedUpgrade(Handshake request) {
        boolean connectionUpgrade = false;
        for (String value : request.headers().getOrDefault("connection", List.of())) {
            for (String token : value.split(",")) {
                connectionUpgrade |= token.trim().equalsIgnoreCase("upgrade");
            }
        }
        if (!connectionUpgrade) {
            return "the upgrade request has no Connection: Upgrade";
        }
        if (!request.header("Sec-WebSocket-Version").map(v -> v.trim().equals("13")).orElse(false)) {
            return "only WebSocket version 13 is supported";
        }
        if (request.header("Sec-WebSocket-Key").map(String::isBlank).orElse(true)) {
            return "the upgrade request has no Sec-WebSocket-Key";
        }
        return null;
    }

    /** Why the request's path or query cannot be percent-decoded as UTF-8, or null when they can. */
    private static String malformedTarget(Handshake request) {
        String path = PercentCodec.malformed(request.path());
        if (path != null) {
            return "the request path has " + path;
        }
        String query = PercentCodec.malformed(request.query());
        return query == null ? null : "the query string has " + query;
    }

    /**
     * Why a present {@code Sec-WebSocket-Key} is invalid, or null: RFC 6455 (section 4.2.1) requires exactly one,
     * the base64 encoding of 16 bytes.
     */
    private static String malformedKey(Handshake request) {
        List<String> keys = request.headers().getOrDefault("sec-websocket-key", List.of());
        if (keys.size() > 1) {
            return "the upgrade request has more than one Sec-WebSocket-Key";
        }
        String key = keys.get(0).trim();
        try {
            if (key.length() == 24 && Base64.getDecoder().decode(key).length == 16) {
                return null;
            }
        } catch (IllegalArgumentException e) {
            // not base64: reported below
        }
        return "the Sec-WebSocket-Key is not the base64 encoding of 16 bytes";
    }

    /**
     * Why the {@code Sec-WebSocket-Protocol} offers are invalid, or null: each must be an RFC 7230 token
     * (RFC 6455, section 4.1), which Jetty's handshakers otherwise refuse only after the backend was dialled.
     */
    private static String malformedSubprotocols(Handshake request) {
        for (String value : request.headers().getOrDefault("sec-websocket-protocol", List.of())) {
            for (String offer : value.split(",", -1)) {
                String token = offer.trim();
                for (int i = 0; i < token.length(); i++) {
                    if (!isTokenChar(token.charAt(i))) {
                        return "a Sec-WebSocket-Protocol offer is not a token";
                    }
                }
            }
        }
        return null;
    }

    private static boolean isTokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
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
        return r != null ? r : options.responses().get(kind);
    }

    /** Logs a rejection that happened after admission, e.g. a backend refusal. */
    public void logRejection(Handshake request, Route route, Verdict.Reject reject) {
        logRejection(request.requestId(), route == null ? "-" : route.path(), request.path(),
                request.remoteAddress(), Cidr.text(request.clientAddress()), reject);
    }

    /**
     * Logs, in the same line as {@link #logRejection(Handshake, Route, Verdict.Reject)}, a rejection that no
     * gateway's pipeline decided: one by Jetty's HTTP parser, or by a connector's request deadline. The
     * route is {@code -} and the client is the remote address.
     *
     * @param path the request's path, or {@code -} when there is none to log
     */
    public static void logRejection(String requestId, String path, InetSocketAddress remote, Verdict.Reject reject) {
        String client = remote.getAddress() == null ? remote.getHostString() : Cidr.text(remote.getAddress());
        logRejection(requestId, "-", path, remote, client, reject);
    }

    private static void logRejection(String requestId, String route, String path, InetSocketAddress remote,
            String client, Verdict.Reject reject) {
        ACCESS.info("id={} route={} path={} remote={} client={} status={} error={} message=\"{}\"",
                requestId, route, path, remote, client, reject.status(), reject.kind().error(), reject.message());
    }

    private Admission rejected(Handshake request, Route route, Settings s, Verdict.Reject reject) {
        return rejected(request, request, route, s, reject);
    }

    /** Logs with the handshake as the pipeline had it (client address resolved), answers for the request. */
    private Admission rejected(Handshake request, Handshake resolved, Route route, Settings s, Verdict.Reject reject) {
        Verdict.Reject shaped = customize(route, reject);
        logRejection(resolved, route, shaped);
        return Admission.rejected(shaped, route, s, request);
    }

    private static Verdict authenticate(Route route, Handshake handshake) {
        try {
            Verdict v = route.authenticator().authenticate(handshake);
            if (v == null) {
                throw new GatewayStateException("authenticator " + route.authenticator() + " returned null");
            }
            return v;
        } catch (RuntimeException e) {
            LOG.error("Authenticator of {} failed on request {}", route, handshake.requestId(), e);
            return Verdict.reject(Rejection.INTERNAL_ERROR, "authentication failed");
        }
    }

    /** One link of the policy chain; enforces that each policy proceeds at most once. */
    private static final class Links implements Policy.Chain {
        private final List<Policy> policies;
        private final int index;
        private boolean proceeded; // a policy may call proceed() once

        Links(List<Policy> policies, int index) {
            this.policies = policies;
            this.index = index;
        }

        @Override
        public Verdict proceed(Handshake handshake) {
            requireNonNull(handshake, "handshake");
            if (proceeded) {
                throw new GatewayStateException("policy " + policies.get(index - 1) + " must call proceed() at most once");
            }
            proceeded = true;
            if (index == policies.size()) {
                return Verdict.allow(handshake);
            }
            Policy policy = policies.get(index);
            try {
                Verdict v = policy.evaluate(handshake, new Links(policies, index + 1));
                if (v == null) {
                    throw new GatewayStateException("policy " + policy + " returned null");
                }
                return v;
            } catch (RuntimeException e) {
                LOG.error("Policy {} failed on request {}", policy, handshake.requestId(), e);
                return Verdict.reject(Rejection.INTERNAL_ERROR, "a policy failed");
            }
        }
    }
}
