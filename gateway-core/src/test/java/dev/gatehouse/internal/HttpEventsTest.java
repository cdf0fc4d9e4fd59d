package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.Principal;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;

/** What an HTTP integration receives (exact JSON and headers) and what each of its answers means. */
class HttpEventsTest {

    private static final Instant CONNECTED = Instant.ofEpochMilli(1764000000000L);
    private static final Instant NOW = Instant.ofEpochMilli(1764000000123L);

    private static Principal alice() {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("tenant", "acme");
        claims.put("level", 3);
        claims.put("roles", List.of("admin", "ops"));
        claims.put("address", Map.of("city", "Paris"));
        claims.put("verified", true);
        return Principal.builder("alice").consumer("mobile").claims(claims).build();
    }

    private static Handshake.Builder handshake() {
        return Handshake.builder("req-1", "/api/lobby")
                .header("Host", "gw.example.com").host("gw.example.com")
                .header("User-Agent", "test-agent/1.0")
                .remoteAddress(new InetSocketAddress("203.0.113.7", 51234))
                .pathParameters(Map.of("room", "lobby"));
    }

    private static RouteEvent event(RouteEvent.Type type, String routeKey, Handshake h, Optional<Message> body,
            Optional<CloseStatus> close) {
        return new RouteEvent(type, routeKey, "conn-1", "req-1",
                type == RouteEvent.Type.MESSAGE ? Optional.of("conn-1-1") : Optional.empty(), CONNECTED, NOW, h, body, close);
    }

    private static RouteEvent message(Message body) {
        return event(RouteEvent.Type.MESSAGE, "sendmessage", handshake().build().withPrincipal(alice()), Optional.of(body),
                Optional.empty());
    }

    private static final RouteEvent CONNECT = event(RouteEvent.Type.CONNECT, "$connect",
            handshake().build().withPrincipal(alice()), Optional.empty(), Optional.empty());
    private static final RouteEvent DISCONNECT = event(RouteEvent.Type.DISCONNECT, "$disconnect",
            handshake().build().withPrincipal(alice()), Optional.empty(), Optional.of(CloseStatus.of(1001, "going away")));

    private static String json(RouteEvent e) {
        return new String(HttpEvents.body(e), StandardCharsets.UTF_8);
    }

