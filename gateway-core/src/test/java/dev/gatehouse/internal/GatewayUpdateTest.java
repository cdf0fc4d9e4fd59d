package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Gateway;
import dev.gatehouse.GatewayException;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.internal.BridgeHarness.Connection;
import dev.gatehouse.policy.LimitKey;
import dev.gatehouse.policy.RateLimitPolicy;

/** Hot update of the route table: validation, what changed, new handshakes, open connections, kept state. */
class GatewayUpdateTest {

    private final ManualTicker ticker = new ManualTicker();
    private final List<Connection> connections = new ArrayList<>();

    private final Route chat = Route.of("/chat/{room}", Backend.of("ws://chat-a.internal:9000/rooms/{room}"));
    private final Route feed = Route.of("/feed", Backend.of("ws://feed.internal:9000/feed"));

    @AfterEach
    void engineKeptTheChannelContract() {
        List<String> violations = new ArrayList<>();
        for (Connection c : connections) {
            violations.addAll(c.client.channel.violations());
            violations.addAll(c.backend.channel.violations());
        }
        assertEquals(List.of(), violations);
    }

    private DefaultGateway gateway(Route... routes) {
        Gateway.Builder b = Gateway.builder().settings(BridgeHarness.quiet().build());
        for (Route r : routes) {
            b.route(r);
        }
        return DefaultGateway.of(b.build(), ticker);
    }

    private Connection open(DefaultGateway gateway, String path) {
        Admission.Admitted admission = Admissions.admitted(gateway.admit(BridgeHarness.request(Ids.next(), path).build()));
        Connection c = new Connection(gateway.newBridge(admission));
        connections.add(c);
        assertTrue(c.connectBackend(null));
        c.connectClient();
        return c;
    }

    private static Admission admit(DefaultGateway gateway, String path) {
        return gateway.admit(BridgeHarness.request(Ids.next(), path).build());
    }

    private static int status(Admission admission) {
        return admission.rejection().map(r -> r.status()).orElse(101);
    }

    // ---- validation ----

    @Test
    void tableWithTwoRoutesForTheSameRequestsIsRefusedAndTheOldTableStays() {
        DefaultGateway gateway = gateway(chat);
        Route clash = Route.of("/chat/{id}", Backend.of("ws://other.internal:9000/"));

        GatewayException e = assertThrows(GatewayException.class, () -> gateway.update(List.of(feed, chat, clash)));

        assertTrue(e.getMessage().startsWith("update refused: routes: "), e.getMessage());
        assertTrue(e.getMessage().contains("match the same requests"), e.getMessage());
        assertTrue(e.getMessage().endsWith("the route table stays at version 1"), e.getMessage());
        assertEquals(List.of(chat), gateway.routes());
        assertEquals(1, gateway.version());
        assertEquals(404, status(admit(gateway, "/feed")));
        assertEquals(101, status(admit(gateway, "/chat/lobby")));
    }

    @Test
    void emptyTableIsRefused() {
        DefaultGateway gateway = gateway(chat);

        GatewayException e = assertThrows(GatewayException.class, () -> gateway.update(List.of()));

        assertEquals("update refused: routes: none (expected: at least one route); the route table stays at version 1",
                e.getMessage());
        assertEquals(List.of(chat), gateway.routes());
    }

    @Test
    void negativeDrainWindowIsRefusedBeforeAnythingChanges() {
        DefaultGateway gateway = gateway(chat);

        assertThrows(IllegalArgumentException.class, () -> gateway.update(List.of(feed), Duration.ofSeconds(-1)));

        assertEquals(List.of(chat), gateway.routes());
    }

    // ---- what changed ----

