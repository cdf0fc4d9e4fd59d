package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.BridgeHarness.Connection;

/**
 * Concurrent-connection limits: slots reserved at admission, after authentication and policies, held by the
 * bridge, and given back exactly once however the bridge ends.
 */
class ConnectionLimitsTest {

    private static final String BACKEND = "ws://chat.internal:9000/rooms/{room}";
    private final List<Connection> connections = new ArrayList<>();

    @AfterEach
    void engineKeptTheChannelContract() {
        List<String> violations = new ArrayList<>();
        for (Connection c : connections) {
            violations.addAll(c.client.channel.violations());
            violations.addAll(c.backend.channel.violations());
        }
        assertEquals(List.of(), violations);
    }

    private static DefaultGateway gateway(Gateway.Builder gateway, Route... routes) {
        for (Route r : routes) {
            gateway.route(r);
        }
        gateway.settings(BridgeHarness.quiet().build());
        return DefaultGateway.of(gateway.build());
    }

    private static Route.Builder chat() {
        return Route.builder("/chat/{room}").backend(Backend.of(BACKEND));
    }

    private static Handshake request(String path, String ip) {
        return Handshake.builder(Ids.next(), path)
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .host("gw.example.com")
                .remoteAddress(new InetSocketAddress(ip, 40000))
                .build();
    }

    private static Handshake request(String ip) {
        return request("/chat/lobby", ip);
    }

