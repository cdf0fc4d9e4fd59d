package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.jetty.TestBackend;

class StandaloneTest {

    private static final String SECRET = "a-256-bit-secret-for-the-tests!!";

    @Test
    void printsTheListeningLineWithTheRealPortThenHowToConnect() {
        try (Runner r = Runner.started()) {
            List<String> lines = r.out.lines().toList();
            assertEquals("listening on ws://127.0.0.1:" + r.port(), lines.get(0));
            assertTrue(r.port() > 0);
            assertTrue(r.out.contains("open http://127.0.0.1:" + r.port() + "/ in two browser tabs"), r.out);
            assertTrue(r.out.contains("websocat ws://127.0.0.1:" + r.port() + "/chat/lobby"), r.out);
            assertEquals("", r.err);
        }
    }

    @Test
    void namesTheWildcardAddressWhenListeningOnAllInterfaces() throws Exception {
        try (TestBackend backend = new TestBackend();
                Runner r = Runner.launch("--port", "0", "--route", "/echo=" + backend.url("/echo"))) {
            assertInstanceOf(Standalone.Started.class, r.launch, r.err);
            assertEquals("listening on ws://0.0.0.0:" + r.port(), r.out.lines().findFirst().orElseThrow());
            RecordingListener events = new RecordingListener();
            r.connect("/echo", events).sendText("hi", true).get(5, TimeUnit.SECONDS);
            events.assertText("hi");
        }
    }

    @Test
    void admitsClientsWithoutOriginOnAnOriginListUnlessToldNotTo() throws Exception {
        String app = "https://app.example.com";
        try (Runner r = Runner.started("--allow-origin", app)) {
            RecordingListener events = new RecordingListener();
            r.connect("/echo", events).sendText("no origin", true).get(5, TimeUnit.SECONDS);
            events.assertText("no origin");
            assertEquals(403, r.refusal("/echo", Map.of("Origin", "https://evil.example.com")));
        }
        try (Runner r = Runner.started("--allow-origin", app, "--allow-missing-origin", "false")) {
            assertEquals(403, r.refusal("/echo", Map.of()));
            RecordingListener events = new RecordingListener();
            r.connect("/echo", events, Map.of("Origin", app)).sendText("browser", true).get(5, TimeUnit.SECONDS);
            events.assertText("browser");
        }
    }

    /** Checks what the backend saw of an upgrade: its path, its query, and the consumer the gateway named. */
    private static void assertUpgrade(TestBackend.Upgrade up, String path, String query, String consumer) {
        assertEquals(path, up.path());
        assertEquals(query, up.query());
        assertEquals(consumer, up.header("X-Gatehouse-Consumer"));
    }

