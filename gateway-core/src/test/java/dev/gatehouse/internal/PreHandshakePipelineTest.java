package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.policy.ClaimsPolicy;
import dev.gatehouse.policy.LimitKey;
import dev.gatehouse.policy.QuotaPolicy;
import dev.gatehouse.policy.RateLimitPolicy;

/**
 * The pre-handshake limits and policies through {@link DefaultGateway#admit}: request size limits before
 * routing, and the built-in policies with their statuses. A rejected handshake never gets a backend target.
 */
class PreHandshakePipelineTest {

    private final AtomicInteger targets = new AtomicInteger();
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2030-01-01T12:00:00Z"));

    /** A backend that counts how often the pipeline asked it for a target. */
    private Backend countingBackend() {
        return h -> {
            targets.incrementAndGet();
            return URI.create("ws://chat.internal:9000/rooms");
        };
    }

    private DefaultGateway gateway(Gateway.Builder gateway, Authenticator authenticator, Policy... policies) {
        Route.Builder r = Route.builder("/chat/{room}").authenticator(authenticator).backend(countingBackend());
        for (Policy p : policies) {
            r.policy(p);
        }
        return DefaultGateway.of(gateway.route(r.build()).build());
    }

    private DefaultGateway gateway(Policy... policies) {
        return gateway(Gateway.builder(), Authenticator.none(), policies);
    }

    private static Handshake.Builder upgrade(String path) {
        return Handshake.builder(Ids.next(), path)
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .host("gw.example.com")
                .remoteAddress(new InetSocketAddress("203.0.113.7", 40000));
    }

    private static Verdict.Reject rejection(Admission admission) {
        Verdict.Reject reject = admission.rejection().orElseThrow(() -> new AssertionError("admitted"));
        assertInstanceOf(Admission.Rejected.class, admission, "a rejected admission has no backend");
        return reject;
    }

    // ---- request size limits ----

    @Test
    void uriLongerThanTheLimitIsRejectedWith414BeforeRouting() {
        DefaultGateway gateway = gateway(Gateway.builder().maxRequestUriLength(40), Authenticator.none());

        Verdict.Reject onRoute = rejection(gateway.admit(upgrade("/chat/lobby").query("x=" + "a".repeat(40)).build()));
        Verdict.Reject offRoute = rejection(gateway.admit(upgrade("/nowhere/" + "a".repeat(40)).build()));

        assertEquals(414, onRoute.status());
        assertEquals(Rejection.URI_TOO_LONG, onRoute.kind());
        assertEquals("uri_too_long", onRoute.kind().error());
        assertEquals(414, offRoute.status());
        assertEquals(0, targets.get());
    }

    @Test
    void uriAtTheLimitIsAccepted() {
        DefaultGateway gateway = gateway(Gateway.builder().maxRequestUriLength(15), Authenticator.none());

        assertTrue(gateway.admit(upgrade("/chat/lobby").query("a=1").build()).rejection().isEmpty()); // 11 + 1 + 3
        assertEquals(414, rejection(gateway.admit(upgrade("/chat/lobby").query("a=12").build())).status());
    }

    @Test
    void tooManyHeaderFieldsAreRejectedWith431() {
        DefaultGateway gateway = gateway(Gateway.builder().maxRequestHeaders(5), Authenticator.none());
        Handshake.Builder b = upgrade("/chat/lobby"); // Upgrade, Connection
        for (int i = 0; i < 4; i++) {
            b.addHeader("X-Tag", "t" + i);
        }

        Verdict.Reject reject = rejection(gateway.admit(b.build()));

        assertEquals(431, reject.status());
        assertEquals(Rejection.REQUEST_HEADERS_TOO_LARGE, reject.kind());
        assertEquals("request_headers_too_large", reject.kind().error());
    }

    @Test
    void headersLargerThanTheLimitAreRejectedWith431() {
        DefaultGateway gateway = gateway(Gateway.builder().maxRequestHeaderBytes(1024), Authenticator.none());

        Verdict.Reject reject = rejection(gateway.admit(upgrade("/chat/lobby").header("Cookie", "c".repeat(1024)).build()));

        assertEquals(431, reject.status());
        assertTrue(gateway.admit(upgrade("/chat/lobby").header("Cookie", "c".repeat(900)).build()).rejection().isEmpty());
    }

    @Test
    void defaultLimitsAdmitOrdinaryRequestsAndRefuseHugeOnes() {
        DefaultGateway gateway = gateway();

        assertTrue(gateway.admit(upgrade("/chat/lobby").header("Cookie", "c".repeat(8000)).build()).rejection().isEmpty());
        assertEquals(431, rejection(gateway.admit(upgrade("/chat/lobby").header("Cookie", "c".repeat(17 * 1024)).build()))
                .status());
        assertEquals(414, rejection(gateway.admit(upgrade("/chat/lobby").query("q=" + "a".repeat(8 * 1024)).build()))
                .status());
        Handshake.Builder many = upgrade("/chat/lobby");
        for (int i = 0; i < 100; i++) {
            many.addHeader("X-Tag", "t");
        }
        assertEquals(431, rejection(gateway.admit(many.build())).status());
    }

