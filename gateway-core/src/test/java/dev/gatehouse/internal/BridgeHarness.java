package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.spi.ChannelHandler;

/**
 * A gateway with one route ({@code /chat/{room}} to {@code ws://chat.internal:9000/rooms/{room}}) whose
 * connections are bridged between two {@link FakeChannel}s. Tests drive each leg's inbound events through
 * {@link Leg} and read what the engine sent from {@link Leg#channel}. The gateway's time is a
 * {@link ManualTicker}: no timer fires unless the test {@link #advance advances} it.
 */
final class BridgeHarness {

    static final String ROUTE = "/chat/{room}";
    static final String BACKEND = "ws://chat.internal:9000/rooms/{room}";
    /** A literal address, so that nothing is resolved. */
    static final InetSocketAddress REMOTE = new InetSocketAddress("203.0.113.7", 51234);

    private final ManualTicker ticker = new ManualTicker();
    private final DefaultGateway gateway;
    private final List<Connection> connections = new CopyOnWriteArrayList<>();

    private BridgeHarness(Settings settings, Authenticator authenticator, UnaryOperator<Route.Builder> customize) {
        Route route = customize.apply(Route.builder(ROUTE).authenticator(authenticator).backend(Backend.of(BACKEND))).build();
        this.gateway = DefaultGateway.of(Gateway.builder().route(route).settings(settings).build(), ticker);
    }

    /** Settings without idle timeout or keepalive, so that no timer interferes with a test. */
    static Settings.Builder quiet() {
        return Settings.builder().idleTimeout(Duration.ZERO).pingInterval(Duration.ZERO);
    }

    static BridgeHarness create() {
        return create(quiet().build());
    }

    static BridgeHarness create(Settings settings) {
        return create(settings, Authenticator.none());
    }

    static BridgeHarness create(Settings settings, Authenticator authenticator) {
        return new BridgeHarness(settings, authenticator, UnaryOperator.identity());
    }

    /** A harness whose route is further configured by {@code route} (e.g. with message filters). */
    static BridgeHarness create(UnaryOperator<Route.Builder> route) {
        return new BridgeHarness(quiet().build(), Authenticator.none(), route);
    }

    DefaultGateway gateway() {
        return gateway;
    }

    /** The gateway's clocks and timer. */
    ManualTicker ticker() {
        return ticker;
    }

    /** Moves the gateway's time forward, firing the timers that fall due on the way. */
    void advance(Duration duration) {
        ticker.advance(duration);
    }

    /** An upgrade request for {@code /chat/lobby} from {@link #REMOTE}. */
    static Handshake.Builder request(String id) {
        return request(id, "/chat/lobby");
    }

    /** An upgrade request for {@code path} from {@link #REMOTE}. */
    static Handshake.Builder request(String id, String path) {
        return Handshake.builder(id, path)
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .header("Host", "gw.example.com")
                .host("gw.example.com")
                .remoteAddress(REMOTE);
    }

