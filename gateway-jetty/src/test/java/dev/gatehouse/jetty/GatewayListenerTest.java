package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.spi.GatewayListener;

/**
 * What a {@link GatewayListener} hears on both mounts, in order: the gateway it was built into, a failed and
 * a successful backend dial, handshakes, messages, management operations, the drain and the closes; and a
 * listener that throws changes nothing.
 */
class GatewayListenerTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String MANAGEMENT_KEY = "mk-listener-1";

    @RegisterExtension
    final Servers servers = new Servers();

    /** Records every event, in order. */
    private static final class Recorder implements GatewayListener {
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        volatile Gateway gateway;

        @Override
        public void built(Gateway g) {
            gateway = g;
        }

        @Override
        public MessageCounter messages(Route route) {
            return (direction, bytes) -> events.add(direction + " " + bytes);
        }

        @Override
        public void handshakeAccepted(HandshakeEvent e) {
            events.add(e);
        }

        @Override
        public void handshakeRejected(HandshakeEvent e) {
            events.add(e);
        }

        @Override
        public void backendDialed(DialEvent e) {
            events.add(e);
        }

        @Override
        public void connectionClosed(CloseEvent e) {
            events.add(e);
        }

        @Override
        public void managementOperation(ManagementEvent e) {
            events.add(e);
        }

        @Override
        public void drainStarted(DrainEvent e) {
            events.add(e);
        }

        <T> T next(Class<T> type) throws InterruptedException {
            Object e = events.poll(5, TimeUnit.SECONDS);
            assertNotNull(e, () -> "no " + type.getSimpleName() + " within 5 s");
            return assertInstanceOf(type, e);
        }
    }

    /** Throws from every method. */
    private static final class Throwing implements GatewayListener {
        @Override
        public MessageCounter messages(Route route) {
            return (direction, bytes) -> {
                throw new IllegalStateException("counter");
            };
        }

        @Override
        public void handshakeAccepted(HandshakeEvent e) {
            throw new IllegalStateException("accepted");
        }

        @Override
        public void connectionClosed(CloseEvent e) {
            throw new IllegalStateException("closed");
        }

        @Override
        public void backendDialed(DialEvent e) {
            throw new IllegalStateException("dialed");
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void hearsDialsHandshakesMessagesManagementDrainAndClosesInOrder(Mount mount) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Recorder recorder = new Recorder();
        Gateway gateway = Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo"))))
                .route(Route.of("/down", Backend.of("ws://127.0.0.1:" + closedPort + "/x?token=secret")))
                .settings(Settings.builder().drainStatus(dev.gatehouse.CloseStatus.of(1012, "service restart")).build())
                .listener(new Throwing())
                .listener(recorder)
                .build();
        assertSame(gateway, recorder.gateway);
        GatewayServer gw = servers.startWithManagement(gateway, mount, ApiKeyAuthenticator.of(MANAGEMENT_KEY, "ops"));

        // A failed dial: the dial, then the 502.
        try {
            HTTP.newWebSocketBuilder().buildAsync(gw.uri("/down"), new RecordingListener()).get(5, TimeUnit.SECONDS);
            throw new AssertionError("upgraded");
        } catch (java.util.concurrent.ExecutionException e) {
            assertEquals(502, ((java.net.http.WebSocketHandshakeException) e.getCause()).getResponse().statusCode());
        }
        GatewayListener.DialEvent failed = recorder.next(GatewayListener.DialEvent.class);
        assertFalse(failed.connected());
        assertEquals("ws://127.0.0.1:" + closedPort, failed.target(), "no path or query in the target");
        GatewayListener.HandshakeEvent refused = recorder.next(GatewayListener.HandshakeEvent.class);
        assertEquals(502, refused.status());
        assertEquals(Optional.of(Rejection.BAD_GATEWAY), refused.rejection());
        assertEquals("/down", refused.route().orElseThrow().path());
        assertTrue(refused.duration().isPresent(), "the dial's duration is known");

        // A session: the dial, the 101, a message each way.
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);
        GatewayListener.DialEvent dialed = recorder.next(GatewayListener.DialEvent.class);
        assertTrue(dialed.connected());
        assertEquals("ws://127.0.0.1:" + servers.backend().uri("/").getPort(), dialed.target());
        GatewayListener.HandshakeEvent accepted = recorder.next(GatewayListener.HandshakeEvent.class);
        assertTrue(accepted.accepted());
        assertEquals(101, accepted.status());
        assertEquals(dialed.connectionId(), accepted.requestId());
        ws.sendText("hey", true).get(5, TimeUnit.SECONDS);
        events.assertText("hey");
        assertEquals("IN 3", recorder.next(String.class));
        assertEquals("OUT 3", recorder.next(String.class));

        // A management send, then an operation that finds nobody.
        HttpResponse<String> sent = HTTP.send(HttpRequest.newBuilder(gw.managementUri("/@connections/" + accepted.requestId()))
                .header("X-API-Key", MANAGEMENT_KEY).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("push")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, sent.statusCode(), sent.body());
        events.assertText("push");
        Object first = recorder.events.poll(5, TimeUnit.SECONDS);
        Object second = recorder.events.poll(5, TimeUnit.SECONDS);
        // the pushed message's count and the operation's answer race: both come
        assertTrue(first instanceof GatewayListener.ManagementEvent || second instanceof GatewayListener.ManagementEvent,
                first + ", " + second);
        assertTrue("OUT 4".equals(first) || "OUT 4".equals(second), first + ", " + second);
        GatewayListener.ManagementEvent op = (GatewayListener.ManagementEvent)
                (first instanceof GatewayListener.ManagementEvent ? first : second);
        assertEquals(new GatewayListener.ManagementEvent("POST /@connections/{id}", 200), op);
        HttpResponse<String> nobody = HTTP.send(HttpRequest.newBuilder(gw.managementUri("/users/nobody"))
                .header("X-API-Key", MANAGEMENT_KEY).GET().timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, nobody.statusCode());
        assertEquals(new GatewayListener.ManagementEvent("GET /users/{userId}", 404),
                recorder.next(GatewayListener.ManagementEvent.class));

        // The drain closes the session with 1012.
        gateway.drain(Duration.ZERO);
        assertEquals(new GatewayListener.DrainEvent(1, Duration.ZERO), recorder.next(GatewayListener.DrainEvent.class));
        events.assertClose(1012, "service restart");
        GatewayListener.CloseEvent closed = recorder.next(GatewayListener.CloseEvent.class);
        assertEquals(accepted.requestId(), closed.connectionId());
        assertEquals(1012, closed.code());
        assertEquals("gateway", closed.initiator());
        assertEquals("drain", closed.cause());
        assertEquals("/echo", closed.route().path());
        ws.abort();
    }
}