    /** Sends {@code request} on a new connection and reads until the server closes it. */
    private static String exchange(Runner r, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", r.port())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.shutdownOutput();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void hidesTheServerVersionAndAnswersJettysOwnRejectionsWithJson() throws Exception {
        try (Runner r = Runner.started()) {
            String tooLarge = exchange(r, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "x".repeat(9000)
                    + "\r\n\r\n");
            assertTrue(tooLarge.startsWith("HTTP/1.1 431 "), tooLarge);
            assertTrue(tooLarge.contains("\r\nContent-Type: application/json\r\n"), tooLarge);
            assertTrue(tooLarge.contains("{\"error\":\"request_headers_too_large\","), tooLarge);

            String noConnection = exchange(r, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
            assertTrue(noConnection.startsWith("HTTP/1.1 426 "), noConnection);
            assertTrue(noConnection.contains("{\"error\":\"upgrade_required\","), noConnection);

            String notFound = exchange(r, "GET /nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            assertTrue(notFound.startsWith("HTTP/1.1 404 "), notFound);
            for (String response : List.of(tooLarge, noConnection, notFound)) {
                assertFalse(response.contains("\r\nServer:"), response);
                assertFalse(response.contains("Jetty"), response);
            }
        }
    }

    @Test
    void closesAConnectionWithoutACompleteRequestAtTheRequestTimeout() throws Exception {
        try (Runner r = Runner.started("--request-timeout", "200ms");
                Socket slow = new Socket("127.0.0.1", r.port())) {
            slow.setSoTimeout(5_000);
            slow.getOutputStream().write("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr".getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = slow.getInputStream();
            try {
                assertEquals(-1, in.read());
            } catch (SocketException reset) {
                // closed too: a reset instead of an end of stream
            }
        }
    }

    @Test
    void demoEchoesTextAndBinaryThroughTheGateway() throws Exception {
        try (Runner r = Runner.started()) {
            RecordingListener events = new RecordingListener();
            WebSocket ws = r.connect("/echo", events);
            ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
            events.assertText("hello");
            ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).get(5, TimeUnit.SECONDS);
            events.assertBinary(new byte[] {1, 2, 3});
            ws.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);
            events.assertClose(1000, "bye");
        }
    }

    @Test
    void demoChatReachesEveryMemberOfTheRoomAndNoOneElse() throws Exception {
        try (Runner r = Runner.started()) {
            RecordingListener alice = new RecordingListener();
            RecordingListener bob = new RecordingListener();
            RecordingListener carol = new RecordingListener();
            // The demo's backend enrols a member once its WebSocket is open, which may be just after the 101:
            // each member's own first message, broadcast back to it, shows that it is in the room.
            WebSocket a = r.connect("/chat/room1", alice);
            a.sendText("alice: hi", true).get(5, TimeUnit.SECONDS);
            alice.assertText("alice: hi");

            WebSocket b = r.connect("/chat/room1", bob);
            b.sendText("bob: hello", true).get(5, TimeUnit.SECONDS);
            bob.assertText("bob: hello");
            alice.assertText("bob: hello");

            a.sendText("alice: welcome", true).get(5, TimeUnit.SECONDS);
            alice.assertText("alice: welcome");
            bob.assertText("alice: welcome");

            WebSocket c = r.connect("/chat/room2", carol);

            // Carol's room is separate: the first message she gets is her own.
            c.sendText("carol: anyone?", true).get(5, TimeUnit.SECONDS);
            carol.assertText("carol: anyone?");
            carol.assertNoMoreEvents();

            // ...and it did not reach room1: the next message there is the one sent after it.
            a.sendText("alice: bye", true).get(5, TimeUnit.SECONDS);
            alice.assertText("alice: bye");
            bob.assertText("alice: bye");
        }
    }

    @Test
    void demoKeepsChatRoomsWorkingAfterMembersLeave() throws Exception {
        try (Runner r = Runner.started()) {
            RecordingListener first = new RecordingListener();
            WebSocket gone = r.connect("/chat/room%201", first);
            gone.sendClose(1000, "").get(5, TimeUnit.SECONDS);
            first.assertClose(1000, "");

            // The demo's backend enrols a member once its WebSocket is open, which may be just after the 101:
            // each member's own first message, broadcast back to it, shows that it is in the room.
            RecordingListener second = new RecordingListener();
            WebSocket ws = r.connect("/chat/room%201", second);
            ws.sendText("hello from 2", true).get(5, TimeUnit.SECONDS);
            second.assertText("hello from 2");
            RecordingListener third = new RecordingListener();
            WebSocket other = r.connect("/chat/room%201", third);
            other.sendText("hello from 3", true).get(5, TimeUnit.SECONDS);
            third.assertText("hello from 3");
            second.assertText("hello from 3");
            ws.sendText("still here", true).get(5, TimeUnit.SECONDS);
            second.assertText("still here");
            third.assertText("still here");
        }
    }

    @Test
    void demoServesTheChatPageAtTheRoot() throws Exception {
        try (Runner r = Runner.started()) {
            for (String path : List.of("/", "/index.html")) {
                HttpResponse<String> page = r.get(path);
                assertEquals(200, page.statusCode());
                assertTrue(page.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
                assertTrue(page.body().contains("<title>Gatehouse chat demo</title>"), page.body());
                assertTrue(page.body().contains("'/rooms'"), page.body());
            }
            assertEquals(404, r.get("/nothing-here").statusCode());
        }
    }

    @Test
    void demoAppliesTheIdleTimeout() throws Exception {
        try (Runner r = Runner.started("--idle-timeout", "200ms", "--ping-interval", "0")) {
            RecordingListener events = new RecordingListener();
            r.connect("/echo", events);
            events.assertClose(1001, "idle timeout");
        }
    }

    @Test
    void demoAppliesThePingInterval() throws Exception {
        try (Runner r = Runner.started("--ping-interval", "100ms")) {
            RecordingListener events = new RecordingListener();
            r.connect("/echo", events);
            events.assertPing();
        }
    }

    @Test
    void demoAppliesTheMessageSizeLimit() throws Exception {
        try (Runner r = Runner.started("--max-message-size", "8")) {
            RecordingListener events = new RecordingListener();
            WebSocket ws = r.connect("/echo", events);
            ws.sendText("12345678", true).get(5, TimeUnit.SECONDS);
            events.assertText("12345678");
            ws.sendText("123456789", true).get(5, TimeUnit.SECONDS);
            RecordingListener.Event e = events.nextData();
            assertEquals(1009, ((RecordingListener.Close) e).code(), e::toString);
        }
    }

    @Test
    void routesToTheBackendOfEachRouteWithTemplateParameters() throws Exception {
        try (TestBackend backend = new TestBackend();
                Runner r = Runner.started("--route", "/rooms/{room}=" + backend.url("/any/chat/{room}"),
                        "--route=/api/*=" + backend.url("/any/v1"))) {
            assertTrue(r.out.contains("route /rooms/{room} -> " + backend.url("/any/chat/{room}")), r.out);

            RecordingListener room = new RecordingListener();
            WebSocket ws = r.connect("/rooms/blue?x=1", room);
            assertUpgrade(backend.nextUpgrade(), "/any/chat/blue", "x=1", null);
            ws.sendText("ping", true).get(5, TimeUnit.SECONDS);
            room.assertText("ping");

            r.connect("/api/orders/42", new RecordingListener());
            assertUpgrade(backend.nextUpgrade(), "/any/v1/orders/42", null, null);

            assertEquals(404, r.refusal("/elsewhere", Map.of()));
            assertEquals(404, r.get("/").statusCode());
        }
    }

    @Test
    void answers504WhenTheBackendDoesNotAnswerWithinTheConnectTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                Runner r = Runner.started("--connect-timeout", "200ms",
                        "--route", "/slow=ws://127.0.0.1:" + silent.getLocalPort() + "/")) {
            assertEquals(504, r.refusal("/slow", Map.of()));
        }
    }

