package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.IntegrationHandler;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;

/**
 * WebSocket API connections in the engine: the client leg is a fake channel, the backend leg the integration
 * leg, in-process integrations run on the calling thread and the clock is the test's.
 */
class IntegrationLegTest {

    private final ManualTicker ticker = new ManualTicker();
    private final List<RouteEvent> events = new CopyOnWriteArrayList<>();
    private final FakeChannel client = new FakeChannel("client");
    private DefaultGateway gateway;
    private Bridge bridge;
    private BridgeHarness.Leg clientLeg;

    @AfterEach
    void engineKeptTheChannelContract() {
        assertEquals(List.of(), client.violations());
    }

    /** An in-process integration that records its events and answers with {@code answer}. */
    private Integration recording(java.util.function.Function<RouteEvent, Reply> answer) {
        IntegrationHandler h = event -> {
            events.add(event);
            return CompletableFuture.completedFuture(answer.apply(event));
        };
        return Integration.of(h);
    }

    private DefaultGateway gateway(UnaryOperator<WebSocketApi.Builder> api) {
        Route route = Route.builder("/api/{room}").webSocketApi(api.apply(WebSocketApi.builder()).build()).build();
        DefaultGateway g = DefaultGateway.of(Gateway.builder().route(route).settings(BridgeHarness.quiet().build()).build(),
                ticker);
        g.integrations().useExecutor(Runnable::run);
        return g;
    }

    private static Handshake request() {
        return BridgeHarness.request("req-1", "/api/lobby").build();
    }

    /** Admits, runs $connect, connects both legs; returns $connect's outcome. */
    private Integrations.Connect open(UnaryOperator<WebSocketApi.Builder> api) {
        return open(api, g -> { });
    }

