package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Audience;
import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Gateway;
import dev.gatehouse.Message;
import dev.gatehouse.OverflowAction;
import dev.gatehouse.Route;
import dev.gatehouse.SendResult;
import dev.gatehouse.Settings;
import dev.gatehouse.jetty.GatewayServer.Mount;

/**
 * The maximum lifetime and the overload close, through both mounts with a real backend: waits are on the
 * close events, bounded; nothing asserts on how long anything took.
 */
class LifetimeAndOverloadTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** More sends than the socket buffers and a 64 KiB queue could take of 16 KiB messages. */
    private static final int MAX_SENDS = 4096;
    @RegisterExtension
    final Servers servers = new Servers();

    private GatewayServer start(Mount mount, Settings settings) throws Exception {
        return servers.start(Gateway.builder()
                .settings(settings)
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo"))))
                .build(), mount);
    }

    private static WebSocket connect(URI uri, RecordingListener events) throws Exception {
        return HTTP.newWebSocketBuilder().buildAsync(uri, events).get(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aConnectionPastItsMaxLifetimeIsClosedWith1001OnBothLegs(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Settings.builder().maxLifetime(Duration.ofMillis(300)).maxLifetimeJitter(0).build());
        RecordingListener events = new RecordingListener();
        connect(gw.uri("/echo"), events);

        events.assertClose(1001, "max lifetime");
        assertEquals(new TestBackend.Closed(1001, "max lifetime"), servers.backend().nextClose());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void theClientGetsTheConfiguredLifetimeStatus(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Settings.builder().maxLifetime(Duration.ofMillis(300)).maxLifetimeJitter(0)
                .lifetimeStatus(CloseStatus.of(1012, "max lifetime")).build());
        RecordingListener events = new RecordingListener();
        connect(gw.uri("/echo"), events);

        events.assertClose(1012, "max lifetime");
        assertEquals(new TestBackend.Closed(1001, "max lifetime"), servers.backend().nextClose());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void byDefaultAnOverflowingSendIsRefusedAndTheSlowConnectionStays(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Settings.builder().maxOutboundQueue(64 * 1024).build());
        try (RawWebSocket raw = RawWebSocket.open(gw.uri("/echo"), 4096)) {
            String id = onlyConnection(gw);

            int accepted = sendUntilRefused(gw, id);

            assertTrue(gw.gateway.connections().info(id).toCompletableFuture().get(5, TimeUnit.SECONDS).isPresent(),
                    "a refused send closed the connection");
            for (int i = 0; i < accepted; i++) {
                assertEquals(0x2, raw.readMessage().opCode(), "the queued messages still arrive");
            }
            raw.sendText("still relaying");
            assertEquals("still relaying", new String(raw.readMessage().payload(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void withOverflowCloseAnOverflowingSendClosesTheSlowClientWith1013AndTheBackendWith1001(Mount mount)
            throws Exception {
        // A long close timeout: the slow client reads its CLOSE only once the test starts reading again.
        GatewayServer gw = start(mount, Settings.builder().maxOutboundQueue(64 * 1024)
                .outboundOverflow(OverflowAction.CLOSE).closeTimeout(Duration.ofSeconds(60)).build());
        try (RawWebSocket raw = RawWebSocket.open(gw.uri("/echo"), 4096)) {
            String id = onlyConnection(gw);

            int accepted = sendUntilRefused(gw, id);

            assertEquals(new TestBackend.Closed(1001, ""), servers.backend().nextClose());
            assertEquals(SendResult.GONE, send(gw, id), "the closed connection takes no more messages");
            RawWebSocket.Frame frame = raw.readMessage();
            for (int i = 0; frame.opCode() != 0x8; i++) {
                assertTrue(i <= accepted, "more messages than were queued, and no CLOSE");
                frame = raw.readMessage();
            }
            assertEquals(1013, frame.closeCode());
        }
    }

    private static String onlyConnection(GatewayServer gw) throws Exception {
        Await.until("the connection is listed", () -> gw.gateway.connections().count() == 1);
        List<String> ids = gw.gateway.connections().ids(Audience.all()).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(1, ids.size());
        return ids.get(0);
    }

    /** Sends 16 KiB messages through the registry until one is refused; returns how many were queued. */
    private static int sendUntilRefused(GatewayServer gw, String id) throws Exception {
        int accepted = 0;
        SendResult result;
        while ((result = send(gw, id)) == SendResult.QUEUED) {
            accepted++;
            assertTrue(accepted < MAX_SENDS, "no QUEUE_FULL after " + accepted + " messages of 16 KiB");
        }
        assertEquals(SendResult.QUEUE_FULL, result);
        return accepted;
    }

    private static SendResult send(GatewayServer gw, String id) throws Exception {
        return gw.gateway.connections().send(id, Message.binary(new byte[16 * 1024])).toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }
}
