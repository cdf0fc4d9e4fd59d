package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.balance.HealthCheck;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/** Active health checks against real backends: a stopped target goes down, a restarted one comes back, sessions closed on down. */
class HealthCheckTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Fast probes, so that a test sees a change within a second or so; every wait is bounded all the same. */
    private static final Duration INTERVAL = Duration.ofMillis(100);
    @RegisterExtension
    final Servers servers = new Servers();

    @BeforeEach
    void forgetEarlierLogLines() {
        RecordingLogProvider.clear();
    }

    private GatewayServer start(Mount mount, BackendGroup group) throws Exception {
        return servers.start(Gateway.builder().route(Route.builder("/feed").backend(group).build()).build(), mount);
    }

    private static HealthCheck.Builder fast() {
        return HealthCheck.builder().interval(INTERVAL).timeout(Duration.ofSeconds(2));
    }

    /** Opens a connection through the gateway and checks it echoes. */
    private static WebSocket openAndEcho(GatewayServer gw, RecordingListener listener, String text) throws Exception {
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/feed"), listener).get(20, TimeUnit.SECONDS);
        ws.sendText(text, true).get(5, TimeUnit.SECONDS);
        listener.assertText(text);
        return ws;
    }

    private static void awaitLog(String text) throws InterruptedException {
        RecordingLogProvider.awaitLine(line -> line.contains(text));
    }

    /** The client upgrades a backend saw on {@code /echo} (the probes go elsewhere). */
    private static long clientUpgrades(TestBackend backend) {
        return backend.upgrades.stream().filter(u -> u.path().equals("/echo")).count();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aWebSocketCheckTakesAStoppedTargetDownAndBringsItBackWhenItRestarts(Mount mount) throws Exception {
        TestBackend a = servers.startBackend(null);
        TestBackend b = servers.startBackend(null);
        TestBackend c = servers.startBackend(null);
        String cUrl = c.url("/echo");
        int cPort = c.port();
        // One attempt per handshake: a dial to a down target would fail the client's upgrade, not fail over.
        BackendGroup group = BackendGroup.builder().target(a.url("/echo")).target(b.url("/echo")).target(cUrl)
                .healthCheck(fast().path("/any/probe").fall(2).rise(2).build())
                .attempts(1).ejectAfter(1000).build();
        GatewayServer gw = start(mount, group);

        c.close();
        awaitLog("Backend target " + cUrl + " is down");

        List<WebSocket> open = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            open.add(openAndEcho(gw, new RecordingListener(), "avoiding c " + i));
        }
        assertEquals(6, clientUpgrades(a) + clientUpgrades(b), "every new connection went to a or b");
        for (ConnectionInfo info : gw.gateway().connections().list()) {
            assertTrue(!info.target().equals(Optional.of(cUrl)), "no connection relays to the down target");
        }

        TestBackend restarted = servers.closeAfter(new TestBackend(null, cPort));
        awaitLog("Backend target " + cUrl + " is up");
        // Least connections: a and b hold three sessions each, the restarted target none.
        open.add(openAndEcho(gw, new RecordingListener(), "back on c"));
        assertEquals(1, clientUpgrades(restarted));
        for (WebSocket ws : open) {
            ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void anHttpCheckOfABackendPathTakesATargetDownAndUpByItsAnswer(Mount mount) throws Exception {
        TestBackend a = servers.startBackend(null);
        TestBackend b = servers.startBackend(null);
        BackendGroup group = BackendGroup.builder().target(a.url("/echo")).target(b.url("/echo"))
                .healthCheck(fast().kind(HealthCheck.Kind.HTTP).path("/health").fall(1).rise(1).build())
                .attempts(1).ejectAfter(1000).build();
        GatewayServer gw = start(mount, group);

        b.healthStatus = 503;
        awaitLog("Backend target " + b.url("/echo") + " is down");
        for (int i = 0; i < 4; i++) {
            openAndEcho(gw, new RecordingListener(), "on a " + i);
        }
        assertEquals(4, clientUpgrades(a));
        assertEquals(0, clientUpgrades(b), "a target whose health endpoint answers 503 gets no connection");

        b.healthStatus = 200;
        awaitLog("Backend target " + b.url("/echo") + " is up");
        openAndEcho(gw, new RecordingListener(), "on b");
        assertEquals(1, clientUpgrades(b), "back, with no session yet: least connections picks it");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesTheSessionsOfATargetThatGoesDownWith1012AndTheTargetsLegWith1001(Mount mount) throws Exception {
        TestBackend a = servers.startBackend(null);
        TestBackend b = servers.startBackend(null);
        BackendGroup group = BackendGroup.builder().target(a.url("/echo")).target(b.url("/echo"))
                .healthCheck(fast().kind(HealthCheck.Kind.HTTP).path("/health").fall(1).rise(1).build())
                .closeSessionsOnDown(Duration.ZERO).build();
        GatewayServer gw = start(mount, group);
        RecordingListener first = new RecordingListener();
        RecordingListener second = new RecordingListener();
        WebSocket one = openAndEcho(gw, first, "one");
        WebSocket two = openAndEcho(gw, second, "two");
        boolean oneOnA = a.texts.contains("one");
        assertTrue(oneOnA != a.texts.contains("two"), "least connections put one session on each target");
        RecordingListener onA = oneOnA ? first : second;
        RecordingListener onB = oneOnA ? second : first;
        WebSocket stays = oneOnA ? two : one;

        a.healthStatus = 503;
        onA.assertClose(1012, "service restart");
        assertEquals(1001, a.nextClose().code(), "the target's leg gets 1001");
        stays.sendText("still here", true).get(5, TimeUnit.SECONDS);
        onB.assertText("still here");
        stays.sendClose(1000, "").get(5, TimeUnit.SECONDS);
    }
}
