package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;
import dev.gatehouse.policy.IdentityHeadersPolicy;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.WebSocketApi;

/**
 * WebSocket API routes with HTTP integrations through both mounts: a real integration server records each
 * call (headers and AWS event JSON) and answers as each test says; JDK WebSocket clients.
 */
class HttpIntegrationTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String TOKEN = "tok_Zq81Kd03mVx7";
    private static final String INTEGRATION_SECRET = "int_secret_P4wq";
    private static final Pattern IDS = Pattern.compile("\"connectionId\":\"([^\"]+)\",\"requestId\":\"([^\"]+)\"");
    private static final Pattern ERROR = Pattern.compile(
            "\\{\"message\":\"Internal server error\",\"connectionId\":\"([^\"]+)\",\"requestId\":\"[^\"]+\"}");
    private static final String IDENTITY = "\"messageDirection\":\"IN\","
            + "\"identity\":{\"sourceIp\":\"127.0.0.1\",\"userAgent\":\"gatehouse-test/1\"},"
            + "\"authorizer\":{\"principalId\":\"alice\",\"tenant\":\"acme\"}";

    @RegisterExtension
    final Servers servers = new Servers();
    private IntegrationServer integration;

    @BeforeEach
    void startTheIntegration() throws Exception {
        integration = servers.closeAfter(new IntegrationServer()); // stopped after the gateways
    }

    /** Admits a client with {@code ?token=TOKEN} as alice (consumer mobile, claim tenant), removing the token. */
    private static Verdict authenticate(Handshake h) {
        if (!h.queryParameter("token").map(TOKEN::equals).orElse(false)) {
            return Verdict.reject(Rejection.UNAUTHORIZED, "no token");
        }
        Principal alice = Principal.builder("alice").consumer("mobile").claims(Map.of("tenant", "acme")).build();
        return Verdict.allow(h.withoutQueryParameter("token").withPrincipal(alice));
    }

    private static Route route(String path, UnaryOperator<WebSocketApi.Builder> api) {
        return Route.builder(path)
                .authenticator(HttpIntegrationTest::authenticate)
                .policy(IdentityHeadersPolicy.claim("tenant", "X-Gatehouse-Tenant"))
                .webSocketApi(api.apply(WebSocketApi.builder()).build())
                .build();
    }

    private GatewayServer start(Mount mount, UnaryOperator<WebSocketApi.Builder> api) throws Exception {
        return servers.start(Gateway.builder().route(route("/api/{stage}", api)).build(), mount);
    }

    private Integration http(String path) {
        return Integration.http(integration.uri(path));
    }

    private static WebSocket connect(GatewayServer gw, RecordingListener events, String... subprotocols) throws Exception {
        WebSocket.Builder b = HTTP.newWebSocketBuilder().header("User-Agent", "gatehouse-test/1");
        if (subprotocols.length > 0) {
            String[] rest = new String[subprotocols.length - 1];
            System.arraycopy(subprotocols, 1, rest, 0, rest.length);
            b.subprotocols(subprotocols[0], rest);
        }
        return b.buildAsync(gw.uri("/api/prod?token=" + TOKEN + "&room=blue"), events).get(5, TimeUnit.SECONDS);
    }

    /** A port nothing listens on: bound, then released. */
    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The event JSON with its two timestamps replaced by 0, after checking they are the epoch millis of now. */
    private static String withoutTimes(String json, long notBefore) {
        long now = System.currentTimeMillis();
        for (String field : new String[] {"connectedAt", "requestTimeEpoch"}) {
            Matcher m = Pattern.compile("\"" + field + "\":(\\d+)").matcher(json);
            assertTrue(m.find(), () -> field + " in " + json);
            long t = Long.parseLong(m.group(1));
            assertTrue(t >= notBefore - 1000 && t <= now, () -> field + " " + t + " is not now in epoch ms");
        }
        return json.replaceAll("\"connectedAt\":\\d+", "\"connectedAt\":0")
                .replaceAll("\"requestTimeEpoch\":\\d+", "\"requestTimeEpoch\":0");
    }

    /** The connection and request ids of an event. */
    private static String[] ids(String json) {
        Matcher m = IDS.matcher(json);
        assertTrue(m.find(), json);
        return new String[] {m.group(1), m.group(2)};
    }

    private static void assertEventHeaders(IntegrationServer.Call call, String routeKey, String eventType, String connectionId) {
        assertEquals("POST", call.method());
        assertEquals("application/json", call.header("Content-Type"));
        assertEquals(connectionId, call.header("X-Gatehouse-Connection-Id"));
        assertEquals(routeKey, call.header("X-Gatehouse-Route-Key"));
        assertEquals(eventType, call.header("X-Gatehouse-Event-Type"));
        assertEquals("alice", call.header("X-Gatehouse-Subject"));
        assertEquals("mobile", call.header("X-Gatehouse-Consumer"));
        assertEquals("acme", call.header("X-Gatehouse-Tenant"));
        assertFalse(call.headers().containsKey("authorization"));
        assertFalse(call.headers().containsKey("cookie"));
        assertFalse(call.toString().contains(TOKEN), "the client's credential reached the integration");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aMessageGoesToTheIntegrationOfItsActionAsTheAwsEventWithTheGatehouseHeaders(Mount mount) throws Exception {
        long start = System.currentTimeMillis();
        GatewayServer gw = start(mount, api -> api
                .integration("sendmessage", http("/send"))
                .integration("$default", http("/default")));
        integration.answer("/send", 200, "text/plain", "sent");
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw, events);

        ws.sendText("{\"action\":\"sendmessage\",\"data\":\"hi\"}", true);
        events.assertText("sent");

        IntegrationServer.Call call = integration.next("/send");
        String connectionId = call.header("X-Gatehouse-Connection-Id");
        assertEventHeaders(call, "sendmessage", "MESSAGE", connectionId);
        String requestId = ids(call.body())[1];
        Matcher messageId = Pattern.compile("\"messageId\":\"([^\"]+)\"").matcher(call.body());
        assertTrue(messageId.find(), call.body());
        assertEquals("{\"requestContext\":{\"routeKey\":\"sendmessage\",\"eventType\":\"MESSAGE\",\"connectionId\":\""
                + connectionId + "\",\"requestId\":\"" + requestId + "\",\"messageId\":\"" + messageId.group(1) + "\","
                + "\"connectedAt\":0,\"requestTimeEpoch\":0," + IDENTITY + "},"
                + "\"body\":\"{\\\"action\\\":\\\"sendmessage\\\",\\\"data\\\":\\\"hi\\\"}\",\"isBase64Encoded\":false}",
                withoutTimes(call.body(), start));

        ws.sendText("{\"action\":\"unknown\"}", true);
        IntegrationServer.Call unknown = integration.next("/default");
        assertEventHeaders(unknown, "$default", "MESSAGE", connectionId);
        assertTrue(unknown.body().startsWith("{\"requestContext\":{\"routeKey\":\"$default\",\"eventType\":\"MESSAGE\""),
                unknown.body());
        assertFalse(unknown.body().contains("\"messageId\":\"" + messageId.group(1) + "\""), "each message has its own id");

        ws.sendText("not json", true);
        IntegrationServer.Call text = integration.next("/default");
        assertTrue(text.body().endsWith(",\"body\":\"not json\",\"isBase64Encoded\":false}"), text.body());
        integration.assertNoMoreCalls();
        events.assertNoMoreEvents();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aBinaryMessageGoesToDefaultInBase64(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api.integration("sendmessage", http("/send"))
                .integration("$default", http("/default")));
        WebSocket ws = connect(gw, new RecordingListener());

        ws.sendBinary(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 0xff}), true);

        IntegrationServer.Call call = integration.next("/default");
        assertEventHeaders(call, "$default", "MESSAGE", call.header("X-Gatehouse-Connection-Id"));
        assertTrue(call.body().endsWith("},\"body\":\"AAEC/w==\",\"isBase64Encoded\":true}"), call.body());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void repliesAreSentAsTextOrBinaryAndNoContentOrAnEmptyBodySendsNothing(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api.integration("$default", http("/default")));
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw, events);

        integration.answer("/default", 200, "application/json", "{\"ok\":true}");
        ws.sendText("{}", true);
        integration.next("/default");
        events.assertText("{\"ok\":true}");

        integration.answer("/default", 200, "application/octet-stream", new byte[] {9, 8, 7});
        ws.sendText("{}", true);
        integration.next("/default");
        events.assertBinary(new byte[] {9, 8, 7});

        integration.answer("/default", 204, null, "");
        ws.sendText("{}", true);
        integration.next("/default");

        integration.answer("/default", 200, "text/plain", "");
        ws.sendText("{}", true);
        integration.next("/default");

        integration.answer("/default", 200, "text/plain; charset=UTF-8", "last ✓");
        ws.sendText("{}", true);
        integration.next("/default");
        events.assertText("last ✓"); // nothing came for the 204 and the empty body
        events.assertNoMoreEvents();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void failedCallsAnswerInternalServerErrorAndTheClientStaysConnected(Mount mount) throws Exception {
        URI down = URI.create("http://127.0.0.1:" + closedPort() + "/down?key=" + INTEGRATION_SECRET);
        GatewayServer gw = start(mount, api -> api.timeout(Duration.ofSeconds(1))
                .integration("fail", Integration.http(integration.uri("/fail?key=" + INTEGRATION_SECRET)))
                .integration("redirect", http("/redirect"))
                .integration("down", Integration.http(down))
                .integration("slow", http("/slow"))
                .integration("sendmessage", http("/send")));
        integration.answer("/fail", 500, "text/plain", "oops");
        integration.answer("/redirect", 302, null, "");
        integration.hang("/slow");
        integration.answer("/send", 200, "text/plain", "still here");
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw, events);

        for (String action : new String[] {"fail", "redirect", "down", "slow"}) {
            ws.sendText("{\"action\":\"" + action + "\"}", true);

            RecordingListener.Event e = events.nextData();
            String frame = assertInstanceOf(RecordingListener.Text.class, e, () -> action + ": " + e).text();
            Matcher m = ERROR.matcher(frame);
            assertTrue(m.matches(), action + ": " + frame);
            if (!action.equals("down")) {
                assertEquals(m.group(1), integration.next("/" + action).header("X-Gatehouse-Connection-Id"));
            }
            ws.sendText("{\"action\":\"sendmessage\"}", true);
            events.assertText("still here");
            assertEquals(m.group(1), integration.next("/send").header("X-Gatehouse-Connection-Id"));
        }

        for (String line : RecordingLogProvider.lines()) {
            assertFalse(line.contains(INTEGRATION_SECRET) || line.contains(TOKEN), line);
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void connectAcceptsWithTheSubprotocolItsAnswerNamesAndReceivesTheHandshakeWithoutCredentials(Mount mount)
            throws Exception {
        long start = System.currentTimeMillis();
        GatewayServer gw = start(mount, api -> api.integration("$connect", http("/connect"))
                .integration("$default", http("/default")));
        integration.answer("/connect", 200, "application/json", "{\"userId\":\"u-7\",\"subprotocol\":\"chat.v2\"}");

        WebSocket ws = connect(gw, new RecordingListener(), "chat.v1", "chat.v2");

        assertEquals("chat.v2", ws.getSubprotocol());
        IntegrationServer.Call call = integration.next("/connect");
        String connectionId = call.header("X-Gatehouse-Connection-Id");
        assertEventHeaders(call, "$connect", "CONNECT", connectionId);
        String body = withoutTimes(call.body(), start);
        assertTrue(body.startsWith("{\"requestContext\":{\"routeKey\":\"$connect\",\"eventType\":\"CONNECT\",\"connectionId\":\""
                + connectionId + "\",\"requestId\":\"" + ids(body)[1] + "\",\"connectedAt\":0,\"requestTimeEpoch\":0,"
                + IDENTITY + "},\"headers\":{"), body);
        assertTrue(body.endsWith("},\"queryStringParameters\":{\"room\":\"blue\"},\"pathParameters\":{\"stage\":\"prod\"},"
                + "\"isBase64Encoded\":false}"), body);
        assertTrue(body.contains("\"user-agent\":\"gatehouse-test/1\""), body);
        assertTrue(body.contains("\"sec-websocket-protocol\":\"chat.v1, chat.v2\""), body);
        assertTrue(body.contains("\"x-gatehouse-tenant\":\"acme\""), body);

        ws.sendText("{}", true);
        assertEquals(connectionId, integration.next("/default").header("X-Gatehouse-Connection-Id"));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void connectRefusalsReachTheClientWithTheirStatusAndBodyAndNo101(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api.integration("$connect", http("/connect"))
                .integration("$default", http("/default"))
                .integration("$disconnect", http("/disconnect")));

        for (int status : new int[] {401, 403, 500}) {
            integration.answer("/connect", status, "application/json", "{\"reason\":\"refused with " + status + "\"}");

            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/api/prod?token=" + TOKEN));

            assertEquals(status, r.status(), r.body());
            assertEquals("{\"reason\":\"refused with " + status + "\"}", r.body());
            assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
            IntegrationServer.Call call = integration.next("/connect");
            assertEventHeaders(call, "$connect", "CONNECT", call.header("X-Gatehouse-Connection-Id"));
        }
        integration.assertNoMoreCalls(); // no $disconnect for a connection that never was
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void connectToAnUnreachableIntegrationGets502AndToOneThatDoesNotAnswerInTimeGets504(Mount mount) throws Exception {
        URI down = URI.create("http://127.0.0.1:" + closedPort() + "/connect");
        GatewayServer gw = servers.start(Gateway.builder()
                .route(route("/down/{stage}", api -> api.integration("$connect", Integration.http(down))
                        .integration("$default", http("/default"))))
                .route(route("/slow/{stage}", api -> api.timeout(Duration.ofSeconds(1))
                        .integration("$connect", http("/slow"))
                        .integration("$default", http("/default"))))
                .build(), mount);
        integration.hang("/slow");

        RawHttp.Response unreachable = RawHttp.upgrade(gw.httpUri("/down/prod?token=" + TOKEN));
        RawHttp.Response slow = RawHttp.upgrade(gw.httpUri("/slow/prod?token=" + TOKEN));

        assertEquals(502, unreachable.status(), unreachable.body());
        assertTrue(unreachable.body().contains("\"error\":\"bad_gateway\""), unreachable.body());
        assertEquals(504, slow.status(), slow.body());
        assertTrue(slow.body().contains("\"error\":\"gateway_timeout\""), slow.body());
        integration.next("/slow");
        integration.assertNoMoreCalls();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void disconnectIsCalledOnceWithTheClientsCloseCodeAndReason(Mount mount) throws Exception {
        long start = System.currentTimeMillis();
        GatewayServer gw = start(mount, api -> api.integration("$default", http("/default"))
                .integration("$disconnect", http("/disconnect")));
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw, events);
        ws.sendText("{}", true);
        String connectionId = integration.next("/default").header("X-Gatehouse-Connection-Id");

        ws.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "bye");

        IntegrationServer.Call call = integration.next("/disconnect");
        assertEventHeaders(call, "$disconnect", "DISCONNECT", connectionId);
        String body = withoutTimes(call.body(), start);
        assertEquals("{\"requestContext\":{\"routeKey\":\"$disconnect\",\"eventType\":\"DISCONNECT\",\"connectionId\":\""
                + connectionId + "\",\"requestId\":\"" + ids(body)[1] + "\",\"connectedAt\":0,\"requestTimeEpoch\":0,"
                + "\"messageDirection\":\"IN\",\"disconnectStatusCode\":1000,\"disconnectReason\":\"bye\","
                + IDENTITY.substring(IDENTITY.indexOf("\"identity\"")) + "},\"isBase64Encoded\":false}", body);
        servers.stopAll(); // whatever the gateway still had to say to the integration is said by now
        integration.assertNoMoreCalls();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void stoppingTheServerCallsDisconnectForEachOpenConnectionBeforeItsClientStops(Mount mount) throws Exception {
        GatewayServer gw = start(mount, api -> api.integration("$default", http("/default"))
                .integration("$disconnect", http("/disconnect")));
        RecordingListener events = new RecordingListener();
        connect(gw, events);

        gw.close();

        events.assertClose(1012, "service restart");
        IntegrationServer.Call call = integration.next("/disconnect");
        assertEquals("DISCONNECT", call.header("X-Gatehouse-Event-Type"));
        assertTrue(call.body().contains("\"disconnectStatusCode\":"), call.body());
        integration.assertNoMoreCalls();
    }
}
