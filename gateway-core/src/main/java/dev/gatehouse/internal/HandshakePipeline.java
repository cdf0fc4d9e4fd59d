package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;
import dev.gatehouse.balance.BackendGroup;

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

    private final Supplier<RouteTable> table; // the current route table, read once per handshake
    private final Settings settings;
    private final DefaultGateway.Options options;
    private final ConnectionLimits connectionLimits;
    private final AuthFailures authFailures;
    private final TrustedProxies trustedProxies;
    private final Rejections rejections;
    private final BooleanSupplier draining;
    private final Ticker ticker;
    private final Revocations revocations;

    private final Function<BackendGroup, Balancer> balancers; // the live state of each backend group

    HandshakePipeline(Supplier<RouteTable> table, Settings settings, DefaultGateway.Options options,
            ConnectionLimits connectionLimits, Rejections rejections, BooleanSupplier draining, Ticker ticker,
            Function<BackendGroup, Balancer> balancers, Revocations revocations) {
        this.ticker = ticker;
        this.revocations = revocations;
        this.table = table;
        this.balancers = balancers;
        this.settings = settings;
        this.options = options;
        this.connectionLimits = connectionLimits;
        this.trustedProxies = TrustedProxies.of(options.trustedProxies());
        this.authFailures = new AuthFailures(options.authFailureLimit(), AuthFailures.DEFAULT_MAX_ADDRESSES);
        this.rejections = rejections;
        this.draining = draining;
    }

    /**
     * Runs the handshake pipeline, each step in turn, the first rejection ending it. Logs one access line
     * for a rejection; an admission holds its connection slots until {@link DefaultGateway#newBridge} hands
     * them to the bridge.
     */
    Admission admit(Handshake request) {
        try (Mdc mdc = Mdc.of(request.requestId(), null)) {
            return admit(request, ticker.nanoTime(), mdc);
        }
    }

    private Admission admit(Handshake request, long start, Mdc mdc) {
        Verdict.Reject malformed = checkRequest(request);
        if (malformed != null) {
            return rejected(request, null, settings, malformed, start);
        }
        RouteTable.Match match = table.get().match(request.hostName(), request.path());
        if (match == null) {
            return rejected(request, null, settings,
                    Verdict.reject(Rejection.ROUTE_NOT_FOUND, "no route for " + request.path()), start);
        }
        Route route = match.route();
        mdc.route(route.path());
        Settings routeSettings = match.settings();
        Verdict.Reject notAnUpgrade = OpeningHandshake.check(request);
        if (notAnUpgrade != null) {
            return rejected(request, route, routeSettings, notAnUpgrade, start);
        }
        if (draining.getAsBoolean()) {
            return rejected(request, route, routeSettings, DefaultGateway.shuttingDown(), start);
        }
        Handshake handshake = resolveClient(request, match);
        Verdict verdict = coolingDown(handshake);
        if (verdict == null) {
            verdict = authenticate(route, match.authenticator(), handshake);
            if (verdict instanceof Verdict.Reject reject && reject.kind() == Rejection.UNAUTHORIZED) {
                authFailures.failed(handshake.clientAddress());
            }
        }
        if (verdict instanceof Verdict.Allow allowed) {
            Verdict.Reject revoked = revoked(allowed.handshake());
            verdict = revoked != null ? revoked : new Links(match.policies(), 0).proceed(allowed.handshake());
        }
        if (verdict instanceof Verdict.Reject reject) {
            return rejected(handshake, route, routeSettings, reject, start);
        }
        Handshake admitted = ((Verdict.Allow) verdict).handshake();
        if (route.forwardsCredentials()) {
            admitted = withCredentials(request, admitted);
        }
        URI target = route.backend().isEmpty() ? null : backendTarget(route, admitted);
        if (target == null && route.backend().isPresent()) {
            return rejected(admitted, route, routeSettings,
                    Verdict.reject(Rejection.INTERNAL_ERROR, "the route's backend could not be resolved"), start);
        }
        ConnectionLimits.Outcome slots = connectionLimits.reserve(route, admitted);
        if (slots.reject() != null) {
            return rejected(admitted, route, routeSettings, slots.reject(), start);
        }
        boolean trustedPeer = trustedProxies.trustsPeer(request);
        Balancer.Plan plan = route.backend().orElse(null) instanceof BackendGroup group
                ? balancers.apply(group).plan(admitted) : null;
        return new Admission.Admitted(route, routeSettings, admitted, target, plan,
                ForwardedHeaders.of(admitted, request.requestId(), trustedPeer, route.forwardsCredentials()),
                slots.reservation(), start);
    }

    /** The 401 for a credential revoked through {@code connections().revoke}, or null. */
    private Verdict.Reject revoked(Handshake h) {
        if (h.principal().isPresent() && revocations.refuses(h.principal().get(), ticker.now())) {
            return Verdict.reject(Rejection.UNAUTHORIZED, "the credential has been revoked")
                    .withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        }
        return null;
    }

    /**
     * The 431, 414 or 400 for a request over the gateway's size limits or with a target that cannot be
     * percent-decoded as UTF-8, or null. Refused before anything decodes the target: Jetty's handshakers and
     * clients throw on these.
     */
    private Verdict.Reject checkRequest(Handshake request) {
        Verdict.Reject tooLarge = checkSize(request);
        if (tooLarge != null) {
            return tooLarge;
        }
        String badTarget = malformedTarget(request);
        return badTarget == null ? null : Verdict.reject(Rejection.BAD_REQUEST, badTarget);
    }

    /**
     * The request with the route's path parameters, the client's address (through trusted proxies), the
     * gateway's own {@code traceparent} (the client's trace continued, or a new one), and without the identity
     * headers a client sent, which only the gateway may set.
     */
    private Handshake resolveClient(Handshake request, RouteTable.Match match) {
        Handshake.Builder clean = request.toBuilder().pathParameters(match.parameters())
                .clientAddress(trustedProxies.clientAddress(request))
                .header(TraceContext.HEADER, TraceContext.next(request));
        request.headers().keySet().stream().filter(name -> name.startsWith(IDENTITY_PREFIX)).forEach(clean::removeHeader);
        return clean.build();
    }

    /** The 429 for an address cooling down after too many failed authentications, or null. */
    private Verdict.Reject coolingDown(Handshake handshake) {
        long coolDown = authFailures.coolDownLeft(handshake.clientAddress());
        if (coolDown <= 0) {
            return null;
        }
        String retry = Long.toString(Math.max(1, (coolDown + 999_999_999) / 1_000_000_000));
        return Verdict.reject(Rejection.RATE_LIMITED,
                "too many failed authentications from this address; retry in " + retry + " s")
                .withHeader("Retry-After", retry);
    }

    /**
     * The backend URI for the admitted handshake, with the client's query appended; null (and an error
     * logged) when the route's backend fails or returns something that is not {@code ws://} or {@code wss://}.
     */
    private static URI backendTarget(Route route, Handshake admitted) {
        try {
            URI target = requireNonNull(route.backend().orElseThrow().target(admitted), "backend returned null");
            String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                throw new GatewayStateException("backend target " + target.getScheme() + "://… is not ws:// or wss://");
            }
            return withQuery(target, admitted);
        } catch (RuntimeException e) {
            LOG.error("Backend of {} failed to resolve a target for request {}", route, admitted.requestId(), e);
            return null;
        }
    }

    /** The target with the client's query string (credentials already removed) appended to its own. */
    static URI withQuery(URI target, Handshake admitted) {
        if (admitted.query().isEmpty()) {
            return target;
        }
        return URI.create(target + (target.getRawQuery() == null ? "?" : "&")
                + PercentCodec.encodeIllegalQueryCharacters(admitted.query()));
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

    /** Why the request's path or query cannot be percent-decoded as UTF-8, or null when they can. */
    private static String malformedTarget(Handshake request) {
        String path = PercentCodec.malformed(request.path());
        if (path != null) {
            return "the request path has " + path;
        }
        String query = PercentCodec.malformed(request.query());
        return query == null ? null : "the query string has " + query;
    }

    /** Logs the rejection with the handshake as the pipeline had it (client address resolved once known). */
    private Admission rejected(Handshake logged, Route route, Settings s, Verdict.Reject reject, long start) {
        Verdict.Reject shaped = rejections.customize(route, reject);
        rejections.log(logged, route, shaped, start);
        return new Admission.Rejected(shaped, route, s);
    }

    private static Verdict authenticate(Route route, Authenticator authenticator, Handshake handshake) {
        try {
            Verdict v = authenticator.authenticate(handshake);
            if (v == null) {
                throw new GatewayStateException("authenticator " + authenticator + " returned null");
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