    @Test
    void sizeLimitsMustBePositive() {
        assertEquals("maxRequestHeaderBytes: 0 (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> Gateway.builder().maxRequestHeaderBytes(0)).getMessage());
        assertEquals("maxRequestHeaders: 0 (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> Gateway.builder().maxRequestHeaders(0)).getMessage());
        assertEquals("maxRequestUriLength: -5 (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> Gateway.builder().maxRequestUriLength(-5)).getMessage());
    }

    // ---- handshake rate limit ----

    @Test
    void floodBeyondTheRateLimitIsRejectedWith429AndRetryAfterAndOnlyTheBurstIsAdmitted() {
        RateLimitPolicy limit = RateLimitPolicy.builder(LimitKey.clientAddress()).rate(5, Duration.ofSeconds(1))
                .burst(10).clock(now::get).build();
        DefaultGateway gateway = gateway(limit);
        int admitted = 0;
        int limited = 0;

        for (int i = 0; i < 200; i++) {
            Admission a = gateway.admit(upgrade("/chat/lobby").build());
            if (a.rejection().isEmpty()) {
                admitted++;
                continue;
            }
            Verdict.Reject reject = rejection(a);
            assertEquals(429, reject.status());
            assertEquals(Rejection.RATE_LIMITED, reject.kind());
            assertEquals("1", reject.headers().get("Retry-After"));
            limited++;
        }

        assertEquals(10, admitted);
        assertEquals(190, limited);
        assertEquals(10, targets.get(), "the backend was consulted for admitted handshakes only");
    }

    @Test
    void rateLimitedClientIsAdmittedAgainAfterRetryAfter() {
        DefaultGateway gateway = gateway(RateLimitPolicy.builder(LimitKey.clientAddress()).rate(1, Duration.ofSeconds(2))
                .clock(now::get).build());
        assertTrue(gateway.admit(upgrade("/chat/lobby").build()).rejection().isEmpty());
        Verdict.Reject reject = rejection(gateway.admit(upgrade("/chat/lobby").build()));

        now.updateAndGet(t -> t.plusSeconds(Long.parseLong(reject.headers().get("Retry-After"))));

        assertTrue(gateway.admit(upgrade("/chat/lobby").build()).rejection().isEmpty());
    }

    @Test
    void floodFromOneClientDoesNotLimitAnother() {
        DefaultGateway gateway = gateway(RateLimitPolicy.builder(LimitKey.clientAddress()).rate(1, Duration.ofSeconds(1))
                .clock(now::get).build());
        for (int i = 0; i < 50; i++) {
            gateway.admit(upgrade("/chat/lobby").build());
        }

        assertTrue(gateway.admit(upgrade("/chat/lobby").remoteAddress(new InetSocketAddress("203.0.113.8", 1)).build())
                .rejection().isEmpty());
    }

    @Test
    void spoofedForwardedForDoesNotEscapeThePerIpRateLimit() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"), Authenticator.none(),
                RateLimitPolicy.builder(LimitKey.clientAddress()).rate(1, Duration.ofSeconds(1)).clock(now::get).build());
        assertTrue(gateway.admit(upgrade("/chat/lobby").build()).rejection().isEmpty());

        for (int i = 0; i < 20; i++) {
            Verdict.Reject reject = rejection(gateway.admit(upgrade("/chat/lobby")
                    .header("X-Forwarded-For", "198.51.100." + i).build()));
            assertEquals(429, reject.status());
        }
    }

    // ---- quota and claims ----

    @Test
    void quotaExceededIsRejectedWith429AndRetryAfterUntilThePeriodEnds() {
        Authenticator app = h -> Verdict.allow(h.withPrincipal(Principal.builder("device-1").consumer("app").build()));
        DefaultGateway gateway = gateway(Gateway.builder(), app,
                QuotaPolicy.builder(3, Duration.ofDays(1)).clock(now::get).build());
        for (int i = 0; i < 3; i++) {
            assertTrue(gateway.admit(upgrade("/chat/lobby").build()).rejection().isEmpty());
        }

        Verdict.Reject reject = rejection(gateway.admit(upgrade("/chat/lobby").build()));

        assertEquals(429, reject.status());
        assertEquals(Rejection.QUOTA_EXCEEDED, reject.kind());
        assertEquals(Long.toString(12 * 3600), reject.headers().get("Retry-After"));
        assertEquals(3, targets.get());
    }

    @Test
    void missingScopeIsRejectedWith403AndAnonymousWith401() {
        Authenticator reader = h -> h.header("X-User").map(u -> Verdict.allow(h.withPrincipal(
                Principal.builder(u).scopes(java.util.Set.of("chat:read")).build()))).orElseGet(() -> Verdict.allow(h));
        DefaultGateway gateway = gateway(Gateway.builder(), reader, ClaimsPolicy.requireScopes("chat:write"));

        Verdict.Reject forbidden = rejection(gateway.admit(upgrade("/chat/lobby").header("X-User", "alice").build()));
        Verdict.Reject anonymous = rejection(gateway.admit(upgrade("/chat/lobby").build()));

        assertEquals(403, forbidden.status());
        assertTrue(forbidden.headers().get("WWW-Authenticate").startsWith("Bearer error=\"insufficient_scope\""));
        assertEquals(401, anonymous.status());
        assertEquals(0, targets.get());
    }

    @Test
    void storeFailureRejectsWith500() {
        dev.gatehouse.spi.LimiterStore broken = new dev.gatehouse.spi.LimiterStore() {
            @Override
            public Take tryTake(String key, Bucket bucket, int tokens, Instant at) {
                throw new IllegalStateException("store down");
            }

            @Override
            public Count increment(String key, Duration window, Instant at) {
                throw new IllegalStateException("store down");
            }
        };
        DefaultGateway gateway = gateway(RateLimitPolicy.builder(LimitKey.route()).rate(1, Duration.ofSeconds(1))
                .store(broken).build());

        assertEquals(500, rejection(gateway.admit(upgrade("/chat/lobby").build())).status());
    }
}