    private static Reply answer(RouteEvent e, int status, String contentType, String body) {
        HttpEvents.Answer answer = HttpEvents.answer(e, status, contentType);
        answer.add(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
        return answer.reply();
    }

    private static final String CONTEXT = "\"connectedAt\":1764000000000,\"requestTimeEpoch\":1764000000123,"
            + "\"messageDirection\":\"IN\"";
    private static final String IDENTITY = "\"identity\":{\"sourceIp\":\"203.0.113.7\",\"userAgent\":\"test-agent/1.0\"}";
    private static final String AUTHORIZER = "\"authorizer\":{\"principalId\":\"alice\",\"tenant\":\"acme\",\"level\":3,"
            + "\"roles\":[\"admin\",\"ops\"],\"address\":{\"city\":\"Paris\"},\"verified\":true}";

    @Test
    void aTextMessageIsAwsProxyEventWithItsBody() {
        assertEquals("{\"requestContext\":{\"routeKey\":\"sendmessage\",\"eventType\":\"MESSAGE\",\"connectionId\":\"conn-1\","
                + "\"requestId\":\"req-1\",\"messageId\":\"conn-1-1\"," + CONTEXT + "," + IDENTITY + "," + AUTHORIZER + "},"
                + "\"body\":\"{\\\"action\\\":\\\"sendmessage\\\",\\\"data\\\":\\\"hi\\\"}\",\"isBase64Encoded\":false}",
                json(message(Message.text("{\"action\":\"sendmessage\",\"data\":\"hi\"}"))));
    }

    @Test
    void aBinaryMessageIsBase64Encoded() {
        String json = json(message(Message.binary(new byte[] {0, 1, 2, (byte) 0xff})));

        assertTrue(json.endsWith("},\"body\":\"AAEC/w==\",\"isBase64Encoded\":true}"), json);
    }

    @Test
    void textKeepsNonAsciiCharactersAndEscapesControlCharacters() {
        String json = json(message(Message.text("clé ✓ \"q\"\n")));

        assertTrue(json.endsWith("\"body\":\"clé ✓ \\\"q\\\"\\n\",\"isBase64Encoded\":false}"), json);
    }

    @Test
    void aConnectEventCarriesHeadersQueryAndPathParametersWithoutCredentials() {
        Handshake h = handshake()
                .addHeader("Cookie", "a=1").addHeader("Cookie", "b=2")
                .addHeader("Accept-Language", "fr").addHeader("Accept-Language", "en")
                .header("Authorization", "Bearer secret-token")
                .header("Sec-WebSocket-Protocol", "chat.v1, bearer, bearer.secret-token")
                .subprotocols(List.of("chat.v1"))
                .query("room=a%20b&tag=x&tag=y&flag")
                .build().withPrincipal(alice());

        String json = json(event(RouteEvent.Type.CONNECT, "$connect", h, Optional.empty(), Optional.empty()));

        assertEquals("{\"requestContext\":{\"routeKey\":\"$connect\",\"eventType\":\"CONNECT\",\"connectionId\":\"conn-1\","
                + "\"requestId\":\"req-1\"," + CONTEXT + "," + IDENTITY + "," + AUTHORIZER + "},"
                + "\"headers\":{\"host\":\"gw.example.com\",\"user-agent\":\"test-agent/1.0\",\"cookie\":\"a=1; b=2\","
                + "\"accept-language\":\"fr, en\",\"sec-websocket-protocol\":\"chat.v1\"},"
                + "\"queryStringParameters\":{\"room\":\"a b\",\"tag\":\"x,y\",\"flag\":\"\"},"
                + "\"pathParameters\":{\"room\":\"lobby\"},\"isBase64Encoded\":false}", json);
        assertFalse(json.contains("secret-token"));
    }

    @Test
    void aConnectEventWithoutQueryHasEmptyParameters() {
        String json = json(event(RouteEvent.Type.CONNECT, "$connect", Handshake.builder("req-1", "/api")
                .remoteAddress(new InetSocketAddress("203.0.113.7", 1)).build(), Optional.empty(), Optional.empty()));

        assertEquals("{\"requestContext\":{\"routeKey\":\"$connect\",\"eventType\":\"CONNECT\",\"connectionId\":\"conn-1\","
                + "\"requestId\":\"req-1\"," + CONTEXT + ",\"identity\":{\"sourceIp\":\"203.0.113.7\",\"userAgent\":null}},"
                + "\"headers\":{},\"queryStringParameters\":{},\"pathParameters\":{},\"isBase64Encoded\":false}", json);
    }

    @Test
    void aDisconnectEventCarriesTheCloseCodeAndReasonInItsRequestContext() {
        assertEquals("{\"requestContext\":{\"routeKey\":\"$disconnect\",\"eventType\":\"DISCONNECT\",\"connectionId\":\"conn-1\","
                + "\"requestId\":\"req-1\"," + CONTEXT + ",\"disconnectStatusCode\":1001,\"disconnectReason\":\"going away\","
                + IDENTITY + "," + AUTHORIZER + "},\"isBase64Encoded\":false}", json(DISCONNECT));
    }

    @Test
    void anAnonymousClientHasNoAuthorizer() {
        RouteEvent e = event(RouteEvent.Type.MESSAGE, "$default", handshake().build(), Optional.of(Message.text("x")),
                Optional.empty());

        assertEquals("{\"requestContext\":{\"routeKey\":\"$default\",\"eventType\":\"MESSAGE\",\"connectionId\":\"conn-1\","
                + "\"requestId\":\"req-1\",\"messageId\":\"conn-1-1\"," + CONTEXT + "," + IDENTITY + "},"
                + "\"body\":\"x\",\"isBase64Encoded\":false}", json(e));
    }

    @Test
    void aClaimNamedPrincipalIdDoesNotReplaceTheSubject() {
        Principal p = Principal.builder("alice").claims(Map.of("principalId", "mallory")).build();
        RouteEvent e = event(RouteEvent.Type.MESSAGE, "$default", handshake().build().withPrincipal(p),
                Optional.of(Message.text("x")), Optional.empty());

        assertTrue(json(e).contains("\"authorizer\":{\"principalId\":\"alice\"}"), json(e));
    }

    @Test
    void headersNameTheEventAndCarryTheIdentityHeaders() {
        Handshake h = handshake().header("X-Gatehouse-Tenant", "acme").header("X-Gatehouse-Subject", "mallory")
                .header("X-Other", "not forwarded").build().withPrincipal(alice());
        RouteEvent e = event(RouteEvent.Type.MESSAGE, "sendmessage", h, Optional.of(Message.text("x")), Optional.empty());

        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("Content-Type", "application/json");
        expected.put("X-Gatehouse-Connection-Id", "conn-1");
        expected.put("X-Gatehouse-Route-Key", "sendmessage");
        expected.put("X-Gatehouse-Event-Type", "MESSAGE");
        expected.put("X-Gatehouse-Subject", "alice");
        expected.put("X-Gatehouse-Consumer", "mobile");
        expected.put("x-gatehouse-tenant", "acme");
        assertEquals(expected, HttpEvents.headers(e));
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(HttpEvents.headers(e).keySet()));
    }

