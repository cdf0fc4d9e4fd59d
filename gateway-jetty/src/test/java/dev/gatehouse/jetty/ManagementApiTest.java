package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;

/**
 * The HTTP management API, over real HTTP on its own connector, against a gateway with live WebSocket
 * connections on both mounts: every row of PRODUCT.md's management table, its errors, and group sends racing
 * joins, leaves and closes.
 *
 * <p>The gateway has four routes: {@code /echo} (a proxy route to the echo backend, anonymous), {@code /keyed}
 * (the same, with API keys whose consumers {@code alice}, {@code bob} and {@code auth0|ödd user} become the
 * connections' users),
 * {@code /proto} (the echo backend that picks the first offered subprotocol) and {@code /api} (a WebSocket API
 * route whose in-process {@code $connect} takes the user and group from the query, {@code ?user=&group=}, and
 * whose {@code $disconnect} is recorded).
 *
 * <p>That a connection did not get a message is shown by order, never by waiting: a marker sent to it
 * afterwards through the same outbound queue must be the next thing it receives.
 */
class ManagementApiTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "mgmt-key-0123456789";
    private static final int MAX_BODY = 128 * 1024;

    @RegisterExtension
    final Servers servers = new Servers();
    private final BlockingQueue<RouteEvent> disconnects = new LinkedBlockingQueue<>();

    /** A client connected through the gateway, and its connection's id. */
    private record Client(WebSocket ws, RecordingListener events, String id) {
    }

    private GatewayServer start(Mount mount) throws Exception {
        return start(mount, Settings.defaults());
    }

    private GatewayServer start(Mount mount, Settings settings) throws Exception {
        TestBackend backend = servers.backend();
        WebSocketApi api = WebSocketApi.builder()
                .integration("$connect", Integration.of(e -> {
                    Reply.Accept accept = Reply.accept();
                    if (e.handshake().queryParameter("user").isPresent()) {
                        accept = accept.withUser(e.handshake().queryParameter("user").get());
                    }
                    if (e.handshake().queryParameter("group").isPresent()) {
                        accept = accept.withGroups(e.handshake().queryParameter("group").get());
                    }
                    return CompletableFuture.completedFuture(accept);
                }))
                .integration("$default", Integration.of(e -> CompletableFuture.completedFuture(Reply.text("routed"))))
                .integration("$disconnect", Integration.of(e -> {
                    disconnects.add(e);
                    return CompletableFuture.completedFuture(Reply.none());
                }))
                .build();
        Gateway gateway = Gateway.builder()
                .settings(settings)
                .route(Route.of("/echo", Backend.of(backend.uri("/echo"))))
                .route(Route.builder("/keyed")
                        .authenticator(ApiKeyAuthenticator.builder().key("k-alice", "alice").key("k-bob", "bob")
                                .key("k-odd", "auth0|ödd user").build())
                        .backend(Backend.of(backend.uri("/echo")))
                        .build())
                .route(Route.of("/proto", Backend.of(backend.uri("/proto"))))
                .route(Route.builder("/api").webSocketApi(api).build())
                .build();
        return servers.startWithManagement(gateway, mount, ApiKeyAuthenticator.of(KEY, "ops"));
    }

    // ---- clients ----

    /** Connects a client (alone: no other client connects meanwhile) and finds its connection's id. */
    private static Client connect(GatewayServer gw, String path, String... headers) throws Exception {
        Set<String> before = gw.gateway.connections().list().stream().map(ConnectionInfo::id).collect(Collectors.toSet());
        RecordingListener events = new RecordingListener();
        WebSocket.Builder builder = HTTP.newWebSocketBuilder();
        for (int i = 0; i < headers.length; i += 2) {
            builder.header(headers[i], headers[i + 1]);
        }
        WebSocket ws = builder.buildAsync(gw.uri(path), events).get(5, TimeUnit.SECONDS);
        return new Client(ws, events, newId(gw, before));
    }

    /** The id of the one listed connection not in {@code before}, waiting up to 5 s for it to be listed. */
    private static String newId(GatewayServer gw, Set<String> before) throws InterruptedException {
        String[] found = new String[1];
        Await.until("the new connection is listed", () -> {
            for (ConnectionInfo c : gw.gateway.connections().list()) {
                if (!before.contains(c.id())) {
                    found[0] = c.id();
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Sends a marker to the client through the API: it must be the next message the client receives. */
    private static void assertNextIsMarker(GatewayServer gw, Client client, String marker) throws Exception {
        assertEquals(200, post(gw, "/@connections/" + client.id(), "text/plain", marker).statusCode());
        client.events().assertText(marker);
    }

    // ---- HTTP ----

    private static HttpResponse<String> call(GatewayServer gw, String method, String path, String contentType,
            byte[] body, String... headers) throws Exception {
        return call(gw.managementUri(path), method, contentType, body, true, headers);
    }

    private static HttpResponse<String> call(URI uri, String method, String contentType, byte[] body, boolean withKey,
            String... headers) throws Exception {
        HttpRequest.Builder rq = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (withKey) {
            rq.header("X-API-Key", KEY);
        }
        if (contentType != null) {
            rq.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            rq.header(headers[i], headers[i + 1]);
        }
        HttpResponse<String> r;
        try {
            r = HTTP.send(rq.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException(method + " " + uri + " got no answer", e);
        }
        assertTrue(r.statusCode() < 500, () -> method + " " + uri + " answered " + r.statusCode() + ": " + r.body());
        return r;
    }

    private static HttpResponse<String> get(GatewayServer gw, String path) throws Exception {
        return call(gw, "GET", path, null, null);
    }

    private static HttpResponse<String> delete(GatewayServer gw, String path) throws Exception {
        return call(gw, "DELETE", path, null, null);
    }

    private static HttpResponse<String> put(GatewayServer gw, String path) throws Exception {
        return call(gw, "PUT", path, null, null);
    }

    private static HttpResponse<String> post(GatewayServer gw, String path) throws Exception {
        return call(gw, "POST", path, null, null);
    }

    private static HttpResponse<String> post(GatewayServer gw, String path, String contentType, String body)
            throws Exception {
        return call(gw, "POST", path, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                () -> r.request().method() + " " + r.uri() + ": Content-Type " + r.headers().firstValue("Content-Type")
                        + ", " + r.body());
        return JSON.readTree(r.body());
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new HashSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            names.add(it.next());
        }
        return names;
    }

    /** The answer has the status and the JSON error body {@code {"error","message","requestId"}}. */
    private static JsonNode assertError(int status, HttpResponse<String> r) throws Exception {
        assertEquals(status, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
        JsonNode body = json(r);
        assertEquals(Set.of("error", "message", "requestId"), fieldNames(body), r.body());
        for (String field : List.of("error", "message", "requestId")) {
            assertTrue(body.get(field).isTextual() && !body.get(field).asText().isEmpty(), r.body());
        }
        return body;
    }

    /** Like {@link #assertError(int, HttpResponse)}, saying why on failure. */
    private static void assertError(int status, HttpResponse<String> r, String why) throws Exception {
        assertEquals(status, r.statusCode(), why + ": " + r.body());
        assertError(status, r);
    }

    private static int recipients(HttpResponse<String> r) {
        assertEquals(202, r.statusCode(), r.body());
        return Integer.parseInt(r.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());
    }

    private static Set<String> connectionsOf(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals(Set.of("connections"), fieldNames(body), r.body());
        Set<String> ids = new HashSet<>();
        body.get("connections").forEach(id -> ids.add(id.asText()));
        assertEquals(body.get("connections").size(), ids.size(), "no id twice: " + r.body());
        return ids;
    }

    private RouteEvent nextDisconnect() throws InterruptedException {
        RouteEvent e = disconnects.poll(5, TimeUnit.SECONDS);
        assertNotNull(e, "no $disconnect within 5 s");
        return e;
    }

    // ---- POST /@connections/{id} ----

    @ParameterizedTest
    @EnumSource(Mount.class)
    void postsToAConnectionThenReadsItsInfoThenClosesIt(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");

        assertEquals(200, post(gw, "/@connections/" + c.id(), "text/plain", "hello").statusCode());
        c.events().assertText("hello");

        JsonNode info = json(get(gw, "/@connections/" + c.id()));
        assertEquals(c.id(), info.get("connectionId").asText());
        assertEquals(1, info.get("messagesOut").asLong());

        assertEquals(204, delete(gw, "/@connections/" + c.id() + "?code=4000&reason=bye").statusCode());
        c.events().assertClose(4000, "bye");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void sendsTextForTextAndJsonContentTypesAndBinaryOtherwise(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        String path = "/@connections/" + c.id();

        assertEquals(200, post(gw, path, "text/plain; charset=utf-8", "plain ünïcode").statusCode());
        c.events().assertText("plain ünïcode");
        assertEquals(200, post(gw, path, "text/csv", "a,b").statusCode());
        c.events().assertText("a,b");
        assertEquals(200, post(gw, path, "application/json", "{\"n\":1}").statusCode());
        c.events().assertText("{\"n\":1}");
        assertEquals(200, post(gw, path, "Application/JSON;charset=UTF-8", "{\"n\":2}").statusCode());
        c.events().assertText("{\"n\":2}");

        byte[] bytes = {0, 1, 2, (byte) 0xFF};
        assertEquals(200, call(gw, "POST", path, "application/octet-stream", bytes).statusCode());
        c.events().assertBinary(bytes);
        assertEquals(200, call(gw, "POST", path, null, bytes).statusCode());
        c.events().assertBinary(bytes);
        assertEquals(200, post(gw, path, "application/xml", "<a/>").statusCode());
        c.events().assertBinary("<a/>".getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void sendsToTheClientOfAWebSocketApiRouteAndOfAProxyRouteNeverToItsBackend(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client api = connect(gw, "/api");
        Client proxied = connect(gw, "/echo");

        assertEquals(200, post(gw, "/@connections/" + api.id(), "text/plain", "to the api client").statusCode());
        api.events().assertText("to the api client");
        assertEquals(200, post(gw, "/@connections/" + proxied.id(), "text/plain", "to the client").statusCode());
        proxied.events().assertText("to the client");

        proxied.ws().sendText("relayed", true).get(5, TimeUnit.SECONDS);
        proxied.events().assertText("relayed");
        assertEquals("relayed", servers.backend().texts.poll(5, TimeUnit.SECONDS),
                "the backend's first text is the client's: the sent message never went to it");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void sendsABodyOfExactly128KiBButRefusesOneByteMoreWith413(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        byte[] max = new byte[MAX_BODY];
        Arrays.fill(max, (byte) 7);
        max[0] = 1;

        assertEquals(200, call(gw, "POST", "/@connections/" + c.id(), "application/octet-stream", max).statusCode());
        c.events().assertBinary(max);

        byte[] over = Arrays.copyOf(max, MAX_BODY + 1);
        assertError(413, call(gw, "POST", "/@connections/" + c.id(), "application/octet-stream", over));
        assertError(413, call(gw, "POST", "/groups/room/:send", "text/plain", over));
        assertError(413, call(gw, "POST", "/:send", "text/plain", over));
        assertNextIsMarker(gw, c, "nothing of the refused bodies came before this");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesATextBodyThatIsNotUtf8With400(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        byte[] notUtf8 = {'h', 'i', (byte) 0xC3, (byte) 0x28};

        assertError(400, call(gw, "POST", "/@connections/" + c.id(), "text/plain", notUtf8));
        assertError(400, call(gw, "POST", "/@connections/" + c.id(), "application/json", notUtf8));
        assertError(400, call(gw, "POST", "/:send", "text/plain", notUtf8));
        assertEquals(200, call(gw, "POST", "/@connections/" + c.id(), "application/octet-stream", notUtf8).statusCode());
        c.events().assertBinary(notUtf8);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers410ForAnUnknownIdAndForAConnectionThatClosed(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        String unknown = "AAAAAAAAAAAAAAAAAAAAAA";
        assertError(410, post(gw, "/@connections/" + unknown, "text/plain", "x"));
        assertError(410, get(gw, "/@connections/" + unknown));
        assertError(410, delete(gw, "/@connections/" + unknown));
        assertError(410, put(gw, "/groups/room/connections/" + unknown));
        assertError(410, delete(gw, "/groups/room/connections/" + unknown));

        Client c = connect(gw, "/echo");
        c.ws().sendClose(1000, "done").get(5, TimeUnit.SECONDS);
        c.events().assertClose(1000, "done");
        Await.until("the connection left the registry", () -> gw.gateway.connections().count() == 0);

        assertError(410, post(gw, "/@connections/" + c.id(), "text/plain", "too late"));
        assertError(410, get(gw, "/@connections/" + c.id()));
        assertError(410, delete(gw, "/@connections/" + c.id()));
        assertError(410, put(gw, "/groups/room/connections/" + c.id()));
        assertError(410, delete(gw, "/groups/room/connections/" + c.id()));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers429WhileTheClientStopsReadingThenDeliversTheQueueAndRelaysOnceItReads(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Settings.builder().maxOutboundQueue(64 * 1024).build());
        try (RawWebSocket raw = RawWebSocket.open(gw.uri("/echo"), 4096)) {
            String id = newId(gw, Set.of());
            byte[] message = new byte[16 * 1024];
            int accepted = 0;
            HttpResponse<String> answer;
            while (true) {
                // Bounded: the socket buffers and the 64 KiB queue fill long before 64 MiB.
                assertTrue(accepted < 4096, "no 429 after " + accepted + " messages of 16 KiB");
                ByteBuffer.wrap(message).putInt(0, accepted);
                answer = call(gw, "POST", "/@connections/" + id, "application/octet-stream", message);
                if (answer.statusCode() != 200) {
                    break;
                }
                accepted++;
            }
            assertError(429, answer);
            assertEquals(200, get(gw, "/@connections/" + id).statusCode(), "a full queue harms no connection");

            for (int i = 0; i < accepted; i++) {
                RawWebSocket.Frame m = raw.readMessage();
                assertEquals(OpCode.BINARY, m.opCode());
                assertEquals(message.length, m.payload().length);
                assertEquals(i, ByteBuffer.wrap(m.payload()).getInt(0), "the queued messages, in order, once each");
            }
            assertEquals(200, post(gw, "/@connections/" + id, "text/plain", "room again").statusCode());
            RawWebSocket.Frame again = raw.readMessage();
            assertEquals(OpCode.TEXT, again.opCode());
            assertEquals("room again", new String(again.payload(), StandardCharsets.UTF_8));

            raw.sendText("still relaying");
            RawWebSocket.Frame echoed = raw.readMessage();
            assertEquals(OpCode.TEXT, echoed.opCode());
            assertEquals("still relaying", new String(echoed.payload(), StandardCharsets.UTF_8));
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aSendWaitsUntilTheFragmentedMessageBeingRelayedEnds(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (FrameClient client = new FrameClient(gw.uri("/echo"))) {
            String id = newId(gw, Set.of());
            Session backendSession = servers.backend().nextSession();

            Callback.Completable first = new Callback.Completable();
            backendSession.sendPartialText("first half, ", false, first);
            first.get(5, TimeUnit.SECONDS);
            FrameClient.Received start = client.next();
            assertEquals(OpCode.TEXT, start.opCode());
            assertFalse(start.fin());
            assertEquals("first half, ", new String(start.payload(), StandardCharsets.UTF_8));

            assertEquals(200, post(gw, "/@connections/" + id, "text/plain", "pushed").statusCode());
            assertEquals(202, post(gw, "/:send", "application/octet-stream", "broadcast").statusCode());

            Callback.Completable rest = new Callback.Completable();
            backendSession.sendPartialText("second half", true, rest);
            rest.get(5, TimeUnit.SECONDS);

            FrameClient.Received end = client.next();
            assertEquals(OpCode.CONTINUATION, end.opCode(), "the relayed message ends before any sent one starts");
            assertTrue(end.fin());
            assertEquals("second half", new String(end.payload(), StandardCharsets.UTF_8));
            FrameClient.Received pushed = client.next();
            assertEquals(OpCode.TEXT, pushed.opCode());
            assertTrue(pushed.fin());
            assertEquals("pushed", new String(pushed.payload(), StandardCharsets.UTF_8));
            FrameClient.Received broadcast = client.next();
            assertEquals(OpCode.BINARY, broadcast.opCode());
            assertEquals("broadcast", new String(broadcast.payload(), StandardCharsets.UTF_8));
        }
    }

    // ---- GET /@connections/{id} ----

    @ParameterizedTest
    @EnumSource(Mount.class)
    void readsAConnectionsInfoWithExactlyTheContractsFields(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        WebSocket ws = HTTP.newWebSocketBuilder().subprotocols("chat.v1")
                .buildAsync(gw.uri("/proto"), new RecordingListener()).get(5, TimeUnit.SECONDS);
        String id = newId(gw, Set.of());

        HttpResponse<String> r = get(gw, "/@connections/" + id);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode info = json(r);
        assertEquals(Set.of("connectionId", "connectedAt", "lastActiveAt", "identity", "route", "userId", "groups",
                "subprotocol", "messagesIn", "messagesOut", "bytesIn", "bytesOut"), fieldNames(info), r.body());
        assertEquals(Set.of("sourceIp", "userAgent"), fieldNames(info.get("identity")), r.body());
        assertEquals(id, info.get("connectionId").asText());
        Instant connectedAt = Instant.parse(info.get("connectedAt").asText());
        Instant lastActiveAt = Instant.parse(info.get("lastActiveAt").asText());
        assertFalse(lastActiveAt.isBefore(connectedAt), r.body());
        assertEquals("127.0.0.1", info.get("identity").get("sourceIp").asText());
        assertTrue(info.get("identity").get("userAgent").asText().startsWith("Java-http-client"), r.body());
        assertEquals("/proto", info.get("route").asText());
        assertTrue(info.get("userId").isNull(), "an anonymous connection has no user: " + r.body());
        assertTrue(info.get("groups").isArray() && info.get("groups").isEmpty(), r.body());
        assertEquals("chat.v1", info.get("subprotocol").asText());
        ws.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void infoCountsTrafficAndShowsTheUserAndGroups(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/keyed", "X-API-Key", "k-alice");
        c.ws().sendText("four", true).get(5, TimeUnit.SECONDS);
        c.events().assertText("four");
        assertEquals(200, post(gw, "/@connections/" + c.id(), "application/octet-stream", "sixsix").statusCode());
        c.events().assertBinary("sixsix".getBytes(StandardCharsets.UTF_8));
        assertEquals(204, put(gw, "/groups/room/connections/" + c.id()).statusCode());

        HttpResponse<String> r = get(gw, "/@connections/" + c.id());
        JsonNode info = json(r);
        assertEquals(1, info.get("messagesIn").asLong(), r.body());
        assertEquals(4, info.get("bytesIn").asLong(), r.body());
        assertEquals(2, info.get("messagesOut").asLong(), r.body());
        assertEquals(10, info.get("bytesOut").asLong(), r.body());
        assertEquals("alice", info.get("userId").asText(), "the principal's subject: " + r.body());
        assertEquals("room", info.get("groups").get(0).asText(), r.body());
        assertEquals(1, info.get("groups").size(), r.body());
        assertTrue(info.get("subprotocol").isNull(), r.body());
        assertEquals("/keyed", info.get("route").asText());

        Client api = connect(gw, "/api?user=carol&group=lobby");
        JsonNode apiInfo = json(get(gw, "/@connections/" + api.id()));
        assertEquals("carol", apiInfo.get("userId").asText(), "$connect named the user");
        assertEquals("lobby", apiInfo.get("groups").get(0).asText());
        assertEquals("/api", apiInfo.get("route").asText());
    }

    // ---- DELETE /@connections/{id} ----

    @ParameterizedTest
    @EnumSource(Mount.class)
    void deleteClosesTheClientWith1000ByDefaultAndTheBackendWith1001(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");

        HttpResponse<String> r = delete(gw, "/@connections/" + c.id());
        assertEquals(204, r.statusCode(), r.body());
        assertEquals("", r.body());
        assertError(410, get(gw, "/@connections/" + c.id()), "closing is closed");
        assertError(410, post(gw, "/@connections/" + c.id(), "text/plain", "after the close"), "closing is closed");
        c.events().assertClose(1000, "");
        assertEquals(1001, servers.backend().nextClose().code());
        Await.until("the connection left the registry", () -> gw.gateway.connections().count() == 0);
        assertError(410, delete(gw, "/@connections/" + c.id()));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void deleteClosesTheClientWithTheCodeAndReasonGiven(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client first = connect(gw, "/echo");
        Client second = connect(gw, "/echo");

        assertEquals(204, delete(gw, "/@connections/" + first.id() + "?code=4000&reason=shift%20over").statusCode());
        first.events().assertClose(4000, "shift over");
        assertEquals(1001, servers.backend().nextClose().code());

        String longest = "r".repeat(121) + "é"; // 123 UTF-8 bytes, the most a CLOSE frame carries
        assertEquals(204, delete(gw, "/@connections/" + second.id() + "?code=1001&reason=" + "r".repeat(121) + "%C3%A9")
                .statusCode());
        second.events().assertClose(1001, longest);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void deleteRunsTheDisconnectOfAWebSocketApiRouteWithTheCode(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/api");

        assertEquals(204, delete(gw, "/@connections/" + c.id() + "?code=4002&reason=kicked").statusCode());
        c.events().assertClose(4002, "kicked");
        RouteEvent disconnect = nextDisconnect();
        assertEquals(RouteEvent.Type.DISCONNECT, disconnect.type());
        assertEquals(c.id(), disconnect.connectionId());
        assertEquals(CloseStatus.of(4002, "kicked"), disconnect.disconnectStatus().orElseThrow());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesReservedOrOutOfRangeCloseCodesAndTooLongReasonsWith400(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        String[] queries = {"code=1005", "code=1006", "code=1015", "code=1004", "code=999", "code=5000", "code=2000",
            "code=abc", "code=", "code=1000&code=1001", "code=1000&reason=" + "r".repeat(124),
            "reason=" + "r".repeat(122) + "%C3%A9", "colour=red"};
        for (String query : queries) {
            assertError(400, delete(gw, "/@connections/" + c.id() + "?" + query));
            assertError(400, post(gw, "/users/alice/:closeConnections?" + query));
            assertError(400, post(gw, "/groups/room/:closeConnections?" + query));
        }
        assertNextIsMarker(gw, c, "still open after every refused close");
    }

    // ---- POST /users/{userId}/:send, /groups/{group}/:send, /:send ----

    @ParameterizedTest
    @EnumSource(Mount.class)
    void sendsToEveryConnectionOfAUserAcrossRoutesAndToNoOtherUser(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client aliceKeyed = connect(gw, "/keyed", "X-API-Key", "k-alice");
        Client aliceApi = connect(gw, "/api?user=alice");
        Client bob = connect(gw, "/keyed", "X-API-Key", "k-bob");
        Client anonymous = connect(gw, "/echo");

        assertEquals(2, recipients(post(gw, "/users/alice/:send", "text/plain", "for alice")));
        aliceKeyed.events().assertText("for alice");
        aliceApi.events().assertText("for alice");
        assertNextIsMarker(gw, bob, "bob got nothing before this");
        assertNextIsMarker(gw, anonymous, "neither did the anonymous client");

        assertEquals(1, recipients(post(gw, "/users/alice/:send?excluded=" + aliceApi.id(), "text/plain", "one of two")));
        aliceKeyed.events().assertText("one of two");
        assertNextIsMarker(gw, aliceApi, "the excluded connection got nothing before this");

        assertEquals(0, recipients(post(gw, "/users/nobody/:send", "text/plain", "to no one")));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void sendsToTheMembersOfAGroupOnlyAndSkipsTheExcluded(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client viaConnect = connect(gw, "/api?group=room");
        Client viaPut = connect(gw, "/echo");
        Client other = connect(gw, "/echo");
        Client excluded = connect(gw, "/keyed", "X-API-Key", "k-bob");
        for (Client c : List.of(viaPut, excluded)) {
            assertEquals(204, put(gw, "/groups/room/connections/" + c.id()).statusCode());
        }
        assertEquals(204, put(gw, "/groups/elsewhere/connections/" + other.id()).statusCode());

        assertEquals(3, recipients(post(gw, "/groups/room/:send", "application/json", "{\"to\":\"room\"}")));
        for (Client c : List.of(viaConnect, viaPut, excluded)) {
            c.events().assertText("{\"to\":\"room\"}");
        }
        assertNextIsMarker(gw, other, "a non-member got nothing before this");

        HttpResponse<String> r = post(gw, "/groups/room/:send?excluded=" + excluded.id() + "," + viaConnect.id(),
                "application/octet-stream", "bytes");
        assertEquals(1, recipients(r));
        viaPut.events().assertBinary("bytes".getBytes(StandardCharsets.UTF_8));
        assertNextIsMarker(gw, excluded, "excluded: nothing before this");
        assertNextIsMarker(gw, viaConnect, "excluded too");

        assertEquals(1, recipients(post(gw, "/groups/room/:send?excluded=" + excluded.id() + "&excluded=" + viaConnect.id(),
                "text/plain", "repeated parameter")));
        viaPut.events().assertText("repeated parameter");
        assertEquals(0, recipients(post(gw, "/groups/empty/:send", "text/plain", "to no one")));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void sendsToEveryConnectionExceptTheExcluded(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        List<Client> clients = List.of(connect(gw, "/echo"), connect(gw, "/api"), connect(gw, "/keyed", "X-API-Key", "k-bob"));

        assertEquals(3, recipients(post(gw, "/:send", "text/plain", "to all")));
        for (Client c : clients) {
            c.events().assertText("to all");
        }
        assertEquals(2, recipients(post(gw, "/:send?excluded=" + clients.get(1).id(), "text/plain", "to most")));
        clients.get(0).events().assertText("to most");
        clients.get(2).events().assertText("to most");
        assertNextIsMarker(gw, clients.get(1), "the excluded client got nothing before this");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesABadExcludedListWith400(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        for (String excluded : List.of("", ",", c.id() + ",", "," + c.id(), c.id() + ",,x", "%C3%A9",
                "x".repeat(129), "a%20b")) {
            for (String path : List.of("/:send", "/users/alice/:send", "/groups/room/:send")) {
                assertError(400, post(gw, path + "?excluded=" + excluded, "text/plain", "never sent"));
            }
        }
        assertError(400, post(gw, "/:send?exclude=" + c.id(), "text/plain", "never sent"));
        assertNextIsMarker(gw, c, "no refused send reached the client");
    }

    // ---- groups and users ----

    @ParameterizedTest
    @EnumSource(Mount.class)
    void joinsAndLeavesGroupsAndListsTheirMembersAnd404WhenNone(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client a = connect(gw, "/echo");
        Client b = connect(gw, "/api?group=room");
        assertError(404, get(gw, "/groups/nobody-here"));

        HttpResponse<String> joined = put(gw, "/groups/room/connections/" + a.id());
        assertEquals(204, joined.statusCode(), joined.body());
        assertEquals("", joined.body());
        assertEquals(204, put(gw, "/groups/room/connections/" + a.id()).statusCode(), "joining twice changes nothing");
        assertEquals(Set.of(a.id(), b.id()), connectionsOf(get(gw, "/groups/room")));
        assertEquals(204, put(gw, "/groups/a%20group%20%C3%A9/connections/" + a.id()).statusCode());
        assertEquals(Set.of(a.id()), connectionsOf(get(gw, "/groups/a%20group%20%C3%A9")));

        assertEquals(204, delete(gw, "/groups/room/connections/" + b.id()).statusCode());
        assertEquals(204, delete(gw, "/groups/room/connections/" + b.id()).statusCode(), "leaving twice changes nothing");
        assertEquals(Set.of(a.id()), connectionsOf(get(gw, "/groups/room")));
        assertEquals(1, recipients(post(gw, "/groups/room/:send", "text/plain", "members only")));
        a.events().assertText("members only");
        assertNextIsMarker(gw, b, "b left before the send");

        a.ws().sendClose(1000, "").get(5, TimeUnit.SECONDS);
        a.events().assertClose(1000, "");
        Await.until("the connection left the registry", () -> gw.gateway.connections().count() == 1);
        assertError(404, get(gw, "/groups/room"), "membership ended with the connection");
        assertError(410, put(gw, "/groups/room/connections/" + a.id()));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void listsTheConnectionsOfAUserAcrossRoutesAnd404WhenNone(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client keyed = connect(gw, "/keyed", "X-API-Key", "k-alice");
        Client api = connect(gw, "/api?user=alice");
        connect(gw, "/keyed", "X-API-Key", "k-bob");

        assertEquals(Set.of(keyed.id(), api.id()), connectionsOf(get(gw, "/users/alice")));
        assertError(404, get(gw, "/users/carol"));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void addressesAUserWhoseIdIsPercentEncodedInThePath(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client odd = connect(gw, "/keyed", "X-API-Key", "k-odd");
        String path = "/users/auth0%7C%C3%B6dd%20user";

        assertEquals(Set.of(odd.id()), connectionsOf(get(gw, path)));
        assertEquals(1, recipients(post(gw, path + "/:send", "text/plain", "for the odd user")));
        odd.events().assertText("for the odd user");
        assertEquals(204, post(gw, path + "/:closeConnections?code=4005").statusCode());
        odd.events().assertClose(4005, "");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesTheConnectionsOfAUserWithTheCodeAndReasonGiven(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client keyed = connect(gw, "/keyed", "X-API-Key", "k-alice");
        Client api = connect(gw, "/api?user=alice");
        Client bob = connect(gw, "/keyed", "X-API-Key", "k-bob");

        HttpResponse<String> r = post(gw, "/users/alice/:closeConnections?code=4001&reason=logged%20out");
        assertEquals(204, r.statusCode(), r.body());
        keyed.events().assertClose(4001, "logged out");
        api.events().assertClose(4001, "logged out");
        assertEquals(CloseStatus.of(4001, "logged out"), nextDisconnect().disconnectStatus().orElseThrow());
        assertNextIsMarker(gw, bob, "bob stays connected");
        assertEquals(204, post(gw, "/users/alice/:closeConnections").statusCode(), "none left: still 204");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesTheConnectionsOfAGroupWith1000ByDefault(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client member = connect(gw, "/echo");
        Client apiMember = connect(gw, "/api?group=room");
        Client outsider = connect(gw, "/echo");
        assertEquals(204, put(gw, "/groups/room/connections/" + member.id()).statusCode());

        assertEquals(204, post(gw, "/groups/room/:closeConnections").statusCode());
        member.events().assertClose(1000, "");
        apiMember.events().assertClose(1000, "");
        assertEquals(1001, servers.backend().nextClose().code());
        assertNextIsMarker(gw, outsider, "a non-member stays connected");

        Client again = connect(gw, "/api?group=room");
        assertEquals(204, post(gw, "/groups/room/:closeConnections?code=4003&reason=room%20closed").statusCode());
        again.events().assertClose(4003, "room closed");
    }

    // ---- access, paths, methods ----

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers401WithoutAnApiKeyOrWithAWrongOne(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        URI send = gw.managementUri("/@connections/" + c.id());
        byte[] body = "never".getBytes(StandardCharsets.UTF_8);

        assertError(401, call(send, "POST", "text/plain", body, false));
        assertError(401, call(send, "POST", "text/plain", body, false, "X-API-Key", "wrong-key"));
        assertError(401, call(send, "GET", null, null, false));
        assertError(401, call(send, "DELETE", null, null, false, "X-API-Key", ""));
        assertError(401, call(gw.managementUri("/nowhere"), "GET", null, null, false));
        assertError(401, call(gw.managementUri("/:send"), "POST", "text/plain", body, false, "X-API-Key", KEY + "x"));
        assertNextIsMarker(gw, c, "no unauthenticated request reached the client");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers404ForUnknownPaths(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        for (String path : List.of("/", "/nowhere", "/@connections", "/@connections/" + c.id() + "/more", "/users",
                "/users/alice/more", "/users/alice/connections/" + c.id(), "/groups/room/connections",
                "/groups/room/connections/" + c.id() + "/more", "/:sendall", "/send", "/users/alice/send",
                "/connections/" + c.id())) {
            assertError(404, get(gw, path));
            assertError(404, post(gw, path, "text/plain", "x"));
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers405WithAllowForAWrongMethod(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        String[][] cases = {
            {"PUT", "/@connections/" + c.id(), "GET, POST, DELETE"},
            {"PATCH", "/@connections/" + c.id(), "GET, POST, DELETE"},
            {"GET", "/:send", "POST"},
            {"PUT", "/users/alice/:send", "POST"},
            {"GET", "/groups/room/:send", "POST"},
            {"DELETE", "/users/alice", "GET"},
            {"POST", "/groups/room", "GET"},
            {"GET", "/users/alice/:closeConnections", "POST"},
            {"DELETE", "/groups/room/:closeConnections", "POST"},
            {"GET", "/groups/room/connections/" + c.id(), "PUT, DELETE"},
            {"POST", "/groups/room/connections/" + c.id(), "PUT, DELETE"},
        };
        for (String[] k : cases) {
            HttpResponse<String> r = call(gw, k[0], k[1], null, null);
            assertError(405, r);
            assertEquals(k[2], r.headers().firstValue("Allow").orElse(null), k[0] + " " + k[1]);
        }
        assertNextIsMarker(gw, c, "no refused request reached the client");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers410ForAnAwsStyleOrOtherPrintableIdThatNamesNoConnection(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        for (String id : List.of("L0SM9cOFvHcCIhw=", "a.b", "a~b", "a%2Bb", "a$b", "x".repeat(128))) {
            assertError(410, get(gw, "/@connections/" + id));
            assertError(410, post(gw, "/@connections/" + id, "text/plain", "x"));
            assertError(410, delete(gw, "/@connections/" + id));
            assertError(410, put(gw, "/groups/room/connections/" + id));
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers400ForAMalformedConnectionIdUserOrGroup(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        for (String bad : List.of("a%20b", "%C3%A9t%C3%A9", "x".repeat(129))) {
            assertError(400, get(gw, "/@connections/" + bad));
            assertError(400, post(gw, "/@connections/" + bad, "text/plain", "x"));
            assertError(400, delete(gw, "/@connections/" + bad));
            assertError(400, put(gw, "/groups/room/connections/" + bad));
            assertError(400, delete(gw, "/groups/room/connections/" + bad));
        }
        String tooLong = "g".repeat(257);
        assertError(400, get(gw, "/groups/" + tooLong));
        assertError(400, get(gw, "/users/" + tooLong));
        assertError(400, post(gw, "/groups/" + tooLong + "/:send", "text/plain", "x"));
        assertError(400, post(gw, "/users/" + tooLong + "/:closeConnections"));
        assertError(400, put(gw, "/groups/" + tooLong + "/connections/" + c.id()));
        // Jetty itself refuses a control character in the path ("Suspicious Path Character"), with the body of
        // the server's error handler.
        for (String bad : List.of("a%01b", "a%0Ab", "%7F")) {
            assertEquals(400, get(gw, "/users/" + bad).statusCode());
            assertEquals(400, put(gw, "/groups/" + bad + "/connections/" + c.id()).statusCode());
            assertEquals(400, get(gw, "/@connections/" + bad).statusCode());
        }
        assertNextIsMarker(gw, c, "no refused request reached the client");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void neverServesTheManagementApiOnThePublicConnector(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");

        // Empty bodies: the gateway answers a request it refuses before reading any body, then closes the
        // connection, so a body still on its way could reset the answer. An empty text would reach the client
        // all the same if the public connector served the API.
        for (String[] rq : List.of(new String[] {"GET", "/@connections/" + c.id()},
                new String[] {"POST", "/@connections/" + c.id()}, new String[] {"DELETE", "/@connections/" + c.id()},
                new String[] {"POST", "/:send"}, new String[] {"GET", "/users/alice"})) {
            HttpResponse<String> r = call(gw.httpUri(rq[1]), rq[0], "text/plain", null, true);
            assertEquals("route_not_found", assertError(404, r).get("error").asText(),
                    "the gateway's own answer to a request on no route: " + rq[0] + " " + rq[1]);
        }
        assertNextIsMarker(gw, c, "nothing sent through the public connector came before this");
    }

    @Test
    void buildingWithoutAnAuthenticatorFailsNamingIt() {
        Gateway gateway = Gateway.builder().route(Route.of("/echo", Backend.of(URI.create("ws://127.0.0.1:1/echo")))).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ManagementApi.builder(gateway).build());
        assertTrue(e.getMessage().startsWith("authenticator"), e.getMessage());
    }

    // ---- concurrency ----

    @ParameterizedTest
    @EnumSource(Mount.class)
    void groupSendsRacingJoinsLeavesAndClosesReachEveryStayingMemberOnceInOrder(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        int members = 50;
        int senders = 4;
        int sends = 500;
        List<Client> stayers = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            Client c = connect(gw, "/echo");
            assertEquals(204, put(gw, "/groups/room/connections/" + c.id()).statusCode());
            stayers.add(c);
        }
        List<Client> churners = new ArrayList<>();
        List<Client> closers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            churners.add(connect(gw, "/echo"));
            Client closer = connect(gw, "/echo");
            assertEquals(204, put(gw, "/groups/room/connections/" + closer.id()).statusCode());
            closers.add(closer);
        }

        ExecutorService pool = Executors.newFixedThreadPool(senders + 2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < senders; t++) {
                int first = t;
                work.add(pool.submit(() -> {
                    go.await();
                    for (int k = first; k < sends; k += senders) {
                        HttpResponse<String> r = post(gw, "/groups/room/:send", "text/plain", "m" + k);
                        assertTrue(recipients(r) >= members, r.headers().map().toString());
                    }
                    return null;
                }));
            }
            work.add(pool.submit(() -> {
                go.await();
                for (int round = 0; round < 10; round++) {
                    for (Client c : churners) {
                        assertEquals(204, put(gw, "/groups/room/connections/" + c.id()).statusCode());
                    }
                    for (Client c : churners) {
                        assertEquals(204, delete(gw, "/groups/room/connections/" + c.id()).statusCode());
                    }
                }
                return null;
            }));
            work.add(pool.submit(() -> {
                go.await();
                for (Client c : closers) {
                    assertEquals(204, delete(gw, "/@connections/" + c.id() + "?code=4004").statusCode());
                }
                return null;
            }));
            go.countDown();
            for (Future<?> f : work) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertEquals(members, recipients(post(gw, "/groups/room/:send", "text/plain", "end")),
                "the churners left, the closers closed");
        Set<String> expected = IntStream.range(0, sends).mapToObj(k -> "m" + k).collect(Collectors.toSet());
        for (Client c : stayers) {
            List<String> got = new ArrayList<>();
            for (String text = text(c.events().nextData()); !text.equals("end"); text = text(c.events().nextData())) {
                got.add(text);
            }
            assertEquals(sends, got.size(), "every message once");
            assertEquals(expected, new HashSet<>(got));
            for (int t = 0; t < senders; t++) {
                int sender = t;
                List<Integer> fromSender = got.stream().map(m -> Integer.parseInt(m.substring(1)))
                        .filter(k -> k % senders == sender).toList();
                assertEquals(fromSender.stream().sorted().toList(), fromSender, "one sender's messages arrive in order");
            }
        }
        for (Client c : closers) {
            RecordingListener.Event e;
            do {
                e = c.events().nextData();
            } while (e instanceof RecordingListener.Text);
            assertEquals(new RecordingListener.Close(4004, ""), e);
        }
    }

    private static String text(RecordingListener.Event e) {
        assertTrue(e instanceof RecordingListener.Text, () -> "expected a text, got " + e);
        return ((RecordingListener.Text) e).text();
    }

    // ---- health checks and edge cases of HTTP itself ----

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersHealthChecksWithoutACredentialAndReadyzWith503OnceDraining(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        HttpResponse<String> healthz = call(gw.managementUri("/healthz"), "GET", null, null, false);
        assertEquals(200, healthz.statusCode(), healthz.body());
        assertEquals("ok", json(healthz).get("status").asText());
        HttpResponse<String> readyz = call(gw.managementUri("/readyz"), "GET", null, null, false);
        assertEquals(200, readyz.statusCode(), readyz.body());

        gw.gateway.drain(Duration.ZERO);

        HttpResponse<String> draining = HTTP.send(HttpRequest.newBuilder(gw.managementUri("/readyz"))
                .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, draining.statusCode(), draining.body());
        assertEquals("draining", json(draining).get("status").asText());
        assertTrue(draining.headers().firstValue("Retry-After").isPresent(), "no Retry-After");
        assertEquals(200, call(gw.managementUri("/healthz"), "GET", null, null, false).statusCode());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersARequestTargetThatIsNoPathWithA404JsonBody(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        String answer = raw(gw, "OPTIONS * HTTP/1.1\r\nHost: x\r\nX-API-Key: " + KEY + "\r\nConnection: close\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 404"), answer);
        assertTrue(answer.contains("\"error\":\"not_found\""), answer);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers408ToABodyThatStopsComing(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        gw.managementIdleTimeout(500);
        Client c = connect(gw, "/echo");
        String answer = raw(gw, "POST /@connections/" + c.id() + " HTTP/1.1\r\nHost: x\r\nX-API-Key: " + KEY
                + "\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nab");
        assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
        assertTrue(answer.contains("\"error\":\"request_timeout\""), answer);
        assertNextIsMarker(gw, c, "part of a body reached the client");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void decodesATextBodyWithItsCharsetAndAnswers415ForAnUnknownOne(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        Client c = connect(gw, "/echo");
        HttpResponse<String> sent = call(gw, "POST", "/@connections/" + c.id(), "text/plain; charset=ISO-8859-1",
                "café".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(200, sent.statusCode(), sent.body());
        c.events().assertText("café");
        assertError(415, call(gw, "POST", "/@connections/" + c.id(), "text/plain; charset=x-no-such-charset",
                "x".getBytes(StandardCharsets.UTF_8)));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void treatsMethodsAsCaseSensitive(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        assertError(405, call(gw, "get", "/groups/room", null, null));
    }

    @Test
    void neverRunsOnASelectorThread() {
        Gateway gateway = Gateway.builder().route(Route.of("/echo", Backend.of("ws://127.0.0.1:9/echo"))).build();
        assertEquals(org.eclipse.jetty.util.thread.Invocable.InvocationType.BLOCKING,
                ManagementApi.handler(gateway, ApiKeyAuthenticator.of(KEY, "ops")).getInvocationType(),
                "the authenticator may block, and a fan-out visits every member");
    }

    /** Writes a raw HTTP request to the management connector and reads its answer until the connection closes. */
    private static String raw(GatewayServer gw, String request) throws Exception {
        URI uri = gw.managementUri("/");
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.InputStream in = socket.getInputStream();
            byte[] buf = new byte[4096];
            int n;
            try {
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    String s = out.toString(StandardCharsets.ISO_8859_1);
                    int head = s.indexOf("\r\n\r\n");
                    int length = s.toLowerCase(java.util.Locale.ROOT).indexOf("content-length: ");
                    if (head > 0 && length > 0 && length < head) {
                        int end = s.indexOf("\r\n", length);
                        int bodyLength = Integer.parseInt(s.substring(length + 16, end).trim());
                        if (out.size() >= head + 4 + bodyLength) {
                            break;
                        }
                    }
                }
            } catch (java.net.SocketTimeoutException e) {
                throw new AssertionError("no complete answer in 5 s: " + out.toString(StandardCharsets.ISO_8859_1), e);
            }
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
