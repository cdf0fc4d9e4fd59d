package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.GatewayResponse;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;
import dev.gatehouse.auth.ApiKeyAuthenticator;

/** The handshake pipeline, {@link DefaultGateway#admit}: route, upgrade check, drain, authenticator, policies, backend. */
class DefaultGatewayTest {

    private static final String BACKEND = "ws://chat.internal:9000/rooms/{room}";

    private static DefaultGateway gateway(Route... routes) {
        Gateway.Builder b = Gateway.builder();
        for (Route r : routes) {
            b.route(r);
        }
        return DefaultGateway.of(b.build());
    }

    private static DefaultGateway gateway(Authenticator authenticator, Policy... policies) {
        Route.Builder r = Route.builder("/chat/{room}").authenticator(authenticator).backend(Backend.of(BACKEND));
        for (Policy p : policies) {
            r.policy(p);
        }
        return gateway(r.build());
    }

    private static Handshake.Builder upgrade(String path) {
        return Handshake.builder("req-1", path)
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Host", "gw.example.com")
                .host("gw.example.com")
                .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .header("Sec-WebSocket-Version", "13")
                .remoteAddress(new InetSocketAddress("203.0.113.7", 40000));
    }

    private static Verdict.Reject rejection(Admission admission) {
        return admission.rejection().orElseThrow(() -> new AssertionError("admitted: " + admission));
    }

    private static Admission.Admitted admitted(Admission admission) {
        return Admissions.admitted(admission);
    }