    @Test
    void anAnonymousEventHasNoSubjectHeader() {
        RouteEvent e = event(RouteEvent.Type.DISCONNECT, "$disconnect", handshake().build(), Optional.empty(),
                Optional.of(CloseStatus.NORMAL));

        assertEquals(Map.of("Content-Type", "application/json", "X-Gatehouse-Connection-Id", "conn-1",
                "X-Gatehouse-Route-Key", "$disconnect", "X-Gatehouse-Event-Type", "DISCONNECT"), HttpEvents.headers(e));
    }

    @Test
    void aMessagesTextAnswerIsSentAsText() {
        assertEquals(Reply.text("pong ✓"), answer(message(Message.text("x")), 200, "application/json", "pong ✓"));
        assertEquals(Reply.text("no type"), answer(message(Message.text("x")), 201, null, "no type"));
    }

    @Test
    void aTextAnswerIsDecodedInItsCharset() {
        HttpEvents.Answer a = HttpEvents.answer(message(Message.text("x")), 200, "text/plain; charset=ISO-8859-1");
        a.add(ByteBuffer.wrap(new byte[] {'c', 'l', (byte) 0xe9}));

        assertEquals(Reply.text("clé"), a.reply());
    }

    @Test
    void anOctetStreamAnswerIsSentAsBinary() {
        HttpEvents.Answer a = HttpEvents.answer(message(Message.text("x")), 200, "Application/Octet-Stream;x=y");
        a.add(ByteBuffer.wrap(new byte[] {1, 2, 3}));

        Reply.Send send = assertInstanceOf(Reply.Send.class, a.reply());
        Message.Binary binary = assertInstanceOf(Message.Binary.class, send.message());
        byte[] bytes = new byte[binary.size()];
        binary.bytes().get(bytes);
        assertArrayEquals(new byte[] {1, 2, 3}, bytes);
    }

    @Test
    void noContentOrAnEmptyBodySendsNothing() {
        assertSame(Reply.none(), answer(message(Message.text("x")), 204, null, ""));
        assertSame(Reply.none(), answer(message(Message.text("x")), 200, "text/plain", ""));
    }

    @ParameterizedTest
    @ValueSource(ints = {301, 400, 404, 500, 503})
    void aMessagesAnswerOtherThan2xxFailsAndItsBodyIsNotRead(int status) {
        HttpEvents.Answer a = HttpEvents.answer(message(Message.text("x")), status, "text/plain");

        assertFalse(a.add(ByteBuffer.wrap("error page".getBytes(StandardCharsets.UTF_8))), "the body is not wanted");
        assertThrows(IntegrationAnswerException.class, a::reply);
    }

    @Test
    void aMessagesAnswerOverOneMebibyteFails() {
        HttpEvents.Answer a = HttpEvents.answer(message(Message.text("x")), 200, "text/plain");

        assertTrue(a.add(ByteBuffer.allocate(HttpEvents.MAX_MESSAGE_ANSWER)));
        assertThrows(IntegrationAnswerException.class, () -> a.add(ByteBuffer.allocate(1)));
    }