    @Test
    void requiresAnApiKeyInTheHeaderOrQueryWhenKeysAreGiven() throws Exception {
        try (TestBackend backend = new TestBackend();
                Runner r = Runner.started("--route", "/echo=" + backend.url("/echo"),
                        "--api-key", "first-key", "--api-key", "second-key")) {
            assertEquals(401, r.refusal("/echo", Map.of()));
            assertEquals(401, r.refusal("/echo", Map.of("X-API-Key", "wrong")));

            r.connect("/echo", new RecordingListener(), Map.of("X-API-Key", "second-key"));
            assertUpgrade(backend.nextUpgrade(), "/echo", null, "key-2");

            r.connect("/echo?api_key=first-key", new RecordingListener());
            assertUpgrade(backend.nextUpgrade(), "/echo", null, "key-1");
        }
    }

    @Test
    void refusesEveryHandshakeFromAnAddressThatUsedUpItsAuthFailureLimit() throws Exception {
        try (TestBackend backend = new TestBackend();
                Runner r = Runner.started("--route", "/echo=" + backend.url("/echo"), "--api-key", "k",
                        "--auth-failure-limit", "1")) {
            assertEquals(401, r.refusal("/echo", Map.of()), "a missing key does not count");
            assertEquals(401, r.refusal("/echo", Map.of("X-API-Key", "wrong")));

            assertEquals(429, r.refusal("/echo", Map.of("X-API-Key", "k")), "the address cools down for a minute");
        }
    }

    @Test
    void demoRequiresTheApiKeyOnEveryRoute() throws Exception {
        try (Runner r = Runner.started("--api-key", "k")) {
            assertEquals(401, r.refusal("/echo", Map.of()));
            assertEquals(401, r.refusal("/chat/lobby", Map.of()));
            assertEquals(401, r.refusal("/rooms", Map.of()));
            RecordingListener events = new RecordingListener();
            WebSocket ws = r.connect("/chat/lobby?api_key=k", events);
            ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
            events.assertText("hi");
            assertTrue(r.out.contains("/?api_key=YOUR_KEY in two browser tabs"), r.out);
        }
    }

    @Test
    void admitsOnlyAllowedOrigins() throws Exception {
        try (Runner r = Runner.started("--allow-origin", "https://app.example.com",
                "--allow-origin", "http://localhost:3000")) {
            assertEquals(403, r.refusal("/echo", Map.of("Origin", "https://evil.example.com")));
            assertEquals(403, r.refusal("/chat/lobby", Map.of("Origin", "http://localhost:3001")));
            assertEquals(403, r.refusal("/echo", Map.of("Origin", "null")));
            RecordingListener events = new RecordingListener();
            WebSocket ws = r.connect("/echo", events, Map.of("Origin", "https://app.example.com"));
            ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
            events.assertText("hi");
        }
    }