    /** The values of a backend header, whatever the case of its name; fails if it appears under two spellings. */
    private static List<String> header(Admission.Admitted admission, String name) {
        List<String> values = new ArrayList<>();
        int spellings = 0;
        for (Map.Entry<String, List<String>> e : admission.backendHeaders().entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                spellings++;
                values.addAll(e.getValue());
            }
        }
        assertTrue(spellings <= 1, () -> name + " appears under several spellings: " + admission.backendHeaders());
        return values;
    }

    // ---- route, upgrade, drain ----

    @Test
    void unknownPathIsRejectedWith404RouteNotFound() {
        Admission admission = gateway(Authenticator.none()).admit(upgrade("/nowhere").build());

        Verdict.Reject reject = rejection(admission);
        assertEquals(404, reject.status());
        assertEquals(Rejection.ROUTE_NOT_FOUND, reject.kind());
        assertEquals("route_not_found", reject.kind().error());
        assertTrue(assertInstanceOf(Admission.Rejected.class, admission).route().isEmpty());
        assertTrue(Json.errorBody(reject, "req-1").contains("\"requestId\":\"req-1\""));
    }

    @Test
    void nonUpgradeRequestOnARouteIsRejectedWith426AndUpgradeWebsocket() {
        Handshake plain = Handshake.builder("req-1", "/chat/lobby").header("Host", "gw.example.com").build();

        Verdict.Reject reject = rejection(gateway(Authenticator.none()).admit(plain));

        assertEquals(426, reject.status());
        assertEquals(Rejection.UPGRADE_REQUIRED, reject.kind());
        assertEquals("upgrade_required", reject.kind().error());
        assertEquals("websocket", reject.headers().get("Upgrade"));
    }

    @Test
    void malformedOpeningHandshakesAreRejectedWith426BeforeAnyBackendIsChosen() {
        DefaultGateway gateway = gateway(Authenticator.none());
        Handshake noKey = Handshake.builder("req-1", "/chat/lobby").header("Upgrade", "websocket")
                .header("Connection", "Upgrade").header("Sec-WebSocket-Version", "13").build();
        Handshake oldVersion = Handshake.builder("req-2", "/chat/lobby").header("Upgrade", "websocket")
                .header("Connection", "keep-alive, Upgrade").header("Sec-WebSocket-Version", "8")
                .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").build();
        Handshake noConnection = Handshake.builder("req-3", "/chat/lobby").header("Upgrade", "websocket")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").build();

        for (Handshake h : List.of(noKey, oldVersion, noConnection)) {
            Verdict.Reject reject = rejection(gateway.admit(h));
            assertEquals(426, reject.status(), h.requestId());
            assertEquals(Rejection.UPGRADE_REQUIRED, reject.kind());
            assertEquals("websocket", reject.headers().get("Upgrade"));
            assertEquals("13", reject.headers().get("Sec-WebSocket-Version"));
        }
        assertEquals("only WebSocket version 13 is supported", rejection(gateway.admit(oldVersion)).message());
        assertTrue(gateway.admit(upgrade("/chat/lobby").build()).rejection().isEmpty());
    }

    @Test
    void aTargetThatCannotBeDecodedAsUtf8IsRejectedWith400BeforeRouting() {
        DefaultGateway gateway = gateway(Authenticator.none());
        for (String query : List.of("x=%zz", "a=%2", "%zz", "x=%", "x=%G0")) {
            Verdict.Reject reject = rejection(gateway.admit(upgrade("/chat/lobby").query(query).build()));
            assertEquals(400, reject.status(), query);
            assertEquals(Rejection.BAD_REQUEST, reject.kind());
            assertEquals("the query string has a malformed percent-escape", reject.message());
        }
        for (String query : List.of("x=%ff", "a=%ed%a0%80", "a=%c3", "a=%c3%28")) {
            Verdict.Reject reject = rejection(gateway.admit(upgrade("/chat/lobby").query(query).build()));
            assertEquals("the query string has percent-escapes that are not UTF-8", reject.message(), query);
        }
        Verdict.Reject path = rejection(gateway.admit(upgrade("/chat/%zz").build()));
        assertEquals("the request path has a malformed percent-escape", path.message());
        assertEquals(Rejection.BAD_REQUEST, path.kind());
        assertEquals(Rejection.BAD_REQUEST, rejection(gateway.admit(upgrade("/nowhere/%zz").build())).kind(),
                "checked before routing");

        admitted(gateway.admit(upgrade("/chat/l%C3%A9").query("q=%E2%82%AC&a=b+c&e=").build()));
    }

    @Test
    void aMalformedOrRepeatedSecWebSocketKeyIsRejectedWith400() {
        DefaultGateway gateway = gateway(Authenticator.none());
        List<Handshake.Builder> bad = List.of(
                upgrade("/chat/lobby").removeHeader("Sec-WebSocket-Key").header("Sec-WebSocket-Key", "not base64!!!!!!!!!!!!!"),
                upgrade("/chat/lobby").removeHeader("Sec-WebSocket-Key").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZQ=="),
                upgrade("/chat/lobby").removeHeader("Sec-WebSocket-Key").header("Sec-WebSocket-Key", "QUJD".repeat(8)),
                upgrade("/chat/lobby").addHeader("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="));
        for (Handshake.Builder b : bad) {
            Verdict.Reject reject = rejection(gateway.admit(b.build()));
            assertEquals(400, reject.status());
            assertEquals(Rejection.BAD_REQUEST, reject.kind());
        }
        assertEquals("the upgrade request has more than one Sec-WebSocket-Key",
                rejection(gateway.admit(bad.get(3).build())).message());
        assertEquals("the Sec-WebSocket-Key is not the base64 encoding of 16 bytes",
                rejection(gateway.admit(bad.get(1).build())).message());
    }

    @Test
    void subprotocolOffersThatAreNotTokensAreRejectedWith400() {
        DefaultGateway gateway = gateway(Authenticator.none());
        for (String offer : List.of("\"abc", "chat v1", "a/b", "mqtt, x=y", "caf\u00e9")) {
            Verdict.Reject reject = rejection(gateway.admit(upgrade("/chat/lobby").header("Sec-WebSocket-Protocol", offer).build()));
            assertEquals(Rejection.BAD_REQUEST, reject.kind(), offer);
            assertEquals("a Sec-WebSocket-Protocol offer is not a token", reject.message());
        }
        admitted(gateway.admit(upgrade("/chat/lobby").header("Sec-WebSocket-Protocol", "mqtt, v12.stomp,, graphql-ws")
                .addHeader("Sec-WebSocket-Protocol", "bearer.eyJhbGciOiJIUzI1NiJ9.e30.sig-_~").build()));
    }

    @Test
    void toBuilderBuildsAGatewayWithTheSameRoutesSettingsAndOptions() {
        Route chat = Route.of("/chat/{room}", Backend.of(BACKEND));
        Settings settings = Settings.builder().idleTimeout(Duration.ofMinutes(3)).build();
        GatewayResponse teapot = GatewayResponse.status(418);
        Gateway original = Gateway.builder().route(chat).settings(settings).trustedProxies("10.0.0.0/8", "::1")
                .maxConnections(500).maxRequestHeaders(50).drainWindow(Duration.ofSeconds(7))
                .response(Rejection.FORBIDDEN, teapot).build();

        DefaultGateway copy = DefaultGateway.of(original.toBuilder().build());
        DefaultGateway extended = DefaultGateway.of(original.toBuilder().route(Route.of("/feed", Backend.of("ws://feed.internal:9000/feed"))).build());

        assertEquals(original.routes(), copy.routes());
        assertEquals(settings, copy.settings());
        assertEquals(DefaultGateway.of(original).options(), copy.options());
        assertEquals(500, copy.maxConcurrentDials(), "the default stays a default, derived again");
        assertEquals(1, original.routes().size(), "the original is not changed");
        assertEquals(2, extended.routes().size());
    }

    @Test
    void concurrentDialsDefaultToAListenBacklogOrTheSmallerConnectionLimitAndTheirQueueIsBounded() {
        Route route = Route.of("/chat/{room}", Backend.of(BACKEND));
        assertEquals(Gateway.Builder.DEFAULT_CONCURRENT_DIALS,
                DefaultGateway.of(Gateway.builder().route(route).build()).maxConcurrentDials());
        DefaultGateway limited = DefaultGateway.of(Gateway.builder().route(route).maxConnections(500).build());
        assertEquals(500, limited.maxConcurrentDials());
        assertEquals(500, limited.maxQueuedDials(), "queued dials hold connection slots");
        DefaultGateway large = DefaultGateway.of(Gateway.builder().route(route).maxConnections(50_000).build());
        assertEquals(Gateway.Builder.DEFAULT_CONCURRENT_DIALS, large.maxConcurrentDials());
        assertEquals(50_000, large.maxQueuedDials());
        DefaultGateway unlimited = DefaultGateway.of(Gateway.builder().route(route).maxConcurrentDials(10).build());
        assertEquals(10, unlimited.maxConcurrentDials());
        assertEquals(160, unlimited.maxQueuedDials());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gateway.builder().maxConcurrentDials(0));
        assertEquals("maxConcurrentDials: 0 (expected: > 0)", e.getMessage());
    }

    @Test
    void upgradeWithAMethodOtherThanGetIsRejectedWith426() {
        Verdict.Reject reject = rejection(gateway(Authenticator.none()).admit(upgrade("/chat/lobby").method("POST").build()));

        assertEquals(426, reject.status());
    }

    @Test
    void upgradeHeaderIsMatchedCaseInsensitivelyAmongSeveralTokens() {
        Admission admission = gateway(Authenticator.none())
                .admit(upgrade("/chat/lobby").header("upgrade", "h2c, WebSocket").build());

        admitted(admission);
    }

    @Test
    void drainingGatewayRejectsWith503AndRetryAfter() {
        DefaultGateway gateway = gateway(Authenticator.none());
        gateway.drain(java.time.Duration.ZERO);

        Verdict.Reject reject = rejection(gateway.admit(upgrade("/chat/lobby").build()));

        assertEquals(503, reject.status());
        assertEquals("service_unavailable", reject.kind().error());
        assertTrue(Integer.parseInt(reject.headers().get("Retry-After")) > 0);
    }

    @Test
    void hasRouteTellsWhetherARouteMatches() {
        DefaultGateway gateway = gateway(Authenticator.none());

        assertTrue(gateway.hasRoute(upgrade("/chat/lobby").build()));
        assertFalse(gateway.hasRoute(upgrade("/chat").build()));
    }

    // ---- authenticator ----

    @Test
    void authenticatorRejectionKeepsItsStatusAndHeaders() {
        Authenticator bearer = h -> Verdict.reject(Rejection.UNAUTHORIZED, "token required")
                .withHeader("WWW-Authenticate", "Bearer realm=\"chat\"");

        Verdict.Reject reject = rejection(gateway(bearer).admit(upgrade("/chat/lobby").build()));

        assertEquals(401, reject.status());
        assertEquals("token required", reject.message());
        assertEquals("Bearer realm=\"chat\"", reject.headers().get("WWW-Authenticate"));
    }

    @Test
    void authenticatorRejectionWithACustomStatusKeepsIt() {
        Authenticator banned = h -> Verdict.reject(Rejection.FORBIDDEN, "banned").withStatus(451);

        assertEquals(451, rejection(gateway(banned).admit(upgrade("/chat/lobby").build())).status());
    }

    @Test
    void authenticatorThrowingIsRejectedWith500InternalError() {
        Authenticator broken = h -> {
            throw new IllegalStateException("database down");
        };

        Verdict.Reject reject = rejection(gateway(broken).admit(upgrade("/chat/lobby").build()));

        assertEquals(500, reject.status());
        assertEquals(Rejection.INTERNAL_ERROR, reject.kind());
        assertFalse(reject.message().contains("database down"), "internal details leak to the client");
    }

    @Test
    void authenticatorReturningNullIsRejectedWith500() {
        Authenticator broken = h -> null;

        assertEquals(500, rejection(gateway(broken).admit(upgrade("/chat/lobby").build())).status());
    }

    @Test
    void authenticatorSeesThePathParameters() {
        List<String> seen = new ArrayList<>();
        Authenticator spy = h -> {
            seen.add(h.pathParameter("room").orElse("?"));
            return Verdict.allow(h);
        };

        admitted(gateway(spy).admit(upgrade("/chat/room%201").build()));

        assertEquals(List.of("room 1"), seen);
    }

    @Test
    void policiesRunAfterTheAuthenticatorAndSeeItsPrincipal() {
        List<String> seen = new ArrayList<>();
        Authenticator auth = h -> Verdict.allow(h.withPrincipal(Principal.of("alice")));
        Policy spy = (h, chain) -> {
            seen.add(h.principal().map(Principal::subject).orElse("anonymous"));
            return chain.proceed(h);
        };

        admitted(gateway(auth, spy).admit(upgrade("/chat/lobby").build()));

        assertEquals(List.of("alice"), seen);
    }

    @Test
    void authenticatorRejectionSkipsThePolicies() {
        AtomicInteger calls = new AtomicInteger();
        Policy counting = (h, chain) -> {
            calls.incrementAndGet();
            return chain.proceed(h);
        };

        rejection(gateway(h -> Verdict.reject(Rejection.UNAUTHORIZED, "no"), counting).admit(upgrade("/chat/lobby").build()));

        assertEquals(0, calls.get());
    }

    // ---- policies ----

    @Test
    void policiesRunInRegistrationOrderAndPassTheirChangesOn() {
        List<String> order = new ArrayList<>();
        Policy first = (h, chain) -> {
            order.add("first");
            return chain.proceed(h.withHeader("X-Trail", "first"));
        };
        Policy second = (h, chain) -> {
            order.add("second saw " + h.header("X-Trail").orElse("nothing"));
            return chain.proceed(h.withHeader("X-Trail", h.header("X-Trail").orElse("") + ",second"));
        };

        Admission.Admitted admission = admitted(gateway(Authenticator.none(), first, second).admit(upgrade("/chat/lobby").build()));

        assertEquals(List.of("first", "second saw first"), order);
        assertEquals(List.of("first,second"), header(admission, "X-Trail"));
        assertEquals("first,second", admission.handshake().header("x-trail").orElseThrow());
    }

    @Test
    void rejectingPolicyStopsTheChain() {
        AtomicInteger later = new AtomicInteger();
        Policy reject = (h, chain) -> Verdict.reject(Rejection.FORBIDDEN, "not today");
        Policy counting = (h, chain) -> {
            later.incrementAndGet();
            return chain.proceed(h);
        };

        Verdict.Reject r = rejection(gateway(Authenticator.none(), reject, counting).admit(upgrade("/chat/lobby").build()));

        assertEquals(403, r.status());
        assertEquals(0, later.get());
    }

    @Test
    void policyMayReplaceTheVerdictOfTheRestOfTheChain() {
        Policy veto = (h, chain) -> chain.proceed(h) instanceof Verdict.Allow
                ? Verdict.reject(Rejection.RATE_LIMITED, "slow down").withHeader("Retry-After", "30")
                : Verdict.reject(Rejection.FORBIDDEN, "unexpected");

        Verdict.Reject r = rejection(gateway(Authenticator.none(), veto).admit(upgrade("/chat/lobby").build()));

        assertEquals(429, r.status());
        assertEquals("30", r.headers().get("Retry-After"));
    }

    @Test
    void policyCallingProceedTwiceIsRejectedWith500InsteadOfThrowing() {
        Policy twice = (h, chain) -> {
            chain.proceed(h);
            return chain.proceed(h);
        };

        Verdict.Reject reject = rejection(gateway(Authenticator.none(), twice).admit(upgrade("/chat/lobby").build()));

        assertEquals(500, reject.status());
        assertEquals(Rejection.INTERNAL_ERROR, reject.kind());
    }

    @Test
    void policyCallingProceedTwiceInTheMiddleOfTheChainRunsTheRestOnce() {
        AtomicInteger last = new AtomicInteger();
        Policy twice = (h, chain) -> {
            chain.proceed(h);
            return chain.proceed(h);
        };
        Policy counting = (h, chain) -> {
            last.incrementAndGet();
            return chain.proceed(h);
        };

        Verdict.Reject reject = rejection(gateway(Authenticator.none(), twice, counting).admit(upgrade("/chat/lobby").build()));

        assertEquals(500, reject.status());
        assertEquals(1, last.get());
    }

    @Test
    void policyReturningNullIsRejectedWith500() {
        Policy broken = (h, chain) -> null;

        assertEquals(500, rejection(gateway(Authenticator.none(), broken).admit(upgrade("/chat/lobby").build())).status());
    }

    @Test
    void policyThrowingIsRejectedWith500() {
        Policy broken = (h, chain) -> {
            throw new UnsupportedOperationException("bug");
        };

        assertEquals(500, rejection(gateway(Authenticator.none(), broken).admit(upgrade("/chat/lobby").build())).status());
    }

    @Test
    void policyProceedingWithNullIsRejectedWith500() {
        Policy broken = (h, chain) -> chain.proceed(null);

        assertEquals(500, rejection(gateway(Authenticator.none(), broken).admit(upgrade("/chat/lobby").build())).status());
    }

    // ---- backend target ----

    @Test
    void backendUriCarriesThePathParametersAndTheClientsQuery() {
        Admission.Admitted admission = admitted(gateway(Authenticator.none())
                .admit(upgrade("/chat/room%201").query("lang=en&v=2").build()));

        assertEquals(URI.create("ws://chat.internal:9000/rooms/room%201?lang=en&v=2"), admission.backendUri());
    }

    @Test
    void clientQueryIsJoinedToTheTemplatesOwnQuery() {
        DefaultGateway gateway = gateway(Route.of("/feed", Backend.of("ws://feed.internal/v1?format=json")));

        Admission.Admitted admission = admitted(gateway.admit(upgrade("/feed").query("since=10").build()));

        assertEquals(URI.create("ws://feed.internal/v1?format=json&since=10"), admission.backendUri());
    }

    @Test
    void backendUriHasNoQueryWhenTheClientSentNone() {
        Admission.Admitted admission = admitted(gateway(Authenticator.none()).admit(upgrade("/chat/lobby").build()));

        assertEquals(URI.create("ws://chat.internal:9000/rooms/lobby"), admission.backendUri());
    }

    @Test
    void backendThrowingIsRejectedWith500() {
        Backend broken = h -> {
            throw new IllegalStateException("no target");
        };

        assertEquals(500, rejection(gateway(Route.of("/x", broken)).admit(upgrade("/x").build())).status());
    }

    @Test
    void backendReturningNullIsRejectedWith500() {
        Backend broken = h -> null;

        assertEquals(500, rejection(gateway(Route.of("/x", broken)).admit(upgrade("/x").build())).status());
    }

    @Test
    void backendReturningANonWebSocketUriIsRejectedWith500() {
        Backend http = h -> URI.create("http://backend.internal/x");

        assertEquals(500, rejection(gateway(Route.of("/x", http)).admit(upgrade("/x").build())).status());
    }

    @Test
    void apiKeyRemovedByTheAuthenticatorIsNotForwardedInQueryOrHeaders() {
        DefaultGateway gateway = gateway(ApiKeyAuthenticator.of("s3cret-key", "mobile-app"));

        Admission.Admitted byQuery = admitted(gateway.admit(upgrade("/chat/lobby").query("api_key=s3cret-key&lang=en").build()));
        Admission.Admitted byHeader = admitted(gateway.admit(upgrade("/chat/lobby").header("X-API-Key", "s3cret-key").build()));

        assertEquals(URI.create("ws://chat.internal:9000/rooms/lobby?lang=en"), byQuery.backendUri());
        assertEquals(URI.create("ws://chat.internal:9000/rooms/lobby"), byHeader.backendUri());
        for (Admission.Admitted a : List.of(byQuery, byHeader)) {
            assertFalse(a.backendUri().toString().contains("s3cret"), a.backendUri().toString());
            assertFalse(a.backendHeaders().toString().contains("s3cret"), a.backendHeaders().toString());
            assertTrue(header(a, "X-API-Key").isEmpty());
            assertEquals(List.of("mobile-app"), header(a, "X-Gatehouse-Consumer"));
        }
    }

    @Test
    void clientSubprotocolsAreOfferedToTheBackendAsTheyAre() {
        Admission.Admitted admission = admitted(gateway(Authenticator.none())
                .admit(upgrade("/chat/lobby").subprotocols(List.of("chat.v2", "chat.v1")).build()));

        assertEquals(List.of("chat.v2", "chat.v1"), admission.subprotocols());
    }

    // ---- backend headers ----

    @Test
    void backendReceivesForwardedHeaders() {
        Admission.Admitted admission = admitted(gateway(Authenticator.none()).admit(upgrade("/chat/lobby").secure(true).build()));

        assertEquals(List.of("203.0.113.7"), header(admission, "X-Forwarded-For"));
        assertEquals(List.of("https"), header(admission, "X-Forwarded-Proto"));
        assertEquals(List.of("gw.example.com"), header(admission, "X-Forwarded-Host"));
        assertEquals(List.of("for=203.0.113.7;proto=https;host=\"gw.example.com\""), header(admission, "Forwarded"));
        assertEquals(List.of("req-1"), header(admission, "X-Gatehouse-Connection-Id"));
    }

    @Test
    void plainConnectionIsForwardedAsHttp() {
        Admission.Admitted admission = admitted(gateway(Authenticator.none()).admit(upgrade("/chat/lobby").build()));

        assertEquals(List.of("http"), header(admission, "X-Forwarded-Proto"));
    }

    @Test
    void ipv6ClientIsQuotedAndBracketedInForwarded() {
        Admission.Admitted admission = admitted(gateway(Authenticator.none()).admit(upgrade("/chat/lobby")
                .remoteAddress(new InetSocketAddress("2001:db8::1", 40000)).build()));

        String forwarded = header(admission, "Forwarded").get(0);
        assertTrue(forwarded.startsWith("for=\"[2001:db8:0:0:0:0:0:1]\";") || forwarded.startsWith("for=\"[2001:db8::1]\";"),
                forwarded);
    }

    @Test
    void backendReceivesIdentityHeadersFromThePrincipal() {
        Authenticator auth = h -> Verdict.allow(h.withPrincipal(Principal.builder("alice").consumer("mobile-app").build()));

        Admission.Admitted admission = admitted(gateway(auth).admit(upgrade("/chat/lobby").build()));

        assertEquals(List.of("alice"), header(admission, "X-Gatehouse-Subject"));
        assertEquals(List.of("mobile-app"), header(admission, "X-Gatehouse-Consumer"));
    }

    @Test
    void anonymousClientSendsNoIdentityHeaders() {
        Admission.Admitted admission = admitted(gateway(Authenticator.none()).admit(upgrade("/chat/lobby").build()));

        assertTrue(header(admission, "X-Gatehouse-Subject").isEmpty());
        assertTrue(header(admission, "X-Gatehouse-Consumer").isEmpty());
    }

    @Test
    void clientQueryWithCharactersAUriForbidsIsEncodedNotRejected() {
        Admission.Admitted admission = admitted(gateway(Authenticator.none())
                .admit(upgrade("/chat/lobby").query("a=b|c d&e=%41\u00e9").build()));

        assertEquals("a=b%7Cc%20d&e=%41%C3%A9", admission.backendUri().getRawQuery());
    }

    @Test
    void identityHeadersSentByTheClientAreGoneBeforeTheAuthenticatorRuns() {
        List<String> seen = new ArrayList<>();
        Authenticator auth = h -> {
            seen.add(h.header("X-Gatehouse-Subject").orElse("none"));
            return Verdict.allow(h);
        };

        admitted(gateway(auth).admit(upgrade("/chat/lobby").header("X-Gatehouse-Subject", "root").build()));

        assertEquals(List.of("none"), seen);
    }

    @Test
    void identityHeaderAddedByAPolicyReachesTheBackendOnce() {
        Authenticator auth = h -> Verdict.allow(h.withPrincipal(Principal.of("alice")));
        Policy tenant = (h, chain) -> chain.proceed(h.withHeader("X-Gatehouse-Tenant", "acme")
                .withHeader("X-Gatehouse-Subject", "policy-cannot-override"));

        Admission.Admitted admission = admitted(gateway(auth, tenant).admit(upgrade("/chat/lobby").build()));

        assertEquals(List.of("acme"), header(admission, "X-Gatehouse-Tenant"));
        assertEquals(List.of("alice"), header(admission, "X-Gatehouse-Subject"));
    }

    @Test
    void clientCannotSpoofGatewayOrForwardingHeaders() {
        Authenticator auth = h -> Verdict.allow(h.withPrincipal(Principal.of("alice")));
        Handshake spoofed = upgrade("/chat/lobby")
                .header("X-Gatehouse-Subject", "root")
                .header("X-Gatehouse-Consumer", "admin-app")
                .header("X-Gatehouse-Connection-Id", "forged")
                .header("X-Gatehouse-Anything", "x")
                .header("X-Forwarded-For", "10.0.0.1")
                .header("X-Forwarded-Proto", "https")
                .header("X-Forwarded-Host", "evil.example")
                .header("Forwarded", "for=10.0.0.1")
                .build();

        Admission.Admitted admission = admitted(gateway(auth).admit(spoofed));

        assertEquals(List.of("alice"), header(admission, "X-Gatehouse-Subject"));
        assertTrue(header(admission, "X-Gatehouse-Consumer").isEmpty());
        assertTrue(header(admission, "X-Gatehouse-Anything").isEmpty());
        assertEquals(List.of("req-1"), header(admission, "X-Gatehouse-Connection-Id"));
        assertEquals(List.of("203.0.113.7"), header(admission, "X-Forwarded-For"));
        assertEquals(List.of("http"), header(admission, "X-Forwarded-Proto"));
        assertEquals(List.of("gw.example.com"), header(admission, "X-Forwarded-Host"));
        assertFalse(header(admission, "Forwarded").get(0).contains("10.0.0.1"));
    }

    @Test
    void hopByHopCredentialAndHandshakeHeadersAreNotForwarded() {
        Handshake request = upgrade("/chat/lobby")
                .header("Authorization", "Bearer secret-token")
                .header("Connection", "Upgrade, X-Hop")
                .header("X-Hop", "hop value")
                .header("Keep-Alive", "timeout=5")
                .header("Proxy-Authorization", "Basic abc")
                .header("TE", "trailers")
                .header("Transfer-Encoding", "chunked")
                .header("Sec-WebSocket-Protocol", "chat.v1")
                .header("Sec-WebSocket-Extensions", "permessage-deflate")
                .build();

        Admission.Admitted admission = admitted(gateway(Authenticator.none()).admit(request));

        for (String name : List.of("Authorization", "Connection", "Upgrade", "Host", "X-Hop", "Keep-Alive",
                "Proxy-Authorization", "TE", "Transfer-Encoding", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
                "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions")) {
            assertTrue(header(admission, name).isEmpty(), () -> name + " was forwarded: " + admission.backendHeaders());
        }
        assertFalse(admission.backendHeaders().toString().toLowerCase(Locale.ROOT).contains("secret-token"));
    }

    @Test
    void endToEndHeadersAreForwardedWithAllTheirValues() {
        Handshake request = upgrade("/chat/lobby")
                .header("Cookie", "session=abc")
                .header("Origin", "https://app.example.com")
                .addHeader("X-Tenant", "t1")
                .addHeader("X-Tenant", "t2")
                .build();

        Admission.Admitted admission = admitted(gateway(Authenticator.none()).admit(request));

        assertEquals(List.of("session=abc"), header(admission, "Cookie"));
        assertEquals(List.of("https://app.example.com"), header(admission, "Origin"));
        assertEquals(List.of("t1", "t2"), header(admission, "X-Tenant"));
    }

    @Test
    void admissionCarriesTheRouteAndItsOwnSettings() {
        dev.gatehouse.Settings own = dev.gatehouse.Settings.builder().maxMessageSize(42).build();
        Route withSettings = Route.builder("/own").backend(Backend.of("ws://b/own")).settings(own).build();
        Route plain = Route.of("/plain", Backend.of("ws://b/plain"));
        DefaultGateway gateway = gateway(withSettings, plain);

        Admission.Admitted a = admitted(gateway.admit(upgrade("/own").build()));
        Admission.Admitted b = admitted(gateway.admit(upgrade("/plain").build()));

        assertEquals(withSettings, a.route());
        assertEquals(own, a.settings());
        assertEquals(gateway.settings(), b.settings());
    }

    @Test
    void hostRouteIsChosenByTheHostHeaderIgnoringCaseAndPort() {
        Route tenant = Route.builder("/ws").host("*.tenants.example.com").backend(Backend.of("ws://tenant/ws")).build();
        Route fallback = Route.of("/ws", Backend.of("ws://default/ws"));
        DefaultGateway gateway = gateway(fallback, tenant);

        Admission.Admitted a = admitted(gateway.admit(upgrade("/ws").host("ACME.Tenants.Example.com:8443").build()));
        Admission.Admitted b = admitted(gateway.admit(upgrade("/ws").host("example.com").build()));

        assertEquals(URI.create("ws://tenant/ws"), a.backendUri());
        assertEquals(URI.create("ws://default/ws"), b.backendUri());
    }

    @Test
    void refusedHandshakeIsARejectionWithoutABackend() {
        Admission admission = gateway(Authenticator.none()).admit(upgrade("/nowhere").build());

        Admission.Rejected rejected = assertInstanceOf(Admission.Rejected.class, admission);
        assertEquals(Rejection.ROUTE_NOT_FOUND, rejected.reject().kind());
        assertEquals(admission.rejection(), Optional.of(rejected.reject()));
    }
}
