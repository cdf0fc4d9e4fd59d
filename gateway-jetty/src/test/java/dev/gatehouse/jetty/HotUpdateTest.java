package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.WebSocketApi;

/**
 * Hot update of a running gateway's route table, end to end: open connections survive, new ones follow the
 * new table, removed routes' connections are drained when asked, API routes route the next message anew.
 */
class HotUpdateTest {

    private static final int CONNECTIONS = 1000;
    private static final int UPDATES = 50;

    @RegisterExtension
    final Servers servers = new Servers();

    private final List<RawWebSocket> clients = new ArrayList<>();

    private static String text(RawWebSocket.Frame frame) {
        return new String(frame.payload(), StandardCharsets.UTF_8);
    }

    /** The status line of a refused upgrade. */
    private static String refusal(GatewayServer gw, String path) {
        IOException e = assertThrows(IOException.class, () -> RawWebSocket.open(gw.uri(path)).close());
        return e.getMessage();
    }

    private RawWebSocket open(GatewayServer gw, String path) throws IOException {
        RawWebSocket ws = servers.closeAfter(RawWebSocket.open(gw.uri(path)));
        clients.add(ws);
        return ws;
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void openConnectionsSurviveFiftyUpdatesWhileNewConnectionsFollowTheNewTable(Mount mount) throws Exception {
        TestBackend a = servers.backend();
        TestBackend b = servers.closeAfter(new TestBackend());
        Route echo = Route.of("/echo", Backend.of(a.url("/echo")));
        Route movedOnA = Route.of("/moved", Backend.of(a.url("/any/a")));
        Route leaving = Route.of("/leaving", Backend.of(a.url("/echo")));
        Gateway gateway = Gateway.builder().route(echo).route(movedOnA).route(leaving).build();
        GatewayServer gw = servers.start(gateway, mount);
        for (int i = 0; i < CONNECTIONS; i++) {
            open(gw, i % 3 == 0 ? "/echo" : i % 3 == 1 ? "/moved" : "/leaving");
        }
        a.upgrades.clear();

        List<Route> added = new ArrayList<>();
        for (int u = 1; u <= UPDATES; u++) {
            // Each update adds a route, changes /moved (between the backends, ending on b) and, last, removes one.
            Route moved = Route.of("/moved", Backend.of((u % 2 == 0 ? b : a).url("/any/" + (u % 2 == 0 ? "b" : "a"))));
            Route newRoute = Route.of("/added/" + u, Backend.of(b.url("/echo")));
            added.add(newRoute);
            List<Route> table = new ArrayList<>(List.of(echo, moved));
            table.addAll(added);
            if (u < UPDATES) {
                table.add(leaving);
            }
            Gateway.Update update = gateway.update(table);
            assertEquals(u + 1, update.version());
            assertEquals(List.of(newRoute), update.added());
            assertEquals(List.of(moved), update.changed());
            assertEquals(u == UPDATES ? List.of(leaving) : List.of(), update.removed());
        }

        for (int i = 0; i < clients.size(); i++) {
            clients.get(i).sendText("still " + i);
        }
        for (int i = 0; i < clients.size(); i++) {
            RawWebSocket.Frame reply = clients.get(i).readMessage();
            assertEquals(0x1, reply.opCode(), "connection " + i + " got " + reply);
            assertEquals("still " + i, text(reply));
        }
        assertTrue(a.closes.isEmpty(), "no connection was dropped: " + a.closes);
        assertEquals(CONNECTIONS, gateway.connections().count());
        assertTrue(a.upgrades.isEmpty(), "the echoes went through the connections already open");

        RawWebSocket fresh = open(gw, "/moved");
        assertEquals("/any/b", b.nextUpgrade().path(), "a new connection follows /moved to its new backend");
        fresh.sendText("hi");
        assertEquals("hi", text(fresh.readMessage()));
        assertTrue(refusal(gw, "/leaving").startsWith("not upgraded: HTTP/1.1 404"), "a removed route is gone");
        for (String path : List.of("/added/1", "/added/" + UPDATES)) {
            open(gw, path);
            assertEquals("/echo", b.nextUpgrade().path(), "an added route");
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void removedRouteIsDrainedWith1012WhenAsked(Mount mount) throws Exception {
        TestBackend a = servers.backend();
        Route echo = Route.of("/echo", Backend.of(a.url("/echo")));
        Route feed = Route.of("/feed", Backend.of(a.url("/any/feed")));
        Gateway gateway = Gateway.builder().route(echo).route(feed).build();
        GatewayServer gw = servers.start(gateway, mount);
        RawWebSocket stays = open(gw, "/echo");
        List<RawWebSocket> onFeed = List.of(open(gw, "/feed"), open(gw, "/feed"));

        Gateway.Update update = gateway.update(List.of(echo), Duration.ofMillis(100));

        assertEquals(2, update.closing());
        for (RawWebSocket ws : onFeed) {
            RawWebSocket.Frame close = ws.readMessage();
            assertEquals(0x8, close.opCode());
            assertEquals(1012, close.closeCode());
        }
        assertEquals(1001, a.nextClose().code());
        assertEquals(1001, a.nextClose().code());
        stays.sendText("still here");
        assertEquals("still here", text(stays.readMessage()));
        assertTrue(a.closes.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void webSocketApiConnectionRoutesItsNextMessageByTheChangedRoute(Mount mount) throws Exception {
        Route v1 = Route.builder("/api").webSocketApi(WebSocketApi.builder()
                .integration("$default", Integration.of(e -> CompletableFuture.completedFuture(Reply.text("v1"))))
                .build()).build();
        Gateway gateway = Gateway.builder().route(v1).build();
        GatewayServer gw = servers.start(gateway, mount);
        RawWebSocket ws = open(gw, "/api");
        ws.sendText("{\"action\":\"hello\"}");
        assertEquals("v1", text(ws.readMessage()));

        gateway.update(List.of(Route.builder("/api").webSocketApi(WebSocketApi.builder()
                .integration("hello", Integration.of(e -> CompletableFuture.completedFuture(Reply.text("v2 hello"))))
                .integration("$default", Integration.of(e -> CompletableFuture.completedFuture(Reply.text("v2"))))
                .build()).build()));

        ws.sendText("{\"action\":\"hello\"}");
        assertEquals("v2 hello", text(ws.readMessage()), "the same connection, the new route key");
    }
}
