package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.WebSocketApi;

/**
 * The access log on both mounts, read line by line as JSON: one line per session at its end, one per rejected
 * handshake, one per routed message when asked; the MDC keys around them; and the trace context that the
 * backend, the integrations and the log share.
 */
class AccessLogTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "ak_access_log_1";
    private static final String CLIENT_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private static final Pattern TRACEPARENT = Pattern.compile("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

    @RegisterExtension
    final Servers servers = new Servers();

    @BeforeEach
    void clearLog() {
        RecordingLogProvider.clear();
    }

    private GatewayServer start(Mount mount) throws Exception {
        return servers.start(Gateway.builder()
                .route(Route.builder("/chat/{room}").authenticator(ApiKeyAuthenticator.of(KEY, "mobile"))
                        .backend(Backend.of(servers.backend().uri("/echo"))).build())
                .route(Route.builder("/api").webSocketApi(WebSocketApi.builder()
                        .integration("$default", Integration.of(e -> CompletableFuture.completedFuture(Reply.text("pong"))))
                        .build()).build())
                .logMessages(true)
                .node("node-7")
                .build(), mount);
    }

    /** The access-log line that contains {@code needle}, waiting for it, parsed; with the MDC it was logged under. */
    private static Line accessLine(String needle) throws InterruptedException {
        String raw = RecordingLogProvider.awaitLine(l -> l.contains(" dev.gatehouse.access ") && l.contains(needle));
        int dash = raw.indexOf(" - {");
        try {
            return new Line(JSON.readTree(raw.substring(dash + 3)), raw.substring(0, dash));
        } catch (Exception e) {
            throw new AssertionError("not one JSON object: " + raw, e);
        }
    }

    private record Line(JsonNode json, String prefix) {
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aSessionEndsWithOneJsonLineOfItsTrafficCloseAndTrace(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().header("X-API-Key", KEY).header("User-Agent", "app/2.1")
                .header("traceparent", CLIENT_TRACE)
                .buildAsync(URI.create(gw.uri("/chat/blue") + "?lang=en"), events).get(5, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        events.assertText("hello");
        ws.sendClose(4001, "gone fishing").get(5, TimeUnit.SECONDS);
        events.assertClose(4001, "gone fishing");
        TestBackend.Upgrade upgrade = servers.backend().nextUpgrade();
        String id = upgrade.header("X-Gatehouse-Connection-Id");
        String traceparent = upgrade.header("traceparent");

        Line line = accessLine("\"connectionId\":\"" + id + "\"");
        JsonNode j = line.json();
        assertEquals(id, j.get("requestId").asText());
        assertEquals("DISCONNECT", j.get("eventType").asText());
        assertEquals("$disconnect", j.get("routeKey").asText());
        assertEquals(101, j.get("status").asInt());
        assertTrue(j.get("connectedAt").asLong() > 1_700_000_000_000L, j.toString());
        assertEquals("127.0.0.1", j.get("identity").get("sourceIp").asText());
        assertEquals("app/2.1", j.get("identity").get("userAgent").asText());
        assertEquals("mobile", j.get("authorizer").get("principalId").asText());
        assertEquals("/chat/{room}", j.get("route").asText());
        assertTrue(j.get("durationMs").asLong() >= 0);
        assertEquals(1, j.get("messagesIn").asLong());
        assertEquals(1, j.get("messagesOut").asLong());
        assertEquals(5, j.get("bytesIn").asLong());
        assertEquals(5, j.get("bytesOut").asLong());
        assertEquals(4001, j.get("closeCode").asInt());
        assertEquals("gone fishing", j.get("closeReason").asText());
        assertEquals("client closed", j.get("cause").asText());
        assertEquals("client", j.get("initiator").asText());
        assertEquals(servers.backend().uri("/echo").toString(), j.get("backendTarget").asText(), "no query in the target");
        assertEquals("node-7", j.get("node").asText());
        // The backend got the gateway's own span of the client's trace, and the log says which.
        assertTrue(TRACEPARENT.matcher(traceparent).matches(), traceparent);
        assertEquals(CLIENT_TRACE.substring(3, 35), traceparent.substring(3, 35));
        assertNotEquals(CLIENT_TRACE.substring(36, 52), traceparent.substring(36, 52));
        assertEquals(traceparent, j.get("traceparent").asText());
        assertEquals(CLIENT_TRACE.substring(3, 35), j.get("traceId").asText());
        assertTrue(line.prefix().contains("gatehouse.connectionId=" + id), line.prefix());
        assertTrue(line.prefix().contains("gatehouse.route=/chat/{room}"), line.prefix());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aRejectedHandshakeGetsOneLineWithItsKindAndStatusAndNoQuery(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        String requestId;
        try {
            HTTP.newWebSocketBuilder().header("traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01")
                    .buildAsync(URI.create(gw.uri("/chat/red") + "?api_key=wrong-key-123"), new RecordingListener())
                    .get(5, TimeUnit.SECONDS);
            throw new AssertionError("upgraded");
        } catch (ExecutionException e) {
            WebSocketHandshakeException refused = (WebSocketHandshakeException) e.getCause();
            assertEquals(401, refused.getResponse().statusCode());
            requestId = JSON.readTree((String) refused.getResponse().body()).get("requestId").asText();
        }

        Line line = accessLine("\"requestId\":\"" + requestId + "\"");
        JsonNode j = line.json();
        assertEquals("CONNECT", j.get("eventType").asText());
        assertEquals(401, j.get("status").asInt());
        assertEquals("unauthorized", j.get("kind").asText());
        assertEquals("/chat/{room}", j.get("route").asText());
        assertEquals("/chat/red", j.get("path").asText());
        assertEquals("127.0.0.1", j.get("identity").get("sourceIp").asText());
        assertTrue(j.get("authorizer").get("principalId").isNull());
        assertEquals("node-7", j.get("node").asText());
        // An invalid traceparent (an all-zero trace id) is replaced by a new trace.
        assertTrue(TRACEPARENT.matcher(j.get("traceparent").asText()).matches(), j.toString());
        assertFalse(j.get("traceId").asText().equals("00000000000000000000000000000000"), j.toString());
        assertFalse(line.json().toString().contains("wrong-key-123"), "the query credential was logged");
        assertTrue(line.prefix().contains("gatehouse.connectionId=" + requestId), line.prefix());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void eachRoutedMessageGetsALineWhenAsked(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/api"), events).get(5, TimeUnit.SECONDS);
        ws.sendText("{\"action\":\"hello\"}", true).get(5, TimeUnit.SECONDS);
        events.assertText("pong");

        Line line = accessLine("\"eventType\":\"MESSAGE\"");
        JsonNode j = line.json();
        String id = j.get("connectionId").asText();
        assertEquals("$default", j.get("routeKey").asText());
        assertEquals(200, j.get("status").asInt());
        assertEquals(200, j.get("integrationStatus").asInt());
        assertTrue(j.get("integrationLatency").asLong() >= 0);
        assertEquals("/api", j.get("route").asText());
        assertTrue(TRACEPARENT.matcher(j.get("traceparent").asText()).matches(), j.toString());
        assertTrue(line.prefix().contains("gatehouse.connectionId=" + id) && line.prefix().contains("gatehouse.route=/api"),
                line.prefix());
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
        JsonNode session = accessLine("\"eventType\":\"DISCONNECT\"").json();
        assertEquals(id, session.get("connectionId").asText());
        assertTrue(session.get("backendTarget").isNull());
        assertEquals(j.get("traceparent").asText(), session.get("traceparent").asText());
    }
}
