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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
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
    void aRedirectIsNeitherRetriedNorCountedAgainstTheTarget(Mount mount) throws Exception {
        TestBackend good = servers.startBackend(null);
        try (RawBackend moved = new RawBackend(head -> "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n"
                + "Content-Length: 0\r\n\r\n")) {
            BackendGroup group = BackendGroup.builder().target(moved.uri("/echo").toString())
                    .target(good.uri("/echo").toString()).balance(Balance.roundRobin()).ejectAfter(1).build();
            GatewayServer gw = start(mount, group, null);
            assertEquals(502, RawHttp.upgrade(gw.httpUri("/feed")).status()); // round robin's first pick
            assertEquals(0, good.upgrades.size(), "not retried");
            openAndEcho(gw, "second").sendClose(1000, "").get(5, TimeUnit.SECONDS); // round robin's second pick
            assertEquals(502, RawHttp.upgrade(gw.httpUri("/feed")).status(), "not ejected: its turn came again");
            assertEquals(2, moved.requests.size());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aDialThatTimesOutInTheGatewaysOwnQueueFailsOverWithoutEjectingTheTarget(Mount mount) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend good = servers.startBackend(null);
        try (RawBackend slow = new RawBackend(head -> {
            if (head.startsWith("GET /block")) {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return RawBackend.switching(head);
        })) {
            // /block holds the slow backend's one dial turn; /feed's group shares that backend.
            BackendGroup group = BackendGroup.builder().target(slow.uri("/echo").toString())
                    .target(good.uri("/echo").toString()).balance(Balance.roundRobin()).ejectAfter(1)
                    .ejectFor(Duration.ofMinutes(5)).build();
            GatewayServer gw = servers.start(Gateway.builder().maxConcurrentDials(1)
                    .route(Route.builder("/block").backend(Backend.of(slow.uri("/block"))).build())
                    .route(Route.builder("/feed").backend(group)
                            // long enough for the failover's own dial on a loaded machine: it gets the same budget
                            .settings(Settings.builder().connectTimeout(Duration.ofSeconds(2)).build()).build())
                    .build(), mount);
            CompletableFuture<WebSocket> blocking = HTTP.newWebSocketBuilder()
                    .buildAsync(gw.uri("/block"), new RecordingListener());
            String first = slow.requests.poll(10, TimeUnit.SECONDS);
            assertTrue(first != null && first.startsWith("GET /block"), "the slow backend holds /block's dial");
            openAndEcho(gw, "queued, then failed over").sendClose(1000, "").get(5, TimeUnit.SECONDS);
            assertEquals(1, good.upgrades.size());
            release.countDown();
            blocking.get(10, TimeUnit.SECONDS).sendClose(1000, "").get(5, TimeUnit.SECONDS);
            for (int i = 0; i < 2; i++) { // round robin comes back to the slow target within two
                HTTP.newWebSocketBuilder().buildAsync(gw.uri("/feed"), new RecordingListener()).get(10, TimeUnit.SECONDS)
                        .abort();
            }
            String later = slow.requests.poll(10, TimeUnit.SECONDS);
            assertTrue(later != null && later.startsWith("GET /echo"), "the slow target was not ejected for the gateway's own queue");
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