    @Test
    void connect2xxAcceptsWithTheUserGroupsAndSubprotocolOfItsJsonBody() {
        Reply r = answer(CONNECT, 200, "application/json",
                "{\"userId\":\"u-7\",\"other\":{\"x\":[1]},\"groups\":[\"admins\",\"ops\"],\"subprotocol\":\"chat.v1\"}");

        assertEquals(Reply.accept().withUser("u-7").withGroups("admins", "ops").withSubprotocol("chat.v1"), r);
        assertEquals(Reply.accept().withUser("u-8"), answer(CONNECT, 201, null, " {\"userId\":\"u-8\"} "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ok", "[\"userId\"]", "{\"userId\":5}", "{\"groups\":\"admins\"}",
            "{\"groups\":[\"a\",1]}", "{\"subprotocol\":true}", "{\"userId\":\"u\"", "{\"userId\":\"u\"} trailing"})
    void connect2xxWithABodyOfAnotherShapeJustAccepts(String body) {
        assertEquals(Reply.accept(), answer(CONNECT, 200, "application/json", body));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"userId\":\"u\\u0001\"}", "{\"groups\":[\"ok\",\"bad\\nname\"]}"})
    void connect2xxWithAUserOrGroupTheManagementApiCouldNotAddressIsABadAnswer(String body) {
        IntegrationAnswerException e = assertThrows(IntegrationAnswerException.class,
                () -> answer(CONNECT, 200, "application/json", body));
        assertTrue(e.getMessage().contains("control character"), e.getMessage());
    }

    @Test
    void connect2xxWithAUserIdOverTheLongestNameIsABadAnswer() {
        String body = "{\"userId\":\"" + "u".repeat(257) + "\"}";
        IntegrationAnswerException e = assertThrows(IntegrationAnswerException.class,
                () -> answer(CONNECT, 200, "application/json", body));
        assertTrue(e.getMessage().contains("user: 257 characters"), e.getMessage());
    }

    @Test
    void connect204Accepts() {
        assertEquals(Reply.accept(), answer(CONNECT, 204, null, ""));
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 403, 429, 500, 503, 599})
    void connectAnswerOf4xxOr5xxRefusesWithThatStatusContentTypeAndBody(int status) {
        assertEquals(Reply.refuse(status, "application/json", "{\"message\":\"no\"}"), answer(CONNECT, status, "application/json",
                "{\"message\":\"no\"}"));
    }

    @Test
    void aRefusingBodyIsCutAt8KiB() {
        HttpEvents.Answer a = HttpEvents.answer(CONNECT, 401, "text/plain");

        assertTrue(a.add(ByteBuffer.wrap("x".repeat(8000).getBytes(StandardCharsets.UTF_8))));
        assertFalse(a.add(ByteBuffer.wrap("y".repeat(1000).getBytes(StandardCharsets.UTF_8))), "the rest is not wanted");
        assertFalse(a.add(ByteBuffer.wrap("z".getBytes(StandardCharsets.UTF_8))));

        assertEquals(Reply.refuse(401, "text/plain", "x".repeat(8000) + "y".repeat(192)), a.reply());
    }

    @ParameterizedTest
    @ValueSource(ints = {300, 302, 304, 100})
    void connectAnswerOfAnotherStatusFails(int status) {
        assertThrows(IntegrationAnswerException.class, () -> answer(CONNECT, status, null, ""));
    }

    @Test
    void anAcceptingBodyOver64KiBFails() {
        HttpEvents.Answer a = HttpEvents.answer(CONNECT, 200, "application/json");

        assertThrows(IntegrationAnswerException.class, () -> a.add(ByteBuffer.allocate(HttpEvents.MAX_ACCEPT_ANSWER + 1)));
    }

    @Test
    void disconnectAnswersAreIgnoredButAFailingStatusIsAFailure() {
        assertSame(Reply.none(), answer(DISCONNECT, 200, "text/plain", ""));
        HttpEvents.Answer a = HttpEvents.answer(DISCONNECT, 200, "text/plain");
        assertFalse(a.add(ByteBuffer.wrap("ignored".getBytes(StandardCharsets.UTF_8))), "the body is not wanted");
        assertSame(Reply.none(), a.reply());
        assertThrows(IntegrationAnswerException.class, () -> answer(DISCONNECT, 500, null, ""));
    }
}
