package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;

/**
 * The handshake pipeline, in the order PRODUCT.md's data flow gives: the request's size and form, the
 * route, the upgrade, the drain, the client's address and its failed authentications, the authenticator,
 * the policies, the backend's target, and the connection limits. Every step may reject, with one
 * access-log line; an admitted request holds its connection slots.
 */
final class HandshakePipeline {

    private static final Logger LOG = LoggerFactory.getLogger(HandshakePipeline.class);

    /** The prefix of the headers the gateway sets for the backend, which a client may not send. */
    static final String IDENTITY_PREFIX = "x-gatehouse-";

    private final RouteTable table;
    private final Settings settings;
    private final DefaultGateway.Options options;
    private final ConnectionLimits connectionLimits;
    private final AuthFailures authFailures;
    private final Rejections rejections;
    private final BooleanSupplier draining;

    HandshakePipeline(RouteTable table, Settings settings, DefaultGateway.Options options,
            ConnectionLimits connectionLimits, Rejections rejections, BooleanSupplier draining) {
        this.table = table;
        this.settings = settings;
        this.options = options;
        this.connectionLimits = connectionLimits;
        this.authFailures = new AuthFailures(options.authFailureLimit(), AuthFailures.DEFAULT_MAX_ADDRESSES);
        this.rejections = rejections;
        this.draining = draining;
    }

    /**
     * Runs the handshake pipeline: size limits of the request, route match, upgrade check, drain check,
     * client address, the address's cool-down after failed authentications, authenticator (whose
     * {@link Rejection#UNAUTHORIZED} counts one failure of the address), policies, the backend's target, and
     * last the connection limits, whose slots the admission holds until {@link DefaultGateway#newBridge} hands
     * them to the bridge. Logs one access line for a rejection.
     */
    Admission admit(Handshake request) {
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
        if (draining.getAsBoolean()) {
            return rejected(request, route, routeSettings, DefaultGateway.shuttingDown());
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

    private Admission rejected(Handshake request, Route route, Settings s, Verdict.Reject reject) {
        return rejected(request, request, route, s, reject);
    }

    /** Logs with the handshake as the pipeline had it (client address resolved), answers for the request. */
    private Admission rejected(Handshake request, Handshake resolved, Route route, Settings s, Verdict.Reject reject) {
        Verdict.Reject shaped = rejections.customize(route, reject);
        rejections.log(resolved, route, shaped);
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