    @Test
    void updateReportsAddedChangedAndRemovedRoutesAndCountsVersions() {
        Route echo = Route.of("/echo", Backend.of("ws://echo.internal:9000/"));
        DefaultGateway gateway = gateway(chat, feed, echo);
        Route chatB = Route.of("/chat/{room}", Backend.of("ws://chat-b.internal:9000/rooms/{room}"));
        Route news = Route.builder("/news").host("api.example.com").backend(Backend.of("ws://news.internal:9000/")).build();

        Gateway.Update u = gateway.update(List.of(news, chatB, feed));

        assertEquals(2, u.version());
        assertEquals(List.of(news), u.added());
        assertEquals(List.of(chatB), u.changed());
        assertEquals(List.of(echo), u.removed());
        assertEquals(0, u.closing());
        assertFalse(u.changedNothing());
        assertEquals(List.of(news, chatB, feed), gateway.routes());
        assertEquals(2, gateway.version());
    }

    @Test
    void updateWithTheSameRoutesChangesNothingAndKeepsTheVersion() {
        DefaultGateway gateway = gateway(chat, feed);

        Gateway.Update u = gateway.update(List.of(feed, chat));

        assertTrue(u.changedNothing());
        assertEquals(1, u.version());
        assertEquals(1, gateway.version());
        assertEquals(List.of(chat, feed), gateway.routes(), "nothing touched, not even the order");
    }

    @Test
    void routeWithTheSamePathOnAnotherHostIsAnotherRoute() {
        DefaultGateway gateway = gateway(chat);
        Route hosted = Route.builder("/chat/{room}").host("gw.example.com").backend(Backend.of("ws://x.internal/")).build();

        Gateway.Update u = gateway.update(List.of(chat, hosted));

        assertEquals(List.of(hosted), u.added());
        assertEquals(List.of(), u.changed());
    }

    // ---- new handshakes and open connections ----

    @Test
    void newHandshakesFollowTheNewTableAtOnce() {
        DefaultGateway gateway = gateway(chat, feed);
        Route chatB = Route.of("/chat/{room}", Backend.of("ws://chat-b.internal:9000/rooms/{room}"));
        Route echo = Route.of("/echo", Backend.of("ws://echo.internal:9000/"));

        gateway.update(List.of(chatB, echo));

        Admission.Admitted moved = Admissions.admitted(admit(gateway, "/chat/lobby"));
        assertSame(chatB, moved.route());
        assertEquals(URI.create("ws://chat-b.internal:9000/rooms/lobby"), moved.backendUri());
        assertEquals(101, status(admit(gateway, "/echo")));
        Admission gone = admit(gateway, "/feed");
        assertEquals(404, status(gone));
        assertEquals(Rejection.ROUTE_NOT_FOUND, gone.rejection().orElseThrow().kind());
        assertTrue(gateway.hasRoute(BridgeHarness.request("r", "/echo").build()));
        assertFalse(gateway.hasRoute(BridgeHarness.request("r", "/feed").build()));
    }

    @Test
    void openConnectionsKeepTheirRouteAndStayOpenWhenTheirRouteIsChangedOrRemoved() {
        DefaultGateway gateway = gateway(chat, feed);
        Connection onChat = open(gateway, "/chat/lobby");
        Connection onFeed = open(gateway, "/feed");

        gateway.update(List.of(Route.of("/chat/{room}", Backend.of("ws://chat-b.internal:9000/rooms/{room}"))));

        assertSame(chat, onChat.bridge.route());
        assertSame(feed, onFeed.bridge.route());
        for (Connection c : List.of(onChat, onFeed)) {
            assertFalse(c.bridge.closed().isDone());
            assertEquals(List.of(), c.client.channel.closes());
            c.client.sendText("still here");
            assertEquals("still here", c.backend.channel.nextSent().text());
        }
        assertEquals(2, gateway.registry().all().size());
    }