    /** Admits, creates the bridge and connects both legs; fails if rejected. */
    private Connection open(DefaultGateway gateway, Handshake request) {
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request));
        Connection c = new Connection(gateway.newBridge(admission));
        connections.add(c);
        assertTrue(c.connectBackend(null));
        c.connectClient();
        return c;
    }

    private static Verdict.Reject rejected(DefaultGateway gateway, Handshake request) {
        return gateway.admit(request).rejection().orElseThrow(() -> new AssertionError("admitted"));
    }

    private static void closeNormally(Connection c) {
        c.client.sendClose(CloseStatus.of(1000, "bye"));
        c.backend.sendClose(CloseStatus.of(1000, "bye"));
        assertTrue(c.bridge.closed().isDone(), "the bridge ended");
    }

    // ---- the limits ----

    @Test
    void perIpLimitRejectsWith429UntilOneOfTheAddressesConnectionsEnds() {
        DefaultGateway gateway = gateway(Gateway.builder(), chat().maxConnectionsPerIp(2).build());
        Connection first = open(gateway, request("203.0.113.7"));
        open(gateway, request("203.0.113.7"));

        Verdict.Reject reject = rejected(gateway, request("203.0.113.7"));
        assertEquals(429, reject.status());
        assertEquals(Rejection.TOO_MANY_CONNECTIONS, reject.kind());
        open(gateway, request("203.0.113.8"));

        closeNormally(first);

        open(gateway, request("203.0.113.7"));
    }

    @Test
    void globalLimitRejectsWith503AndRetryAfter() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(2), chat().build(),
                Route.builder("/feed").backend(Backend.of("ws://feed.internal:9000/")).build());
        open(gateway, request("/chat/a", "203.0.113.7"));
        open(gateway, request("/feed", "203.0.113.8"));

        Verdict.Reject reject = rejected(gateway, request("/chat/b", "203.0.113.9"));

        assertEquals(503, reject.status());
        assertEquals(Rejection.UNAVAILABLE, reject.kind());
        assertEquals("5", reject.headers().get("Retry-After"));
    }

    @Test
    void routeLimitCountsEveryClientOfThatRouteOnly() {
        DefaultGateway gateway = gateway(Gateway.builder(), chat().maxConnections(1).build(),
                Route.builder("/feed").backend(Backend.of("ws://feed.internal:9000/")).maxConnections(1).build());
        open(gateway, request("/chat/a", "203.0.113.7"));

        assertEquals(429, rejected(gateway, request("/chat/b", "203.0.113.8")).status());
        open(gateway, request("/feed", "203.0.113.8"));
    }

    @Test
    void perPrincipalLimitCountsBySubject() {
        Authenticator byHeader = h -> Verdict.allow(h.withPrincipal(Principal.of(h.header("X-User").orElse("?"))));
        DefaultGateway gateway = gateway(Gateway.builder(),
                chat().authenticator(byHeader).maxConnectionsPerPrincipal(1).build());
        open(gateway, request("203.0.113.7").withHeader("X-User", "alice"));

        Verdict.Reject reject = rejected(gateway, request("203.0.113.8").withHeader("X-User", "alice"));

        assertEquals(429, reject.status());
        assertEquals(Rejection.TOO_MANY_CONNECTIONS, reject.kind());
        open(gateway, request("203.0.113.7").withHeader("X-User", "bob"));
    }

    @Test
    void perPrincipalLimitCountsAnonymousClientsByAddressApartFromThePerIpLimit() {
        DefaultGateway gateway = gateway(Gateway.builder(),
                chat().maxConnectionsPerPrincipal(2).maxConnectionsPerIp(2).build());
        open(gateway, request("203.0.113.7"));
        open(gateway, request("203.0.113.7"));

        assertEquals(429, rejected(gateway, request("203.0.113.7")).status());
    }

    @Test
    void perIpLimitUsesTheClientAddressFromATrustedProxy() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8"),
                chat().maxConnectionsPerIp(1).build());
        open(gateway, request("10.0.0.5").withHeader("X-Forwarded-For", "198.51.100.1"));

        open(gateway, request("10.0.0.5").withHeader("X-Forwarded-For", "198.51.100.2"));
        assertEquals(429, rejected(gateway, request("10.0.0.6").withHeader("X-Forwarded-For", "198.51.100.1")).status());
    }

    // ---- when slots are taken ----

    @Test
    void handshakeRejectedByAuthenticationOrPolicyHoldsNoSlot() {
        Authenticator onlyAlice = h -> h.header("X-User").filter("alice"::equals)
                .map(u -> Verdict.allow(h.withPrincipal(Principal.of(u))))
                .orElseGet(() -> Verdict.reject(Rejection.UNAUTHORIZED, "who?"));
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(1), chat().authenticator(onlyAlice)
                .policy((h, chain) -> h.query().contains("deny") ? Verdict.reject(Rejection.FORBIDDEN, "no")
                        : chain.proceed(h))
                .maxConnections(1).maxConnectionsPerIp(1).maxConnectionsPerPrincipal(1).build());

        for (int i = 0; i < 5; i++) {
            assertEquals(401, rejected(gateway, request("203.0.113.7")).status());
            assertEquals(403, rejected(gateway, Handshake.builder(Ids.next(), "/chat/lobby").header("Upgrade", "websocket")
                    .header("Connection", "Upgrade").header("Sec-WebSocket-Version", "13")
                    .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                    .query("deny").header("X-User", "alice").remoteAddress(new InetSocketAddress("203.0.113.7", 1)).build())
                    .status());
        }

        assertEquals(0, gateway.connectionLimits().keys());
        open(gateway, request("203.0.113.7").withHeader("X-User", "alice"));
    }

    @Test
    void handshakeWhoseBackendCannotBeResolvedHoldsNoSlot() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(1),
                Route.builder("/broken").backend(h -> {
                    throw new IllegalStateException("no target");
                }).build());

        assertEquals(500, rejected(gateway, request("/broken", "203.0.113.7")).status());
        assertEquals(0, gateway.connectionLimits().keys());
    }

    @Test
    void limitReachedAtOneLevelGivesBackTheSlotsTakenAtTheOthers() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(10),
                chat().maxConnections(5).maxConnectionsPerIp(1).build());
        open(gateway, request("203.0.113.7"));

        rejected(gateway, request("203.0.113.7"));
        rejected(gateway, request("203.0.113.7"));

        assertEquals(1, gateway.connectionLimits().count("global"));
        assertEquals(3, gateway.connectionLimits().keys()); // global, route, address
    }

    // ---- when slots are given back ----

    @Test
    void slotsAreGivenBackWhenTheBackendDialFails() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(1), chat().build());
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request("203.0.113.7")));
        Bridge bridge = gateway.newBridge(admission);

        bridge.abandon("backend dial failed");

        assertTrue(bridge.closed().isDone());
        assertEquals(0, gateway.connectionLimits().keys());
        open(gateway, request("203.0.113.7"));
    }

    @Test
    void slotsAreGivenBackWhenTheClientUpgradeIsAbandonedOnceTheBackendAnswers() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(1), chat().build());
        Connection c = new Connection(gateway.newBridge(Admissions.admitted(gateway.admit(request("203.0.113.7")))));
        connections.add(c);
        assertTrue(c.connectBackend(null));

        c.bridge.abandon("client upgrade failed");
        assertEquals(503, rejected(gateway, request("203.0.113.8")).status()); // the backend leg is still closing
        c.backend.echoClose();

        assertTrue(c.bridge.closed().isDone());
        open(gateway, request("203.0.113.8"));
    }

    @Test
    void slotsAreGivenBackWhenAConnectionIsLost() {
        DefaultGateway gateway = gateway(Gateway.builder(), chat().maxConnectionsPerIp(1).build());
        Connection c = open(gateway, request("203.0.113.7"));

        c.client.drop();
        c.backend.echoClose();

        assertTrue(c.bridge.closed().isDone());
        open(gateway, request("203.0.113.7"));
    }

    @Test
    void slotsAreGivenBackWhenTheRegistryClosesAConnection() {
        DefaultGateway gateway = gateway(Gateway.builder(), chat().maxConnections(1).build());
        Connection c = open(gateway, request("203.0.113.7"));

        assertTrue(gateway.connections().close(c.id(), CloseStatus.of(4000, "kicked")).toCompletableFuture().join());
        c.bothAnswerTheirClose();

        assertTrue(c.bridge.closed().isDone());
        open(gateway, request("203.0.113.8"));
    }

    @Test
    void countersAreRemovedOnceEveryConnectionEnded() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(100),
                chat().maxConnections(100).maxConnectionsPerIp(100).maxConnectionsPerPrincipal(100).build());
        List<Connection> open = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            open.add(open(gateway, request("203.0.113." + (i % 7))));
        }
        assertEquals(20, gateway.connectionLimits().count("global"));

        open.forEach(ConnectionLimitsTest::closeNormally);

        assertEquals(0, gateway.connectionLimits().keys());
    }

    @Test
    void reservationIsGivenBackAtMostOnce() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(2), chat().build());
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request("203.0.113.7")));
        open(gateway, request("203.0.113.8"));
        ConnectionLimits.Reservation r = admission.takeReservation();

        r.release();
        r.release();

        assertTrue(r.isReleased());
        assertEquals(1, gateway.connectionLimits().count("global"));
        assertEquals(ConnectionLimits.Reservation.NONE, admission.takeReservation());
    }

    @Test
    void concurrentHandshakesNeverExceedTheLimit() throws Exception {
        DefaultGateway gateway = gateway(Gateway.builder(), chat().maxConnections(10).build());
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int n = t;
                futures.add(pool.submit(() -> {
                    start.await(5, TimeUnit.SECONDS);
                    int admitted = 0;
                    for (int i = 0; i < 20; i++) {
                        if (gateway.admit(request("203.0.113." + n)).rejection().isEmpty()) {
                            admitted++;
                        }
                    }
                    return admitted;
                }));
            }
            start.countDown();
            int admitted = 0;
            for (Future<Integer> f : futures) {
                admitted += f.get(5, TimeUnit.SECONDS);
            }
            assertEquals(10, admitted);
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- configuration ----

    @Test
    void limitsMustBePositive() {
        assertEquals("maxConnections: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> chat().maxConnections(0)).getMessage());
        assertEquals("maxConnectionsPerPrincipal: -1 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> chat().maxConnectionsPerPrincipal(-1)).getMessage());
        assertEquals("maxConnectionsPerIp: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> chat().maxConnectionsPerIp(0)).getMessage());
        assertEquals("maxConnections: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> Gateway.builder().maxConnections(0)).getMessage());
    }

    @Test
    void routeWithoutLimitsHasNoneAndToBuilderKeepsThem() {
        Route plain = chat().build();
        Route limited = chat().maxConnections(3).maxConnectionsPerPrincipal(2).maxConnectionsPerIp(1).build();

        assertEquals(0, plain.maxConnections());
        Route copy = limited.toBuilder().build();
        assertEquals(3, copy.maxConnections());
        assertEquals(2, copy.maxConnectionsPerPrincipal());
        assertEquals(1, copy.maxConnectionsPerIp());
        assertFalse(copy == limited);
    }
}
