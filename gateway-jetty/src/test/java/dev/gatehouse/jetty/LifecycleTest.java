package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/** After the 101: the close-code contract, timeouts, keepalive, limits, flow control, registry and drain. */
class LifecycleTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final Servers servers = new Servers();
    private TestBackend backend;

    @BeforeEach
    void useTheBackend() {
        backend = servers.backend();
    }

    private GatewayServer start(Mount mount, Settings settings) throws Exception {
        Gateway gateway = Gateway.builder()
                .settings(settings)
                .route(Route.of("/echo", Backend.of(backend.uri("/echo"))))
                .route(Route.of("/close", Backend.of(backend.uri("/close"))))
                .route(Route.of("/flood", Backend.of(backend.uri("/flood"))))
                .build();
        return servers.start(gateway, mount);
    }

    private GatewayServer start(Mount mount) throws Exception {
        return start(mount, Settings.defaults());
    }

    private static WebSocket connect(URI uri, RecordingListener events) throws Exception {
        return HTTP.newWebSocketBuilder().buildAsync(uri, events).get(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void backendCloseCodeAndReasonReachTheClientExactly(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(URI.create(gw.uri("/close") + "?code=4321&reason=shift%20over"), events);
        ws.sendText("go", true).get(5, TimeUnit.SECONDS);
        events.assertClose(4321, "shift over");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void clientCloseCodeAndReasonReachTheBackendExactly(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw.uri("/echo"), events);
        ws.sendClose(4001, "bye now").get(5, TimeUnit.SECONDS);
        assertEquals(new TestBackend.Closed(4001, "bye now"), backend.nextClose());
        events.assertClose(4001, "bye now");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aCloseWithoutStatusIsRelayedWithoutStatus(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        connect(gw.uri("/echo"), events);
        Session session = backend.nextSession();
        session.close(CloseStatus.NO_STATUS.code(), null, Callback.NOOP);
        events.assertClose(1005, "");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aBackendKilledAbruptlyGivesTheClient1014(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        connect(gw.uri("/echo"), events);
        backend.nextSession().disconnect();
        events.assertClose(1014, "backend unavailable");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aClientKilledAbruptlyGivesTheBackend1001(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        WebSocket ws = connect(gw.uri("/echo"), new RecordingListener());
        backend.nextSession();
        ws.abort();
        assertEquals(new TestBackend.Closed(1001, "client gone"), backend.nextClose());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesAnIdleConnectionWhileOneThatPingsStaysOpen(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Settings.builder().idleTimeout(Duration.ofMillis(1500))
                .pingInterval(Duration.ZERO).build());
        RecordingListener idle = new RecordingListener();
        RecordingListener busy = new RecordingListener();
        connect(gw.uri("/echo"), idle);
        WebSocket pinging = connect(gw.uri("/echo"), busy);
        ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor();
        try {
            pinger.scheduleAtFixedRate(() -> pinging.sendPing(ByteBuffer.wrap(new byte[] {1})), 0, 100,
                    TimeUnit.MILLISECONDS);
            idle.assertClose(1001, "idle timeout");
            assertEquals(new TestBackend.Closed(1001, "idle timeout"), backend.nextClose());
            busy.assertNoMoreEvents();
            pinging.sendText("still here", true).get(5, TimeUnit.SECONDS);
            busy.assertText("still here");
        } finally {
            pinger.shutdownNow();
        }
        pinging.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        busy.assertClose(1000, "");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void theClientSeesTheGatewaysKeepalivePings(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Settings.builder().pingInterval(Duration.ofMillis(200)).build());
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw.uri("/echo"), events);
        assertEquals(8, events.assertPing().payload().length);
        assertEquals(8, events.assertPing().payload().length);
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    /** RFC 6455, section 5.2: a 64-bit payload length must have its most significant bit clear. */
    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesTheClientWith1002OnAFrameLengthWithItsTopBitSetAndSendsTheBackend1001(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (RawWebSocket client = RawWebSocket.open(gw.uri("/echo"))) {
            backend.nextUpgrade();
            // A whole masked text frame "hi" (key 0), then the bad header, in one write.
            byte[] hi = {(byte) 0x81, (byte) 0x82, 0, 0, 0, 0, 'h', 'i'};
            byte[] bad = RawWebSocket.header64(0x82, 0x8000_0000_0000_0001L);
            byte[] both = java.util.Arrays.copyOf(hi, hi.length + bad.length);
            System.arraycopy(bad, 0, both, hi.length, bad.length);
            client.write(both);

            RawWebSocket.Frame close = client.readFrame();
            if (close.opCode() != 0x8) {
                close = client.readFrame(); // the echo of "hi" made it back before the close
            }
            assertEquals(0x8, close.opCode());
            assertEquals(1002, close.closeCode());
        }
        assertEquals("hi", backend.texts.poll(5, TimeUnit.SECONDS), "the frame before the bad one was relayed");
        assertEquals(new TestBackend.Closed(1001, ""), backend.nextClose());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesTheClientWith1002OnATopBitLengthThatArrivesByteByByte(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (RawWebSocket client = RawWebSocket.open(gw.uri("/echo"))) {
            backend.nextUpgrade();
            for (byte b : RawWebSocket.header64(0x82, 0xFFFF_FFFF_FFFF_FFFFL)) {
                client.write(new byte[] {b});
            }
            assertEquals(1002, client.readFrame().closeCode());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesWith1009OnAnOversizeMessage(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Settings.builder().maxMessageSize(1024).build());
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw.uri("/echo"), events);
        ws.sendBinary(ByteBuffer.allocate(1024), true).get(5, TimeUnit.SECONDS);
        events.assertBinary(new byte[1024]);
        ws.sendBinary(ByteBuffer.allocate(1025), true).get(5, TimeUnit.SECONDS);
        events.assertClose(1009, "message too big");
        assertEquals(new TestBackend.Closed(1001, ""), backend.nextClose());
    }

    /**
     * The client is a raw socket, not the JDK's: JDK 17's client sometimes misreads a binary message that arrives
     * in fragments while it has no demand (it fails with 1002 straight against a backend too), and the relay
     * re-fragments a 64 KiB frame where its read buffer ends.
     */
    @ParameterizedTest
    @EnumSource(Mount.class)
    void aFloodingBackendIsSlowedDownByAClientThatDoesNotRead(Mount mount) throws Exception {
        int count = 1000;
        int size = 64 * 1024;
        GatewayServer gw = start(mount);
        try (RawWebSocket reader = RawWebSocket.open(URI.create(gw.uri("/flood") + "?count=" + count + "&size=" + size),
                64 * 1024)) {
            Await.until("the gateway holds a frame the client does not take",
                    () -> gw.gateway.connections().list().stream().anyMatch(c -> c.pendingBytes() > 0)
                            && backend.floodSent.get() > 0);
            // TCP buffers on both sides hold some megabytes; the 64 MB flood cannot all have been sent.
            assertTrue(backend.floodSent.get() < count, "sent " + backend.floodSent.get());
            ConnectionInfo info = gw.gateway.connections().list().get(0);
            assertTrue(info.peakPendingBytes() <= 2L * size, "held " + info.peakPendingBytes() + " bytes");

            for (int i = 0; i < count; i++) {
                assertEquals(size, readBinaryMessage(reader, i, (byte) (i & 0x7F)), "message " + i);
            }
            assertEquals(count, backend.floodSent.get());
            assertTrue(gw.gateway.connections().list().get(0).peakPendingBytes() <= 2L * size);
        }
    }

    /** Reads one binary message frame by frame, checking each frame's op code and the message's first byte; its size. */
    private static int readBinaryMessage(RawWebSocket ws, int index, byte first) throws Exception {
        int read = 0;
        boolean fin = false;
        for (int frame = 0; !fin; frame++) {
            RawWebSocket.Frame f = ws.readFrame();
            assertEquals(frame == 0 ? 0x2 : 0x0, f.opCode(), "message " + index + ", frame " + frame + ": op code");
            if (read == 0 && f.payload().length > 0) {
                assertEquals(first, f.payload()[0], "message " + index + " out of order");
            }
            read += f.payload().length;
            fin = f.fin();
        }
        return read;
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void stoppingTheServerClosesClientsWith1012AndBackendsWith1001(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        List<RecordingListener> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RecordingListener events = new RecordingListener();
            connect(gw.uri("/echo"), events);
            clients.add(events);
        }
        Await.until("three connections are registered", () -> gw.gateway.connections().count() == 3);
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
            try {
                gw.server.stop();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        for (RecordingListener events : clients) {
            events.assertClose(1012, "service restart");
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(new TestBackend.Closed(1001, ""), backend.nextClose());
        }
        stopped.get(5, TimeUnit.SECONDS);
        assertEquals(0, gw.gateway.connections().count());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aDrainingGatewayRefusesNewUpgradesWith503(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener open = new RecordingListener();
        connect(gw.uri("/echo"), open);
        CompletableFuture<Void> drained = gw.gateway.drain(Duration.ZERO);
        open.assertClose(1012, "service restart");
        drained.get(5, TimeUnit.SECONDS);
        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"));
        assertEquals(503, r.status());
        assertEquals("5", r.header("retry-after"));
        assertTrue(r.body().contains("\"error\":\"service_unavailable\""), r.body());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void theRegistryListsAndClosesConnections(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().subprotocols("x").buildAsync(gw.uri("/echo"), events)
                .get(5, TimeUnit.SECONDS);
        ws.sendText("count me", true).get(5, TimeUnit.SECONDS);
        events.assertText("count me");
        TestBackend.Upgrade up = backend.nextUpgrade();
        String id = up.header("X-Gatehouse-Connection-Id");
        ConnectionInfo info = gw.gateway.connections().info(id).toCompletableFuture().join().orElseThrow();
        assertEquals("/echo", info.route());
        assertEquals("127.0.0.1", info.remoteAddress().getAddress().getHostAddress());
        assertEquals(1, info.messagesIn());
        assertEquals(8, info.bytesIn());
        assertEquals(1, info.messagesOut());
        assertTrue(info.principal().isEmpty());
        assertTrue(info.subprotocol().isEmpty());
        assertTrue(id.matches("[A-Za-z0-9_-]{22}"), id);
        assertEquals(List.of(id), gw.gateway.connections().list().stream().map(ConnectionInfo::id).toList());

        assertTrue(gw.gateway.connections().close(id, CloseStatus.of(4403, "kicked")).toCompletableFuture().join());
        events.assertClose(4403, "kicked");
        assertEquals(new TestBackend.Closed(1001, ""), backend.nextClose());
        // A bridge writes its access-log line once it has left the registry.
        RecordingLogProvider.awaitLine(l -> l.contains("dev.gatehouse.access") && l.contains("\"requestId\":\"" + id + "\""));
        assertEquals(0, gw.gateway.connections().count());
        assertTrue(gw.gateway.connections().info(id).toCompletableFuture().join().isEmpty());
    }

    @Test
    void aRejectedUpgradeDuringDrainIsA503ForTheJdkClient() throws Exception {
        GatewayServer gw = start(Mount.HANDLER);
        gw.gateway.drain(Duration.ZERO).get(5, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), new RecordingListener())
                        .get(5, TimeUnit.SECONDS));
        assertEquals(503, assertInstanceOf(WebSocketHandshakeException.class, e.getCause()).getResponse().statusCode());
    }
}
