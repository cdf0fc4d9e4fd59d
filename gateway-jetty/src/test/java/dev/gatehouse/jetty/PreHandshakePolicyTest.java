package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;
import dev.gatehouse.policy.IpPolicy;
import dev.gatehouse.policy.LimitKey;
import dev.gatehouse.policy.RateLimitPolicy;

/**
 * The pre-handshake policies and limits through a real gateway: each rejection gets its documented status
 * and headers, and a rejected handshake never reaches the backend.
 */
class PreHandshakePolicyTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final Servers servers = new Servers();
    private TestBackend backend;

    @BeforeEach
    void useTheBackend() {
        backend = servers.backend();
    }

    private GatewayServer start(Mount mount, Gateway.Builder gateway, Route route) throws Exception {
        return servers.start(gateway.route(route).build(), mount);
    }

    private Route.Builder echo() {
        return Route.builder("/echo").backend(Backend.of(backend.uri("/echo")));
    }

    private static String error(RawHttp.Response r) {
        String body = r.body();
        int start = body.indexOf("\"error\":\"") + 9;
        return body.substring(start, body.indexOf('"', start));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void floodBeyondTheRateLimitGets429WithRetryAfterAndOnlyTheAdmittedReachTheBackend(Mount mount) throws Exception {
        Instant frozen = Instant.parse("2030-01-01T00:00:00Z"); // no refill during the flood
        RateLimitPolicy limit = RateLimitPolicy.builder(LimitKey.clientAddress()).rate(1, Duration.ofSeconds(2))
                .burst(3).clock(() -> frozen).build();
        GatewayServer gw = start(mount, Gateway.builder(), echo().policy(limit).build());
        int upgraded = 0;
        int limited = 0;

        for (int i = 0; i < 30; i++) {
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"));
            if (r.status() == 101) {
                upgraded++;
                continue;
            }
            assertEquals(429, r.status(), r.body());
            assertEquals("2", r.header("retry-after"));
            assertEquals("rate_limited", error(r));
            assertEquals("application/json", r.header("content-type"));
            limited++;
        }

        assertEquals(3, upgraded);
        assertEquals(27, limited);
        assertEquals(3, backend.upgrades.size(), "the backend saw only the admitted handshakes");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void wrongKeysGet401UntilTheAuthFailureLimitThenEvenTheRightKeyGets429ForTheCoolDown(Mount mount) throws Exception {
        Instant frozen = Instant.parse("2030-01-01T00:00:00Z"); // no failure comes back during the test
        GatewayServer gw = start(mount, Gateway.builder()
                        .authFailureLimit(AuthFailureLimit.builder(3, Duration.ofMinutes(1)).clock(() -> frozen).build()),
                echo().authenticator(ApiKeyAuthenticator.of("right-key", "mobile")).build());

        for (String key : new String[] {"guess-1", "guess-2", "right-key", "guess-3"}) {
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"), "X-API-Key: " + key);
            if (key.equals("right-key")) {
                assertEquals(101, r.status(), "a good client below the limit is unaffected");
                backend.nextUpgrade();
            } else {
                assertEquals(401, r.status(), r.body());
                assertEquals("unauthorized", error(r));
            }
        }
        for (String key : new String[] {"guess-4", "right-key"}) {
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"), "X-API-Key: " + key);
            assertEquals(429, r.status(), r.body());
            assertEquals("60", r.header("retry-after"));
            assertEquals("application/json", r.header("content-type"));
            assertEquals("rate_limited", error(r));
            assertTrue(r.body().contains("\"message\":\"too many failed authentications from this address; retry in 60 s\""),
                    r.body());
        }

        assertTrue(backend.upgrades.isEmpty(), "a handshake refused during the cool-down reached the backend");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void perIpConnectionLimitGets429ThenAdmitsAgainOnceAConnectionCloses(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Gateway.builder(), echo().maxConnectionsPerIp(2).build());
        RecordingListener firstEvents = new RecordingListener();
        WebSocket first = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), firstEvents).get(5, TimeUnit.SECONDS);
        WebSocket second = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), new RecordingListener())
                .get(5, TimeUnit.SECONDS);
        String firstId = backend.nextUpgrade().header("X-Gatehouse-Connection-Id");
        backend.nextUpgrade();

        RawHttp.Response refused = RawHttp.upgrade(gw.httpUri("/echo"));
        assertEquals(429, refused.status(), refused.body());
        assertEquals("too_many_connections", error(refused));
        assertTrue(backend.upgrades.isEmpty(), "the refused handshake reached the backend");

        first.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);
        firstEvents.assertClose(1000, "bye");
        assertEquals(new TestBackend.Closed(1000, "bye"), backend.nextClose());
        // The slot is given back when the bridge ends, just after the client got its close, and before the
        // bridge writes its access-log line.
        RecordingLogProvider.awaitLine(l -> l.contains("dev.gatehouse.access") && l.contains("\"requestId\":\"" + firstId + "\""));

        assertEquals(101, RawHttp.upgrade(gw.httpUri("/echo")).status());
        assertEquals(1, backend.upgrades.size());
        second.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void deniedAddressGets403AndNeverReachesTheBackend(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Gateway.builder(), echo().policy(IpPolicy.deny("127.0.0.0/8", "::1")).build());

        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"));

        assertEquals(403, r.status(), r.body());
        assertEquals("forbidden", error(r));
        assertTrue(r.body().contains("127.0.0.1"), r.body());
        assertTrue(backend.upgrades.isEmpty());
    }

    @Test
    void spoofedForwardedForFromAnUntrustedPeerDoesNotChangeTheClientAddress() throws Exception {
        GatewayServer gw = start(Mount.SERVLET, Gateway.builder().trustedProxies("10.0.0.0/8"),
                echo().policy(IpPolicy.deny("198.51.100.0/24")).build());

        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"), "X-Forwarded-For: 198.51.100.20",
                "Forwarded: for=198.51.100.20");

        assertEquals(101, r.status(), "the spoofed address must not be the one the deny list sees");
        TestBackend.Upgrade up = backend.nextUpgrade();
        assertEquals("127.0.0.1", up.header("X-Forwarded-For"));
        assertTrue(up.header("Forwarded").startsWith("for=127.0.0.1;"), up.header("Forwarded"));
    }

    @Test
    void trustedProxysForwardedForIsExtendedAndDecidesTheClientAddress() throws Exception {
        GatewayServer gw = start(Mount.HANDLER, Gateway.builder().trustedProxies("127.0.0.1"),
                echo().policy(IpPolicy.deny("198.51.100.0/24")).build());

        RawHttp.Response allowed = RawHttp.upgrade(gw.httpUri("/echo"), "X-Forwarded-For: 203.0.113.9");
        RawHttp.Response denied = RawHttp.upgrade(gw.httpUri("/echo"), "X-Forwarded-For: 198.51.100.20");

        assertEquals(101, allowed.status());
        assertEquals("203.0.113.9, 127.0.0.1", backend.nextUpgrade().header("X-Forwarded-For"));
        assertEquals(403, denied.status());
        assertTrue(backend.upgrades.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void oversizedHeadersGet431AndLongUriGets414(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Gateway.builder().maxRequestHeaderBytes(1024).maxRequestUriLength(200),
                echo().build());

        RawHttp.Response headers = RawHttp.upgrade(gw.httpUri("/echo"), "Cookie: " + "c".repeat(2000));
        RawHttp.Response uri = RawHttp.upgrade(gw.httpUri("/echo?q=" + "a".repeat(300)));

        assertEquals(431, headers.status(), headers.body());
        assertEquals("request_headers_too_large", error(headers));
        assertEquals(414, uri.status(), uri.body());
        assertEquals("uri_too_long", error(uri));
        assertTrue(backend.upgrades.isEmpty());
    }
}