    /** Like {@link #open(UnaryOperator)}, with the gateway prepared before the request is admitted. */
    private Integrations.Connect open(UnaryOperator<WebSocketApi.Builder> api, Consumer<DefaultGateway> prepare) {
        gateway = gateway(api);
        prepare.accept(gateway);
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request()));
        bridge = gateway.newBridge(admission);
        Integrations.Connect outcome = BridgeHarness.await(gateway.connectApi(admission, bridge).toCompletableFuture(), "$connect");
        if (outcome instanceof Integrations.Connect.Accepted accepted) {
            assertTrue(bridge.backendConnected(gateway.integrationLeg(admission, bridge, accepted), accepted.subprotocol()));
            bridge.clientConnected(client);
            clientLeg = new BridgeHarness.Leg(client, bridge.clientHandler());
            client.completeSendsAtOnce();
        } else {
            bridge.abandon("refused");
        }
        return outcome;
    }

    @Test
    void theNextMessageIsRoutedByTheRouteAsAnUpdateChangedIt() {
        open(api -> api.integration("sendmessage", recording(e -> Reply.text("v1 send")))
                .integration("$default", recording(e -> Reply.text("v1 default"))));
        clientLeg.sendText("{\"action\":\"sendmessage\"}");
        assertEquals("v1 send", client.nextSent().text());

        gateway.update(List.of(Route.builder("/api/{room}").webSocketApi(WebSocketApi.builder()
                .selection("$request.body.type")
                .integration("post", recording(e -> Reply.text("v2 post")))
                .integration("$default", recording(e -> Reply.text("v2 default")))
                .integration("$disconnect", recording(e -> Reply.none())).build()).build()));

        clientLeg.sendText("{\"action\":\"sendmessage\"}");
        assertEquals("v2 default", client.nextSent().text(), "the old route key is gone");
        clientLeg.sendText("{\"type\":\"post\"}");
        assertEquals("v2 post", client.nextSent().text(), "the new selection expression and route key");
        clientLeg.sendClose(CloseStatus.of(1000, "bye"));
        assertEquals(1, events.stream().filter(e -> e.type() == RouteEvent.Type.DISCONNECT).count(),
                "the new $disconnect");
    }

    @Test
    void connectionOfARemovedApiRouteKeepsRoutingByTheRouteItWasAcceptedWith() {
        open(api -> api.integration("$default", recording(e -> Reply.text("v1"))));

        gateway.update(List.of(Route.of("/elsewhere", dev.gatehouse.Backend.of("ws://b.internal/"))));

        clientLeg.sendText("{}");
        assertEquals("v1", client.nextSent().text());
        assertEquals(404, gateway.admit(request()).rejection().orElseThrow().status());
    }

    @Test
    void aMessageIsRoutedByItsActionAndTheReplyReachesTheClient() {
        open(api -> api.integration("sendmessage", recording(e -> Reply.text("sent: " + ((Message.Text) e.body().orElseThrow()).text())))
                .integration("$default", recording(e -> Reply.text("default"))));

        clientLeg.sendText("{\"action\":\"sendmessage\",\"data\":\"hi\"}");

        assertEquals("sent: {\"action\":\"sendmessage\",\"data\":\"hi\"}", client.nextSent().text());
        RouteEvent e = events.get(0);
        assertEquals(RouteEvent.Type.MESSAGE, e.type());
        assertEquals("sendmessage", e.routeKey());
        assertEquals(bridge.id(), e.connectionId());
        assertEquals("req-1", e.requestId());
        assertEquals("lobby", e.handshake().pathParameters().get("room"));
        assertTrue(e.messageId().isPresent());
    }

    @Test
    void unknownKeysNonJsonTextAndBinaryMessagesGoToDefault() {
        open(api -> api.integration("sendmessage", recording(e -> Reply.none()))
                .integration("$default", recording(e -> Reply.none())));

        clientLeg.sendText("{\"action\":\"nothing-here\"}");
        clientLeg.sendText("not json");
        clientLeg.sendBinary(new byte[] {1, 2, 3}, true);

        assertEquals(List.of("$default", "$default", "$default"), events.stream().map(RouteEvent::routeKey).toList());
        assertInstanceOf(Message.Binary.class, events.get(2).body().orElseThrow());
        assertEquals(0, client.sent().size(), "no replies were asked for");
    }

    @Test
    void withoutDefaultAnUnmatchedMessageGetsForbiddenAndTheConnectionStaysOpen() {
        open(api -> api.integration("sendmessage", recording(e -> Reply.none())));

        clientLeg.sendText("{\"action\":\"other\"}");

        assertEquals("{\"message\":\"Forbidden\",\"connectionId\":\"" + bridge.id() + "\",\"requestId\":\"req-1\"}",
                client.nextSent().text());
        assertFalse(bridge.closed().isDone());
        clientLeg.sendText("{\"action\":\"sendmessage\"}");
        assertEquals(1, events.size(), "the next message is read and routed");
    }

    @Test
    void aFailingIntegrationAnswersInternalServerErrorAndKeepsTheConnection() {
        IntegrationHandler throwing = e -> {
            throw new IllegalStateException("boom");
        };
        open(api -> api.integration("$default", Integration.of(throwing)));

        clientLeg.sendText("{}");

        assertEquals("{\"message\":\"Internal server error\",\"connectionId\":\"" + bridge.id() + "\",\"requestId\":\"req-1\"}",
                client.nextSent().text());
        assertFalse(bridge.closed().isDone());
    }

    @Test
    void anIntegrationThatDoesNotAnswerInTimeIsAnsweredLikeAFailure() {
        CompletableFuture<Reply> never = new CompletableFuture<>();
        open(api -> api.timeout(Duration.ofSeconds(2)).integration("$default", Integration.of(e -> never)));

        clientLeg.sendText("{}");
        assertEquals(0, client.sent().size());
        ticker.advance(Duration.ofSeconds(2));

        assertTrue(client.nextSent().text().contains("Internal server error"));
    }

    @Test
    void theNextMessageIsReadOnlyOnceTheIntegrationAnswered() {
        List<CompletableFuture<Reply>> calls = new CopyOnWriteArrayList<>();
        open(api -> api.integration("$default", Integration.of(e -> {
            CompletableFuture<Reply> f = new CompletableFuture<>();
            calls.add(f);
            return f;
        })));
        int demanded = client.demands();

        clientLeg.sendText("{\"n\":1}");
        assertEquals(demanded, client.demands(), "no demand while the integration works");

        calls.get(0).complete(Reply.text("one"));
        assertEquals("one", client.nextSent().text());
        assertEquals(demanded + 1, client.demands(), "the next message is demanded after the reply went out");
    }

    @Test
    void invalidUtf8InATextMessageClosesTheClientWith1007() {
        open(api -> api.integration("$default", recording(e -> Reply.none())));

        clientLeg.sendUtf8(new byte[] {'{', (byte) 0xC3, '}'}, true);

        assertEquals(1007, client.awaitClose().code());
        assertEquals(0, events.size(), "no integration sees a broken message");
    }

    @Test
    void anIntegrationCanCloseTheConnectionAndDisconnectRunsOnce() {
        open(api -> api.integration("$default", recording(e -> Reply.close(CloseStatus.of(4000, "bye"))))
                .integration("$disconnect", recording(e -> Reply.none())));

        clientLeg.sendText("{}");
        assertEquals(CloseStatus.of(4000, "bye"), client.awaitClose());
        clientLeg.sendClose(CloseStatus.of(4000, "bye"));
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        List<RouteEvent> disconnects = events.stream().filter(e -> e.type() == RouteEvent.Type.DISCONNECT).toList();
        assertEquals(1, disconnects.size());
        assertEquals(CloseStatus.of(4000, "bye"), disconnects.get(0).disconnectStatus().orElseThrow());
    }

    @Test
    void disconnectRunsOnceWithTheClientsCloseStatus() {
        open(api -> api.integration("$default", recording(e -> Reply.none()))
                .integration("$disconnect", recording(e -> Reply.none())));

        clientLeg.sendClose(CloseStatus.of(1000, "done"));
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        List<RouteEvent> disconnects = events.stream().filter(e -> e.type() == RouteEvent.Type.DISCONNECT).toList();
        assertEquals(1, disconnects.size());
        assertEquals(CloseStatus.of(1000, "done"), disconnects.get(0).disconnectStatus().orElseThrow());
        assertEquals(CloseStatus.of(1000, "done"), client.awaitClose(), "the client's close is answered");
    }

    @Test
    void aFailedDisconnectIsCounted() {
        open(api -> api.integration("$default", recording(e -> Reply.none()))
                .integration("$disconnect", Integration.of(e -> CompletableFuture.failedFuture(new IllegalStateException("down")))));

        clientLeg.sendClose(CloseStatus.of(1000, ""));
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        assertEquals(1, gateway.integrations().disconnectFailures());
    }

    @Test
    void disconnectRunsOnceWhenTheClientIsLost() {
        open(api -> api.integration("$default", recording(e -> Reply.none()))
                .integration("$disconnect", recording(e -> Reply.none())));

        clientLeg.drop();
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        assertEquals(1, events.stream().filter(e -> e.type() == RouteEvent.Type.DISCONNECT).count());
        assertEquals(1006, disconnects().get(0).disconnectStatus().orElseThrow().code());
    }

    /** Opens a connection on a gateway with these settings, whose API records every event. */
    private void openWith(Settings settings) {
        Route route = Route.builder("/api/{room}").webSocketApi(WebSocketApi.builder()
                .integration("$default", recording(e -> Reply.none()))
                .integration("$disconnect", recording(e -> Reply.none())).build()).build();
        gateway = DefaultGateway.of(Gateway.builder().route(route).settings(settings).build(), ticker);
        gateway.integrations().useExecutor(Runnable::run);
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request()));
        bridge = gateway.newBridge(admission);
        assertTrue(bridge.backendConnected(gateway.integrationLeg(admission, bridge), null));
        bridge.clientConnected(client);
        clientLeg = new BridgeHarness.Leg(client, bridge.clientHandler());
    }

    private List<RouteEvent> disconnects() {
        return events.stream().filter(e -> e.type() == RouteEvent.Type.DISCONNECT).toList();
    }

    @Test
    void disconnectRunsOnceAfterAnIdleTimeout() {
        openWith(BridgeHarness.quiet().idleTimeout(Duration.ofMinutes(1)).build());

        ticker.advance(Duration.ofMinutes(1));
        assertEquals(CloseStatus.of(1001, "idle timeout"), client.awaitClose());
        clientLeg.echoClose();
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        assertEquals(1, disconnects().size());
        assertEquals(1001, disconnects().get(0).disconnectStatus().orElseThrow().code());
    }

    @Test
    void disconnectRunsOnceWithTheLifetimeStatusWhenTheConnectionReachesItsMaxLifetime() {
        openWith(BridgeHarness.quiet().maxLifetime(Duration.ofHours(2)).maxLifetimeJitter(0)
                .lifetimeStatus(CloseStatus.of(1012, "max lifetime")).build());

        ticker.advance(Duration.ofHours(2));
        assertEquals(CloseStatus.of(1012, "max lifetime"), client.awaitClose());
        clientLeg.echoClose();
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        assertEquals(1, disconnects().size());
        assertEquals(CloseStatus.of(1012, "max lifetime"), disconnects().get(0).disconnectStatus().orElseThrow());
    }

    @Test
    void disconnectRunsOnceWhenTheCredentialExpires() {
        Route route = Route.builder("/api/{room}")
                .authenticator(h -> Verdict.allow(h.withPrincipal(Principal.builder("alice")
                        .expiresAt(ticker.now().plus(Duration.ofMinutes(5))).build())))
                .webSocketApi(WebSocketApi.builder()
                        .integration("$default", recording(e -> Reply.none()))
                        .integration("$disconnect", recording(e -> Reply.none())).build())
                .build();
        gateway = DefaultGateway.of(Gateway.builder().route(route)
                .settings(BridgeHarness.quiet().credentialGrace(Duration.ZERO).build()).build(), ticker);
        gateway.integrations().useExecutor(Runnable::run);
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request()));
        bridge = gateway.newBridge(admission);
        assertTrue(bridge.backendConnected(gateway.integrationLeg(admission, bridge), null));
        bridge.clientConnected(client);
        clientLeg = new BridgeHarness.Leg(client, bridge.clientHandler());
        assertEquals("alice", gateway.connections().info(bridge.id()).toCompletableFuture().join().orElseThrow().user().orElseThrow(),
                "without $connect, the user is the principal's subject");

        ticker.advance(Duration.ofMinutes(5));
        assertEquals(CloseStatus.of(1008, "credential expired"), client.awaitClose());
        clientLeg.echoClose();
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        assertEquals(1, disconnects().size());
        assertEquals("alice", disconnects().get(0).handshake().principal().orElseThrow().subject());
    }

    @Test
    void disconnectRunsOnceWhenTheGatewayDrains() {
        openWith(BridgeHarness.quiet().build());

        gateway.drain(Duration.ZERO);
        assertEquals(CloseStatus.SERVICE_RESTART, client.awaitClose());
        clientLeg.echoClose();
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        assertEquals(1, disconnects().size());
        assertEquals(CloseStatus.SERVICE_RESTART, disconnects().get(0).disconnectStatus().orElseThrow(),
                "$disconnect reports what the client got");
    }

    @Test
    void disconnectRunsOnceWhenTheClientNeverAnswersTheClose() {
        openWith(BridgeHarness.quiet().idleTimeout(Duration.ofMinutes(1)).closeTimeout(Duration.ofSeconds(5)).build());

        ticker.advance(Duration.ofMinutes(1));
        client.awaitClose();
        ticker.advance(Duration.ofSeconds(5));
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        assertEquals(1, disconnects().size());
    }

    @Test
    void anAnswerAfterTheGatewayClosedTheConnectionIsDroppedAndTheCloseCompletes() {
        List<CompletableFuture<Reply>> calls = new CopyOnWriteArrayList<>();
        Route route = Route.builder("/api/{room}").webSocketApi(WebSocketApi.builder()
                .integration("$default", Integration.of(e -> {
                    CompletableFuture<Reply> f = new CompletableFuture<>();
                    calls.add(f);
                    return f;
                }))
                .integration("$disconnect", recording(e -> Reply.none())).build()).build();
        gateway = DefaultGateway.of(Gateway.builder().route(route).settings(BridgeHarness.quiet().build()).build(), ticker);
        gateway.integrations().useExecutor(Runnable::run);
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request()));
        bridge = gateway.newBridge(admission);
        assertTrue(bridge.backendConnected(gateway.integrationLeg(admission, bridge), null));
        bridge.clientConnected(client);
        client.completeSendsAtOnce();
        clientLeg = new BridgeHarness.Leg(client, bridge.clientHandler());

        RecordingCompletion release = clientLeg.sendText("{}", true);
        gateway.drain(Duration.ZERO);
        assertEquals(1012, client.awaitClose().code());
        assertTrue(release.isDone(), "the client's frame is released when the leg ends");
        calls.get(0).complete(Reply.text("late"));
        clientLeg.echoClose();
        BridgeHarness.await(bridge.closed(), "the bridge to close");

        assertEquals(0, client.sent().size(), "the late reply is dropped");
        assertEquals(0, client.aborts(), "a clean close, not a drop at the close timeout");
        assertEquals(1, disconnects().size());
    }

    @Test
    void aSlowConnectWithinTheIntegrationTimeoutOutlivesTheConnectTimeout() {
        List<CompletableFuture<Reply>> calls = new CopyOnWriteArrayList<>();
        Route route = Route.builder("/api/{room}").webSocketApi(WebSocketApi.builder().timeout(Duration.ofSeconds(60))
                .integration("$connect", Integration.of(e -> {
                    CompletableFuture<Reply> f = new CompletableFuture<>();
                    calls.add(f);
                    return f;
                }))
                .integration("$default", recording(e -> Reply.none()))
                .integration("$disconnect", recording(e -> Reply.none())).build()).build();
        gateway = DefaultGateway.of(Gateway.builder().route(route).settings(BridgeHarness.quiet()
                .connectTimeout(Duration.ofSeconds(10)).closeTimeout(Duration.ofSeconds(5)).build()).build(), ticker);
        gateway.integrations().useExecutor(Runnable::run);
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request()));
        bridge = gateway.newBridge(admission);
        CompletableFuture<Integrations.Connect> outcome = gateway.connectApi(admission, bridge).toCompletableFuture();

        ticker.advance(Duration.ofSeconds(59));
        assertFalse(bridge.closed().isDone(), "the bridge waits as long as $connect may take");
        calls.get(0).complete(Reply.none());

        assertInstanceOf(Integrations.Connect.Accepted.class, outcome.join());
        assertTrue(bridge.backendConnected(gateway.integrationLeg(admission, bridge), null));
        bridge.abandon("test over");
    }

    @Test
    void aReplyOverTheRoutesLimitIsAFailedCallAndTheClientStays() {
        open(api -> api.integration("$default", recording(e -> Reply.text("x".repeat(200 * 1024)))));

        clientLeg.sendText("{}");

        assertTrue(client.nextSent().text().contains("Internal server error"));
        assertFalse(bridge.closed().isDone());
    }

    @Test
    void apiRoutesKeepA128KiBLimitUnlessAnotherIsSet() {
        Route api = Route.builder("/api").webSocketApi(WebSocketApi.builder()
                .integration("$default", recording(e -> Reply.none())).build()).build();
        assertEquals(128 * 1024, RouteTable.effectiveSettings(api, Settings.builder().maxMessageSize(0).build())
                .maxClientMessageSize(), "never unbounded: the gateway buffers these messages whole");
        assertEquals(128 * 1024, RouteTable.effectiveSettings(api, Settings.defaults()).maxClientMessageSize());
        assertEquals(4096, RouteTable.effectiveSettings(api, Settings.builder().maxMessageSize(4096).build())
                .maxClientMessageSize());
        Route own = api.toBuilder().settings(Settings.builder().maxMessageSize(1 << 20).build()).build();
        assertEquals(1 << 20, RouteTable.effectiveSettings(own, Settings.defaults()).maxBackendMessageSize());
    }

    @Test
    void keepalivePingsToTheIntegrationLegAreAnsweredAtOnce() {
        gateway = null;
        Route route = Route.builder("/api/{room}").webSocketApi(WebSocketApi.builder()
                .integration("$default", recording(e -> Reply.none())).build()).build();
        gateway = DefaultGateway.of(Gateway.builder().route(route).settings(BridgeHarness.quiet()
                .pingInterval(Duration.ofSeconds(10)).pongTimeout(Duration.ofSeconds(5)).build()).build(), ticker);
        gateway.integrations().useExecutor(Runnable::run);
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request()));
        bridge = gateway.newBridge(admission);
        assertTrue(bridge.backendConnected(gateway.integrationLeg(admission, bridge), null));
        bridge.clientConnected(client);
        client.answerPingsWith(bridge.clientHandler());

        ticker.advance(Duration.ofSeconds(60));

        assertFalse(bridge.closed().isDone(), "both legs answered their pings");
    }

    @Test
    void connectCanRefuseWithAStatusAndBody() {
        Integrations.Connect outcome = open(api -> api.integration("$connect", recording(e -> Reply.refuse(403, "no entry")))
                .integration("$default", recording(e -> Reply.none())));

        Integrations.Connect.Refused refused = assertInstanceOf(Integrations.Connect.Refused.class, outcome);
        assertEquals(403, refused.reject().status());
        assertEquals(Rejection.BACKEND_REJECTED, refused.reject().kind());
        assertEquals("no entry", refused.body());
        assertEquals(RouteEvent.Type.CONNECT, events.get(0).type());
        assertEquals(0, events.stream().filter(e -> e.type() == RouteEvent.Type.DISCONNECT).count(),
                "a refused connection was never connected");
    }

    @Test
    void aRefusalBodyIsCappedAt8KiBOfUtf8WithoutSplittingACharacter() {
        String body = "é".repeat(5000); // 10,000 bytes
        String capped = Integrations.capped(body);
        assertEquals(4096, capped.length());
        assertTrue(capped.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 8 * 1024);
        assertEquals("short", Integrations.capped("short"));
    }

    @Test
    void connectThatDoesNotAnswerInTimeGives504() {
        gateway = gateway(api -> api.timeout(Duration.ofSeconds(3))
                .integration("$connect", Integration.of(e -> new CompletableFuture<>()))
                .integration("$default", recording(e -> Reply.none())));
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request()));
        bridge = gateway.newBridge(admission);
        CompletableFuture<Integrations.Connect> outcome = gateway.connectApi(admission, bridge).toCompletableFuture();
        assertFalse(outcome.isDone());

        ticker.advance(Duration.ofSeconds(3));

        Integrations.Connect.Refused refused = assertInstanceOf(Integrations.Connect.Refused.class, outcome.join());
        assertEquals(504, refused.reject().status());
        bridge.abandon("refused");
    }

    @Test
    void connectNamesTheConnectionsUserAndGroups() {
        open(api -> api.integration("$connect", recording(e -> Reply.accept().withUser("alice").withGroups("ops", "eu")))
                .integration("$default", recording(e -> Reply.none())));

        ConnectionInfo info = gateway.connections().info(bridge.id()).toCompletableFuture().join().orElseThrow();
        assertEquals("alice", info.user().orElseThrow());
        assertEquals(List.of("ops", "eu"), info.groups());
    }

    @Test
    void withoutConnectTheUserIsThePrincipalsSubject() {
        open(api -> api.integration("$default", recording(e -> Reply.none())));

        ConnectionInfo info = gateway.connections().info(bridge.id()).toCompletableFuture().join().orElseThrow();
        assertTrue(info.user().isEmpty(), "anonymous");
        assertEquals(List.of(), info.groups());
    }

    @Test
    void connectMayChooseOnlyAnOfferedSubprotocol() {
        Integrations.Connect outcome = open(api -> api
                .integration("$connect", recording(e -> Reply.accept().withSubprotocol("chat.v2").withUser("alice")))
                .integration("$default", recording(e -> Reply.none())));

        Integrations.Connect.Refused refused = assertInstanceOf(Integrations.Connect.Refused.class, outcome);
        assertEquals(502, refused.reject().status());
    }

    @ParameterizedTest
    @MethodSource("failures")
    void aFailedConnectCallOfAnHttpIntegrationGivesItsStatus(Throwable failure, int status) {
        gateway = gateway(api -> api.integration("$connect", Integration.http(URI.create("http://svc.internal/connect")))
                .integration("$default", recording(e -> Reply.none())));
        gateway.integrations().useHttp((integration, event, timeout) -> CompletableFuture.failedFuture(failure));
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request()));
        bridge = gateway.newBridge(admission);

        Integrations.Connect outcome = BridgeHarness.await(gateway.connectApi(admission, bridge).toCompletableFuture(), "$connect");

        Integrations.Connect.Refused refused = assertInstanceOf(Integrations.Connect.Refused.class, outcome);
        assertEquals(status, refused.reject().status());
        assertNull(refused.body(), "the client gets the gateway's own body");
        bridge.abandon("refused");
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(new TimeoutException("Total timeout 1000 ms elapsed"), 504),
                Arguments.of(new ConnectException("Connection refused"), 502),
                Arguments.of(new IOException("connection reset"), 502),
                Arguments.of(new IntegrationAnswerException("the $connect integration answered 302"), 502),
                Arguments.of(new RejectedExecutionException("Max requests queued per destination 8 exceeded"), 503),
                Arguments.of(new IllegalStateException("boom"), 500));
    }

    @Test
    void aMessageToAnHttpIntegrationGoesThroughTheAdaptersCallerWithTheRoutesTimeout() {
        List<Duration> timeouts = new CopyOnWriteArrayList<>();
        Integrations.Connect outcome = open(api -> api.timeout(Duration.ofSeconds(7))
                .integration("$default", Integration.http(URI.create("http://svc.internal/default"))), g ->
                g.integrations().useHttp((integration, event, timeout) -> {
                    timeouts.add(timeout);
                    events.add(event);
                    return CompletableFuture.completedFuture(Reply.text("from " + integration.uri().getPath()));
                }));
        assertInstanceOf(Integrations.Connect.Accepted.class, outcome);

        clientLeg.sendText("{}");

        assertEquals("from /default", client.nextSent().text());
        assertEquals(List.of(Duration.ofSeconds(7)), timeouts);
        assertEquals("$default", events.get(0).routeKey());
    }

    @Test
    void withoutAnHttpCallerAnHttpIntegrationFails() {
        open(api -> api.integration("$default", Integration.http(URI.create("http://svc.internal/default"))));

        clientLeg.sendText("{}");

        assertTrue(client.nextSent().text().contains("Internal server error"));
    }
}
