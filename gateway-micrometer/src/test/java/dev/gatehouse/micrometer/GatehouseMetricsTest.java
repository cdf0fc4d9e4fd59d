package dev.gatehouse.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.IntegrationServer;
import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.jetty.TestBackend;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.WebSocketApi;
import dev.gatehouse.spi.GatewayListener;

/** Every meter of PRODUCT.md's table after real traffic through both mounts: names, tags and counts exact. */
class GatehouseMetricsTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String KEY = "k-metrics-1";
    private static final Pattern TRACEPARENT = Pattern.compile("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

    private TestBackend backend;
    private IntegrationServer integration;
    private MeteredServer server;
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final BlockingQueue<GatewayListener.CloseEvent> closes = new LinkedBlockingQueue<>();
    private final BlockingQueue<GatewayListener.IntegrationEvent> calls = new LinkedBlockingQueue<>();

    @BeforeEach
    void startBackends() throws Exception {
        backend = new TestBackend();
        integration = new IntegrationServer();
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        integration.close();
        backend.close();
    }

    /** Hears closes and integration calls after the metrics were updated, to wait for them. */
    private final GatewayListener waiter = new GatewayListener() {
        @Override
        public void connectionClosed(CloseEvent event) {
            closes.add(event);
        }

        @Override
        public void integrationCalled(IntegrationEvent event) {
            calls.add(event);
        }
    };

    private Gateway gateway() {
        return Gateway.builder()
                .route(Route.builder("/echo/{room}").authenticator(ApiKeyAuthenticator.of(KEY, "mobile"))
                        .backend(Backend.of(backend.uri("/echo"))).build())
                .route(Route.of("/bye", Backend.of(backend.uri("/close?code=4002&reason=bye"))))
                .route(Route.builder("/api").webSocketApi(WebSocketApi.builder()
                        .integration("$connect", Integration.http(integration.uri("/connect")))
                        .integration("$default", Integration.http(integration.uri("/default")))
                        .integration("$disconnect", Integration.http(integration.uri("/disconnect")))
                        .build()).build())
                .listener(GatehouseMetrics.of(registry))
                .listener(waiter)
                .build();
    }

    @ParameterizedTest
    @EnumSource(MeteredServer.Mount.class)
    void everyMeterCountsRealTrafficWithItsTags(MeteredServer.Mount mount) throws Exception {
        Gateway gateway = gateway();
        server = new MeteredServer(gateway, mount);
        // Registered at build time, before any traffic.
        assertEquals(0.0, gauge("gatehouse.connections.active", "route", "/echo/{room}"));
        assertEquals(0.0, gauge("gatehouse.pending.bytes"));

        // A proxied session: two messages each way, closed by the client.
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().header("X-API-Key", KEY)
                .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .buildAsync(server.uri("/echo/r1"), events).get(5, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        events.assertText("hello");
        ws.sendText("hi!", true).get(5, TimeUnit.SECONDS);
        events.assertText("hi!");
        assertEquals(1.0, gauge("gatehouse.connections.active", "route", "/echo/{room}"));
        TestBackend.Upgrade upgrade = backend.nextUpgrade();
        String sent = upgrade.header("traceparent");
        assertTrue(TRACEPARENT.matcher(sent).matches(), sent);
        assertTrue(sent.startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "the client's trace goes on: " + sent);
        assertFalse(sent.contains("00f067aa0ba902b7"), "the gateway's own parent id: " + sent);
        ws.sendClose(1000, "done").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "done");
        assertEquals("client_closed", nextClose().cause());

        // Rejected: no key (401), no route (404).
        assertEquals(401, upgradeStatus("/echo/r2"));
        assertEquals(404, upgradeStatus("/nowhere"));

        // The backend closes with 4002.
        RecordingListener bye = new RecordingListener();
        WebSocket byeWs = HTTP.newWebSocketBuilder().buildAsync(server.uri("/bye"), bye).get(5, TimeUnit.SECONDS);
        byeWs.sendText("x", true).get(5, TimeUnit.SECONDS);
        bye.assertClose(4002, "bye");
        assertEquals("backend_closed", nextClose().cause());
        backend.nextUpgrade();

        // A WebSocket API session: $connect, a message answered, a message failed (500), $disconnect.
        integration.answer("/default", 200, "text/plain", "pong");
        RecordingListener api = new RecordingListener();
        WebSocket apiWs = HTTP.newWebSocketBuilder().buildAsync(server.uri("/api"), api).get(5, TimeUnit.SECONDS);
        IntegrationServer.Call connect = integration.next("/connect");
        assertTrue(TRACEPARENT.matcher(connect.header("traceparent")).matches(), connect.header("traceparent"));
        apiWs.sendText("{\"action\":\"ping\"}", true).get(5, TimeUnit.SECONDS);
        api.assertText("pong");
        assertEquals(connect.header("traceparent"), integration.next("/default").header("traceparent"),
                "one gateway span per connection");
        integration.answer("/default", 500, "text/plain", "boom");
        apiWs.sendText("{\"action\":\"ping\"}", true).get(5, TimeUnit.SECONDS);
        RecordingListener.Text error = (RecordingListener.Text) api.nextData(); // the "Internal server error" frame
        long errorBytes = error.text().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        integration.next("/default");
        apiWs.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        api.assertClose(1000, "");
        nextClose();
        integration.next("/disconnect");
        awaitCalls(4); // $connect, two messages, $disconnect

        // handshakes
        assertEquals(1.0, count("gatehouse.handshakes", "route", "/echo/{room}", "outcome", "accepted", "status", "101"));
        assertEquals(1.0, count("gatehouse.handshakes", "route", "/echo/{room}", "outcome", "rejected", "status", "401"));
        assertEquals(1.0, count("gatehouse.handshakes", "route", "none", "outcome", "rejected", "status", "404"));
        assertEquals(1.0, count("gatehouse.handshakes", "route", "/bye", "outcome", "accepted", "status", "101"));
        assertEquals(1.0, count("gatehouse.handshakes", "route", "/api", "outcome", "accepted", "status", "101"));
        assertEquals(5, registry.find("gatehouse.handshakes").counters().stream().mapToDouble(c -> c.count()).sum());
        assertEquals(1, timerCount("gatehouse.handshake.duration", "route", "/echo/{room}", "outcome", "accepted"));
        assertEquals(1, timerCount("gatehouse.handshake.duration", "route", "/echo/{room}", "outcome", "rejected"));
        assertEquals(1, timerCount("gatehouse.handshake.duration", "route", "none", "outcome", "rejected"));
        assertEquals(1, timerCount("gatehouse.handshake.duration", "route", "/api", "outcome", "accepted"));
        // rejections
        assertEquals(1.0, count("gatehouse.rejections", "route", "/echo/{room}", "kind", "unauthorized"));
        assertEquals(1.0, count("gatehouse.rejections", "route", "none", "kind", "route_not_found"));
        // backend dials: one per accepted proxy connection, tagged with the backend's origin
        String target = "ws://127.0.0.1:" + backend.uri("/").getPort();
        assertEquals(1, timerCount("gatehouse.backend.connect.duration", "route", "/echo/{room}", "target", target));
        assertEquals(1, timerCount("gatehouse.backend.connect.duration", "route", "/bye", "target", target));
        assertEquals(2, registry.find("gatehouse.backend.connect.duration").timers().size());
        // messages and their sizes
        assertEquals(2.0, count("gatehouse.messages", "route", "/echo/{room}", "direction", "in"));
        assertEquals(2.0, count("gatehouse.messages", "route", "/echo/{room}", "direction", "out"));
        assertEquals(8.0, summaryTotal("gatehouse.message.bytes", "route", "/echo/{room}", "direction", "in"));
        assertEquals(8.0, summaryTotal("gatehouse.message.bytes", "route", "/echo/{room}", "direction", "out"));
        assertEquals(1.0, count("gatehouse.messages", "route", "/bye", "direction", "in"));
        assertEquals(0.0, count("gatehouse.messages", "route", "/bye", "direction", "out"));
        assertEquals(2.0, count("gatehouse.messages", "route", "/api", "direction", "in"));
        assertEquals(2.0, count("gatehouse.messages", "route", "/api", "direction", "out")); // "pong" and the error frame
        assertEquals(4.0, summaryTotal("gatehouse.message.bytes", "route", "/api", "direction", "out") - errorBytes);
        // closes
        assertEquals(1.0, count("gatehouse.closes", "route", "/echo/{room}", "code", "1000", "initiator", "client",
                "cause", "client_closed"));
        assertEquals(1.0, count("gatehouse.closes", "route", "/bye", "code", "4002", "initiator", "backend",
                "cause", "backend_closed"));
        assertEquals(1.0, count("gatehouse.closes", "route", "/api", "code", "1000", "initiator", "client",
                "cause", "client_closed"));
        assertEquals(1, timerCount("gatehouse.session.duration", "route", "/echo/{room}"));
        assertEquals(1, timerCount("gatehouse.session.duration", "route", "/bye"));
        assertEquals(1, timerCount("gatehouse.session.duration", "route", "/api"));
        // integrations
        assertEquals(1, timerCount("gatehouse.integration.duration", "route", "/api", "routeKey", "$connect", "status", "200"));
        assertEquals(1, timerCount("gatehouse.integration.duration", "route", "/api", "routeKey", "$default", "status", "200"));
        assertEquals(1, timerCount("gatehouse.integration.duration", "route", "/api", "routeKey", "$default", "status", "500"));
        assertEquals(1, timerCount("gatehouse.integration.duration", "route", "/api", "routeKey", "$disconnect", "status", "200"));
        assertEquals(1.0, count("gatehouse.integration.errors", "route", "/api", "routeKey", "$default", "status", "500"));
        assertEquals(1, registry.find("gatehouse.integration.errors").counters().size());
        // gauges, all connections gone
        assertEquals(0.0, gauge("gatehouse.connections.active", "route", "/echo/{room}"));
        assertEquals(0.0, gauge("gatehouse.connections.active", "route", "/bye"));
        assertEquals(0.0, gauge("gatehouse.connections.active", "route", "/api"));
        assertEquals(0.0, gauge("gatehouse.pending.bytes"));
        // never a high-cardinality tag
        for (Meter m : registry.getMeters()) {
            for (Tag t : m.getId().getTags()) {
                assertFalse(t.getValue().contains("r1") || t.getValue().contains("r2"), m.getId().toString());
            }
        }
    }

    private GatewayListener.CloseEvent nextClose() throws InterruptedException {
        GatewayListener.CloseEvent e = closes.poll(5, TimeUnit.SECONDS);
        assertNotNull(e, "no connection ended within 5 s");
        return e;
    }

    private void awaitCalls(int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            assertNotNull(calls.poll(5, TimeUnit.SECONDS), "integration call " + (i + 1) + " of " + n + " not seen");
        }
        assertNull(calls.poll());
    }

    private int upgradeStatus(String path) throws Exception {
        try {
            HTTP.newWebSocketBuilder().buildAsync(server.uri(path), new RecordingListener()).get(5, TimeUnit.SECONDS)
                    .abort();
            throw new AssertionError("upgraded: " + path);
        } catch (java.util.concurrent.ExecutionException e) {
            return ((java.net.http.WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
        }
    }

    private double count(String name, String... tags) {
        var c = registry.find(name).tags(tags).counter();
        assertNotNull(c, () -> name + " " + List.of(tags) + " in " + meters(name));
        return c.count();
    }

    private long timerCount(String name, String... tags) {
        var t = registry.find(name).tags(tags).timer();
        assertNotNull(t, () -> name + " " + List.of(tags) + " in " + meters(name));
        return t.count();
    }

    private double summaryTotal(String name, String... tags) {
        var s = registry.find(name).tags(tags).summary();
        assertNotNull(s, () -> name + " " + List.of(tags) + " in " + meters(name));
        return s.totalAmount();
    }

    private double gauge(String name, String... tags) {
        var g = registry.find(name).tags(tags).gauge();
        assertNotNull(g, () -> name + " " + List.of(tags) + " in " + meters(name));
        return g.value();
    }

    private Map<String, List<String>> meters(String name) {
        return Map.of(name, registry.find(name).meters().stream().map(m -> m.getId().getTags().toString()).toList());
    }
}
