package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.balance.Balance;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.jetty.GatewayServer.Mount;

/** Load-balanced groups of real backends: distribution, failover before the 101, ejection, the target in the registry. */
class BackendGroupTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final Servers servers = new Servers();

    private GatewayServer start(Mount mount, BackendGroup group, Duration connectTimeout) throws Exception {
        Route.Builder route = Route.builder("/feed").backend(group);
        if (connectTimeout != null) {
            route.settings(Settings.builder().connectTimeout(connectTimeout).build());
        }
        return servers.start(Gateway.builder().route(route.build()).build(), mount);
    }

    /** Opens a connection through the gateway and checks it echoes. */
    private static WebSocket openAndEcho(GatewayServer gw, String text) throws Exception {
        RecordingListener listener = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/feed"), listener).get(20, TimeUnit.SECONDS);
        ws.sendText(text, true).get(5, TimeUnit.SECONDS);
        listener.assertText(text);
        return ws;
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void spreadsLongLivedSessionsByLeastConnectionsAndShowsEachOnesTarget(Mount mount) throws Exception {
        TestBackend a = servers.startBackend(null);
        TestBackend b = servers.startBackend(null);
        TestBackend c = servers.startBackend(null);
        BackendGroup group = BackendGroup.of(a.uri("/echo").toString(), b.uri("/echo").toString(), c.uri("/echo").toString());
        GatewayServer gw = start(mount, group, null);
        List<WebSocket> open = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            open.add(openAndEcho(gw, "hello " + i));
        }
        assertEquals(List.of(3, 3, 3), List.of(a.upgrades.size(), b.upgrades.size(), c.upgrades.size()));
        List<ConnectionInfo> infos = gw.gateway().connections().list();
        assertEquals(9, infos.size());
        for (String target : List.of(a.uri("/echo").toString(), b.uri("/echo").toString(), c.uri("/echo").toString())) {
            assertEquals(3, infos.stream().filter(i -> i.target().equals(Optional.of(target))).count(), target);
        }
        for (WebSocket ws : open) {
            ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void failsOverBeforeThe101WhenATargetRefusesAnswers503OrHangs(Mount mount) throws Exception {
        TestBackend good = servers.startBackend(null);
        try (RawBackend unavailable = new RawBackend(head -> "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
                ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            BackendGroup group = BackendGroup.builder()
                    .target("ws://127.0.0.1:" + closedPort() + "/echo")
                    .target(unavailable.uri("/echo").toString())
                    .target("ws://127.0.0.1:" + silent.getLocalPort() + "/echo")
                    .target(good.uri("/echo").toString())
                    .balance(Balance.roundRobin()).attempts(4).ejectAfter(100).build();
            GatewayServer gw = start(mount, group, Duration.ofMillis(500));
            // Round robin starts each of four handshakes on another target; each reaches the good one.
            for (int i = 0; i < 4; i++) {
                openAndEcho(gw, "through " + i).sendClose(1000, "").get(5, TimeUnit.SECONDS);
            }
            assertEquals(4, good.upgrades.size());
            assertTrue(unavailable.requests.size() >= 1, "the 503 target was tried");
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysATargets4xxWithoutTryingAnother(Mount mount) throws Exception {
        TestBackend good = servers.startBackend(null);
        try (RawBackend refusing = new RawBackend(head -> "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
                + "Content-Length: 6\r\n\r\nno way")) {
            BackendGroup group = BackendGroup.builder().target(refusing.uri("/echo").toString())
                    .target(good.uri("/echo").toString()).balance(Balance.roundRobin()).build();
            GatewayServer gw = start(mount, group, null);
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/feed")); // round robin's first pick: the refusing target
            assertEquals(403, r.status());
            assertEquals("no way", r.body());
            assertEquals(0, good.upgrades.size(), "a 4xx is the backend's answer, never retried");
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void ejectsAFailingTargetSoThatLaterHandshakesSkipIt(Mount mount) throws Exception {
        TestBackend good = servers.startBackend(null);
        try (RawBackend failing = new RawBackend(head -> "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")) {
            BackendGroup group = BackendGroup.builder().target(failing.uri("/echo").toString())
                    .target(good.uri("/echo").toString()).balance(Balance.roundRobin())
                    .ejectAfter(1).ejectFor(Duration.ofMinutes(5)).build();
            GatewayServer gw = start(mount, group, null);
            for (int i = 0; i < 6; i++) {
                openAndEcho(gw, "skip " + i).sendClose(1000, "").get(5, TimeUnit.SECONDS);
            }
            assertEquals(1, failing.requests.size(), "dialled once, then ejected for the cool-down");
            assertEquals(6, good.upgrades.size());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers502WhenEveryAttemptFailed(Mount mount) throws Exception {
        BackendGroup group = BackendGroup.builder().target("ws://127.0.0.1:" + closedPort() + "/a")
                .target("ws://127.0.0.1:" + closedPort() + "/b").build();
        GatewayServer gw = start(mount, group, null);
        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/feed"));
        assertEquals(502, r.status());
        assertTrue(r.body().contains("\"error\":\"bad_gateway\""), r.body());
    }
}