    /** Admits a request and creates its bridge, without connecting either leg. */
    Connection admit(Handshake request) {
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request));
        Connection c = new Connection(gateway.newBridge(admission));
        connections.add(c);
        return c;
    }

    /** A connection whose two legs are connected, with no subprotocol. */
    Connection connect() {
        return connect(request(Ids.next()).build(), null);
    }

    /** Admits the request, connects the backend with the subprotocol, then the client. */
    Connection connect(Handshake request, String subprotocol) {
        Connection c = admit(request);
        assertTrue(c.connectBackend(subprotocol), "backendConnected returned false");
        c.connectClient();
        return c;
    }

    /** Fails if any fake channel saw the engine break the SPI contract. */
    void assertNoViolations() {
        List<String> all = new ArrayList<>();
        for (Connection c : connections) {
            all.addAll(c.client.channel.violations());
            all.addAll(c.backend.channel.violations());
        }
        assertEquals(List.of(), all, "SPI contract violations");
    }

    /** One bridged connection and its two legs. */
    static final class Connection {
        final Bridge bridge;
        final Leg client;
        final Leg backend;

        Connection(Bridge bridge) {
            this.bridge = bridge;
            this.client = new Leg(new FakeChannel("client"), bridge.clientHandler());
            this.backend = new Leg(new FakeChannel("backend"), bridge.backendHandler());
        }

        String id() {
            return bridge.id();
        }

        boolean connectBackend(String subprotocol) {
            return bridge.backendConnected(backend.channel, subprotocol);
        }

        void connectClient() {
            bridge.clientConnected(client.channel);
        }

        /** Both legs answer the CLOSE the engine sent them with the same status. */
        void bothAnswerTheirClose() {
            client.echoClose();
            backend.echoClose();
        }

        /** Waits up to 5 s for the bridge to end. */
        void awaitClosed() {
            await(bridge.closed(), "the bridge to close");
        }
    }

    /** One leg: delivers the peer's inbound events to the engine, and records what the engine sent it. */
    static final class Leg {
        final FakeChannel channel;
        final ChannelHandler handler;

        Leg(FakeChannel channel, ChannelHandler handler) {
            this.channel = channel;
            this.handler = handler;
        }

        /** The peer sends a text fragment; it must have been demanded. Returns the release handed to the engine. */
        RecordingCompletion sendText(String fragment, boolean last) {
            return sendUtf8(fragment.getBytes(StandardCharsets.UTF_8), last);
        }

        /** The peer sends a text fragment of raw bytes, valid UTF-8 or not. */
        RecordingCompletion sendUtf8(byte[] bytes, boolean last) {
            channel.consumeDemand();
            RecordingCompletion release = new RecordingCompletion();
            handler.onText(ByteBuffer.wrap(bytes.clone()), last, release);
            return release;
        }

        /** The peer sends a whole text message. */
        void sendText(String message) {
            sendText(message, true);
        }

        /** The peer sends a binary fragment; returns the release completion handed to the engine. */
        RecordingCompletion sendBinary(byte[] bytes, boolean last) {
            channel.consumeDemand();
            RecordingCompletion release = new RecordingCompletion();
            handler.onBinary(ByteBuffer.wrap(bytes.clone()), last, release);
            return release;
        }

        void sendPing(byte[] payload) {
            channel.consumeDemand();
            handler.onPing(ByteBuffer.wrap(payload.clone()));
        }

        void sendPong(byte[] payload) {
            channel.consumeDemand();
            handler.onPong(ByteBuffer.wrap(payload.clone()));
        }

        /** The peer's CLOSE frame arrives (no demand needed). */
        void sendClose(CloseStatus status) {
            handler.onClose(status);
        }

        /** The connection is lost without a CLOSE frame. */
        void drop() {
            handler.onClose(CloseStatus.ABNORMAL);
        }

        /** The transport reports an error. */
        void error(Throwable cause) {
            handler.onError(cause);
        }

        /** The transport found the peer breaking the protocol and closed it with {@code sent}. */
        void protocolError(CloseStatus sent) {
            handler.onProtocolError(sent);
        }

        /** Answers the last CLOSE the engine sent on this leg with the same status. */
        void echoClose() {
            List<CloseStatus> closes = channel.closes();
            if (closes.isEmpty()) {
                fail("the engine sent no CLOSE to " + channel.name() + " to answer");
            }
            handler.onClose(closes.get(closes.size() - 1));
        }
    }

    static ConnectionInfo info(DefaultGateway gateway, String id) {
        return gateway.connections().info(id).toCompletableFuture().join().orElseThrow(() -> new AssertionError("connection " + id + " not listed"));
    }

    static <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(FakeChannel.WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("waited " + FakeChannel.WAIT_SECONDS + " s for " + what, e);
        } catch (ExecutionException e) {
            throw new AssertionError(what + " failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + what, e);
        }
    }
}
