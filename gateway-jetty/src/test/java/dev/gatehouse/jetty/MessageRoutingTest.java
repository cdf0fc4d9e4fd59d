package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Gateway;
import dev.gatehouse.Message;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.auth.JwtAuthenticator;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;

/** WebSocket API routes with in-process integrations, through a real gateway on both mounts. */
class MessageRoutingTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @RegisterExtension
    final Servers servers = new Servers();
    private final BlockingQueue<RouteEvent> events = new LinkedBlockingQueue<>();

    /** An integration that records its event (on a pool thread) and answers with {@code answer}. */
    private Integration recording(java.util.function.Function<RouteEvent, Reply> answer) {
        return Integration.of(event -> {
            events.add(event);
            return CompletableFuture.completedFuture(answer.apply(event));
        });
    }

    private GatewayServer start(Mount mount, UnaryOperator<WebSocketApi.Builder> api) throws Exception {
        return servers.start(Gateway.builder()
                .route(Route.builder("/api/{room}")
                        .authenticator(ApiKeyAuthenticator.of("k-1", "mobile-app"))
                        .webSocketApi(api.apply(WebSocketApi.builder()).build())
                        .build())
                .build(), mount);
    }

    private static WebSocket connect(GatewayServer gw, RecordingListener listener) throws Exception {
        return HTTP.newWebSocketBuilder().header("X-API-Key", "k-1").buildAsync(gw.uri("/api/lobby"), listener)
                .get(5, TimeUnit.SECONDS);
    }

    private RouteEvent nextEvent() throws InterruptedException {
        RouteEvent e = events.poll(5, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("no integration event within 5 s");
        }
        return e;
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void routesMessagesByActionAndRepliesToTheClient(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api
                .integration("echo", recording(e -> Reply.send(e.body().orElseThrow())))
                .integration("$default", recording(e -> Reply.text("default"))));
        RecordingListener client = new RecordingListener();
        WebSocket ws = connect(gw, client);

        ws.sendText("{\"action\":\"echo\",\"n\":1}", true).get(5, TimeUnit.SECONDS);
        client.assertText("{\"action\":\"echo\",\"n\":1}");
        ws.sendText("plain text", true).get(5, TimeUnit.SECONDS);
        client.assertText("default");
        ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2}), true).get(5, TimeUnit.SECONDS);
        client.assertText("default");

        RouteEvent first = nextEvent();
        assertEquals("echo", first.routeKey());
        assertEquals("lobby", first.handshake().pathParameters().get("room"));
        assertEquals("mobile-app", first.handshake().principal().orElseThrow().subject());
        assertTrue(first.handshake().header("X-API-Key").isEmpty(), "the credential never reaches an integration");
        assertEquals("$default", nextEvent().routeKey());
        assertTrue(nextEvent().body().orElseThrow() instanceof Message.Binary);
        ws.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);
        client.assertClose(1000, "bye");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aSlowIntegrationGetsOneMessageAtATimeInOrderAndSlowsItsClient(Mount mount) throws Exception {
        BlockingQueue<CompletableFuture<Reply>> held = new LinkedBlockingQueue<>();
        Gateway gateway = Gateway.builder()
                .route(Route.builder("/api/{room}")
                        .webSocketApi(WebSocketApi.builder().integration("$default", Integration.of(e -> {
                            events.add(e);
                            CompletableFuture<Reply> answer = new CompletableFuture<>();
                            held.add(answer);
                            return answer;
                        })).build())
                        .build())
                .build();
        GatewayServer gw = servers.start(gateway, mount);
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/api/lobby"), new RecordingListener())
                .get(5, TimeUnit.SECONDS);
        int count = 1000;
        String padding = "x".repeat(100);
        CompletableFuture<WebSocket> sending = CompletableFuture.completedFuture(ws);
        for (int i = 0; i < count; i++) {
            String message = "{\"n\":" + i + ",\"pad\":\"" + padding + "\"}";
            sending = sending.thenCompose(w -> w.sendText(message, true));
        }

        for (int i = 0; i < count; i++) {
            CompletableFuture<Reply> answer = held.poll(5, TimeUnit.SECONDS);
            if (answer == null) {
                throw new AssertionError("message " + i + " did not reach the integration within 5 s");
            }
            assertEquals(i + 1, events.size(), "one message with the integration at a time");
            String text = ((Message.Text) List.copyOf(events).get(i).body().orElseThrow()).text();
            assertTrue(text.startsWith("{\"n\":" + i + ","), "in order: " + text);
            if (i == 0) {
                long pending = gateway.connections().list().get(0).pendingBytes();
                assertTrue(pending <= text.length(), "the gateway holds the one message only: " + pending + " bytes");
            }
            answer.complete(Reply.none());
        }
        sending.get(5, TimeUnit.SECONDS);
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void routesByANestedPathOrATemplateOfSeveral(Mount mount) throws Exception {
        GatewayServer nested = start(mount, api -> api.selection("$request.body.meta.kinds[1]")
                .integration("update", recording(e -> Reply.text("update")))
                .integration("$default", recording(e -> Reply.text("default"))));
        RecordingListener client = new RecordingListener();
        WebSocket ws = connect(nested, client);
        ws.sendText("{\"meta\":{\"kinds\":[\"create\",\"update\"]}}", true).get(5, TimeUnit.SECONDS);
        client.assertText("update");
        ws.sendText("{\"meta\":{\"kinds\":[\"create\"]}}", true).get(5, TimeUnit.SECONDS);
        client.assertText("default");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        client.assertClose(1000, "");
        servers.stopAll();

        GatewayServer template = start(mount, api -> api.selection("${request.body.service}/${request.body.action}")
                .integration("chat/send", recording(e -> Reply.text("chat/send")))
                .integration("$default", recording(e -> Reply.text("default"))));
        RecordingListener second = new RecordingListener();
        WebSocket other = connect(template, second);
        other.sendText("{\"action\":\"send\",\"service\":\"chat\"}", true).get(5, TimeUnit.SECONDS);
        second.assertText("chat/send");
        other.sendText("{\"action\":\"send\"}", true).get(5, TimeUnit.SECONDS);
        second.assertText("default");
        assertEquals(List.of("update", "$default", "chat/send", "$default"),
                List.copyOf(events).stream().map(RouteEvent::routeKey).toList());
        other.sendClose(1000, "").get(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void connectRefusesWithItsStatusAndBodyAndNo101(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api
                .integration("$connect", recording(e -> Reply.refuse(403, "members only")))
                .integration("$default", recording(e -> Reply.none())));

        RawHttp.Response r = RawHttp.upgrade(gw.uri("/api/lobby"), "X-API-Key: k-1");

        assertEquals(403, r.status());
        assertEquals("members only", r.body());
        assertTrue(r.header("Content-Type").startsWith("text/plain"), r.header("Content-Type"));
        assertEquals(RouteEvent.Type.CONNECT, nextEvent().type());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void connectAcceptsWithASubprotocolTheClientOffered(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api
                .integration("$connect", recording(e -> Reply.accept().withSubprotocol("chat.v2")))
                .integration("$default", recording(e -> Reply.none())));

        WebSocket ws = HTTP.newWebSocketBuilder().header("X-API-Key", "k-1").subprotocols("chat.v1", "chat.v2")
                .buildAsync(gw.uri("/api/lobby"), new RecordingListener()).get(5, TimeUnit.SECONDS);

        assertEquals("chat.v2", ws.getSubprotocol());
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aBrowserThatSendsItsTokenAsTheSubprotocolPairIsAnsweredWithBearer(Mount mount) throws Exception {
        byte[] secret = "a-256-bit-secret-for-the-tests!!".getBytes(StandardCharsets.UTF_8);
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.builder("/api/{room}")
                        .authenticator(JwtAuthenticator.hmacSha256(secret))
                        .webSocketApi(WebSocketApi.builder().integration("$default", recording(e -> Reply.none())).build())
                        .build())
                .build(), mount);
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder().subject("alice")
                .expirationTime(Date.from(Instant.now().plusSeconds(600))).build());
        jwt.sign(new MACSigner(secret));

        WebSocket ws = HTTP.newWebSocketBuilder().subprotocols("bearer", "bearer." + jwt.serialize())
                .buildAsync(gw.uri("/api/lobby"), new RecordingListener()).get(5, TimeUnit.SECONDS);

        assertEquals("bearer", ws.getSubprotocol(), "a browser closes a socket whose 101 names no offered subprotocol");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void disconnectRunsOnceWithTheClientsCloseAfterIt(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api
                .integration("$default", recording(e -> Reply.none()))
                .integration("$disconnect", recording(e -> Reply.none())));
        RecordingListener client = new RecordingListener();
        WebSocket ws = connect(gw, client);

        ws.sendClose(4001, "leaving").get(5, TimeUnit.SECONDS);
        client.assertClose(4001, "leaving");

        RouteEvent disconnect = nextEvent();
        assertEquals(RouteEvent.Type.DISCONNECT, disconnect.type());
        assertEquals(CloseStatus.of(4001, "leaving"), disconnect.disconnectStatus().orElseThrow());
        assertEquals(List.of(), List.copyOf(events), "once");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void anIntegrationThatThrowsAnswersInternalServerErrorAndTheClientStays(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api.integration("$default", Integration.of(e -> {
            throw new IllegalStateException("broken handler");
        })));
        RecordingListener client = new RecordingListener();
        WebSocket ws = connect(gw, client);

        ws.sendText("{}", true).get(5, TimeUnit.SECONDS);
        RecordingListener.Event reply = client.nextData();
        assertTrue(reply.toString().contains("Internal server error"), reply.toString());
        assertFalse(ws.isOutputClosed());
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        client.assertClose(1000, "");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void anIntegrationCanCloseTheConnection(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api.integration("$default",
                recording(e -> Reply.close(CloseStatus.of(4003, "kicked")))));
        RecordingListener client = new RecordingListener();
        WebSocket ws = connect(gw, client);

        ws.sendText("{}", true).get(5, TimeUnit.SECONDS);

        client.assertClose(4003, "kicked");
    }
}