    @Test
    void requiresAJwtSignedWithTheSecretFromAnyCredentialSource() throws Exception {
        try (TestBackend backend = new TestBackend();
                Runner r = Runner.started("--route", "/echo=" + backend.url("/echo"), "--jwt-hs256-secret", SECRET,
                        "--jwt-issuer", "https://login.example.com", "--jwt-audience", "chat")) {
            Instant later = Instant.now().plusSeconds(600);
            String token = Jwts.hs256(SECRET, "alice", "https://login.example.com", "chat", later);
            assertEquals("", r.err);
            assertEquals(401, r.refusal("/echo", Map.of()));
            assertEquals(401, r.refusal("/echo", Map.of("Authorization", "Bearer "
                    + Jwts.hs256("another secret, just as long as it", "alice", "https://login.example.com", "chat", later))));
            assertEquals(401, r.refusal("/echo", Map.of("Authorization", "Bearer "
                    + Jwts.hs256(SECRET, "alice", "https://evil.example.com", "chat", later))));
            assertEquals(401, r.refusal("/echo", Map.of("Authorization", "Bearer "
                    + Jwts.hs256(SECRET, "alice", "https://login.example.com", "other", later))));

            r.connect("/echo", new RecordingListener(), Map.of("Authorization", "Bearer " + token));
            assertUpgrade(backend.nextUpgrade(), "/echo", null, null);

            r.connect("/echo?access_token=" + token + "&x=1", new RecordingListener());
            assertUpgrade(backend.nextUpgrade(), "/echo", "x=1", null);

            WebSocket ws = Runner.HTTP.newWebSocketBuilder().subprotocols("bearer", "bearer." + token)
                    .buildAsync(r.ws("/echo"), new RecordingListener()).get(5, TimeUnit.SECONDS);
            try {
                assertEquals("bearer", ws.getSubprotocol());
                assertUpgrade(backend.nextUpgrade(), "/echo", null, null);
            } finally {
                ws.abort();
            }
        }
    }

    @Test
    void closesWith1008WhenTheJwtExpires() throws Exception {
        try (Runner r = Runner.started("--jwt-hs256-secret", SECRET)) {
            String token = Jwts.hs256(SECRET, "bob", "any", "any", Instant.now().plusSeconds(2));
            RecordingListener events = new RecordingListener();
            r.connect("/chat/lobby?access_token=" + token, events);
            assertTrue(r.out.contains("/?access_token=YOUR_JWT in two browser tabs"), r.out);
            events.assertClose(1008, "credential expired");
        }
    }

    @Test
    void acceptsEitherAnApiKeyOrAJwtWhenBothAreRequired() throws Exception {
        try (TestBackend backend = new TestBackend();
                Runner r = Runner.started("--route", "/echo=" + backend.url("/echo"), "--api-key", "k1",
                        "--jwt-hs256-secret", SECRET)) {
            assertEquals(401, r.refusal("/echo", Map.of()));
            assertEquals(401, r.refusal("/echo", Map.of("X-API-Key", "wrong")));
            r.connect("/echo", new RecordingListener(), Map.of("X-API-Key", "k1"));
            assertUpgrade(backend.nextUpgrade(), "/echo", null, "key-1");
            r.connect("/echo", new RecordingListener(), Map.of("Authorization",
                    "Bearer " + Jwts.hs256(SECRET, "carol", "any", "any", Instant.now().plusSeconds(600))));
            assertUpgrade(backend.nextUpgrade(), "/echo", null, null);
        }
    }

    @Test
    void warnsAboutAShortJwtSecretButRuns() throws Exception {
        try (Runner r = Runner.started("--jwt-hs256-secret", "short")) {
            assertEquals(List.of("warning: --jwt-hs256-secret: a 5-byte secret is weak for HS256 (use at least 32 bytes)"),
                    r.errLines());
            RecordingListener events = new RecordingListener();
            WebSocket ws = r.connect("/echo", events, Map.of("Authorization",
                    "Bearer " + Jwts.hs256("short", "dave", "any", "any", Instant.now().plusSeconds(600))));
            ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
            events.assertText("hi");
        }
    }

    @Test
    void exitsWith1AndOneLineWhenThePortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
                Runner r = Runner.launch("--host", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort()))) {
            assertEquals(new Standalone.Exit(1), r.launch);
            assertEquals(1, r.errLines().size(), r.err);
            assertTrue(r.err.startsWith("error: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": "), r.err);
            assertEquals("", r.out);
        }
    }

    @Test
    void closingDrainsClientsWithServiceRestart() throws Exception {
        Runner r = Runner.started();
        try (r) {
            RecordingListener events = new RecordingListener();
            r.connect("/echo", events);
            ((Standalone.Started) r.launch).server().close();
            events.assertClose(1012, "service restart");
        }
    }
}