    @Test
    void removedRoutesConnectionsAreClosedWith1012WhenAsked() {
        DefaultGateway gateway = gateway(chat, feed);
        Connection onChat = open(gateway, "/chat/lobby");
        Connection onFeed = open(gateway, "/feed");
        Connection onFeedToo = open(gateway, "/feed");

        Gateway.Update u = gateway.update(List.of(Route.of("/chat/{room}", Backend.of("ws://chat-b.internal/{room}"))),
                Duration.ZERO);

        assertEquals(2, u.closing());
        onFeed.client.channel.assertClosedOnceWith(CloseStatus.of(1012, "service restart"));
        onFeedToo.client.channel.assertClosedOnceWith(CloseStatus.of(1012, "service restart"));
        assertEquals(List.of(1001), onFeed.backend.channel.closes().stream().map(CloseStatus::code).toList());
        assertEquals(List.of(), onChat.client.channel.closes(), "a changed route's connections stay");
        assertFalse(gateway.isDraining(), "the gateway still takes new upgrades");
    }

    @Test
    void drainOfRemovedRoutesIsSpreadOverTheWindow() {
        DefaultGateway gateway = gateway(chat, feed);
        List<Connection> onFeed = List.of(open(gateway, "/feed"), open(gateway, "/feed"), open(gateway, "/feed"));

        gateway.update(List.of(chat), Duration.ofSeconds(3));

        assertEquals(1, onFeed.stream().filter(c -> !c.client.channel.closes().isEmpty()).count(), "the first at once");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(2, onFeed.stream().filter(c -> !c.client.channel.closes().isEmpty()).count());
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(3, onFeed.stream().filter(c -> !c.client.channel.closes().isEmpty()).count());
    }

    // ---- state of unchanged routes ----

    @Test
    void routeConnectionLimitCountsConnectionsAcrossAnUpdate() {
        Route limited = Route.builder("/chat/{room}").backend(Backend.of("ws://chat-a.internal/{room}")).maxConnections(1).build();
        DefaultGateway gateway = gateway(limited);
        open(gateway, "/chat/lobby");

        gateway.update(List.of(limited, feed));
        assertEquals(429, status(admit(gateway, "/chat/other")), "an unchanged route counts its connections");

        gateway.update(List.of(limited.toBuilder().backend(Backend.of("ws://chat-b.internal/{room}")).build(), feed));
        assertEquals(429, status(admit(gateway, "/chat/other")), "a changed route counts its earlier version's too");
    }

    @Test
    void reusedRouteKeepsItsRateLimitBucketAndANewOneStartsAfresh() {
        Route limited = Route.builder("/chat/{room}").backend(Backend.of("ws://chat-a.internal/{room}"))
                .policy(RateLimitPolicy.builder(LimitKey.clientAddress()).rate(1, Duration.ofHours(1)).build()).build();
        DefaultGateway gateway = gateway(limited);
        assertEquals(101, status(admit(gateway, "/chat/lobby")));

        gateway.update(List.of(limited, feed));
        assertEquals(429, status(admit(gateway, "/chat/lobby")), "the bucket survived the update");

        gateway.update(List.of(Route.builder("/chat/{room}").backend(Backend.of("ws://chat-a.internal/{room}"))
                .policy(RateLimitPolicy.builder(LimitKey.clientAddress()).rate(1, Duration.ofHours(1)).build()).build()));
        assertEquals(101, status(admit(gateway, "/chat/lobby")), "a new policy has a bucket of its own");
    }

    @Test
    void balancerStateIsKeptForAnEqualGroupAndForgottenForARemovedOne() {
        BackendGroup group = BackendGroup.of("ws://a.internal:9000/feed", "ws://b.internal:9000/feed");
        DefaultGateway gateway = gateway(Route.of("/feed", group), chat);
        Admissions.admitted(admit(gateway, "/feed"));
        Balancer before = gateway.keptBalancer(group);

        gateway.update(List.of(Route.of("/feed", BackendGroup.of("ws://a.internal:9000/feed", "ws://b.internal:9000/feed")),
                chat));
        Admissions.admitted(admit(gateway, "/feed"));
        assertSame(before, gateway.keptBalancer(group), "an equal group shares its state");

        gateway.update(List.of(chat));
        assertEquals(null, gateway.keptBalancer(group), "a group no route has is forgotten");
    }
}
