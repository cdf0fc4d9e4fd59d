package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.internal.DefaultGateway;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/**
 * What an adversarial probe of the handshake path found: malformed request targets and keys, backends that
 * break the handshake after (or instead of) their 101, and the backend connections such dials left open.
 */
class HandshakeAbuseTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final Servers servers = new Servers();
    private TestBackend backend;

    @BeforeEach
    void useTheBackend() {
        backend = servers.backend();
        RecordingLogProvider.clear();
    }

    @AfterEach
    void logsNoStackTraceAboveDebug() {
        for (String line : RecordingLogProvider.lines()) {
            if (!line.contains(" DEBUG ") && !line.contains(" TRACE ")) {
                assertFalse(line.contains("\tat "), "a stack trace was logged: " + line);
            }
        }
    }

    private GatewayServer start(Mount mount, URI backendUri) throws Exception {
        return servers.start(Gateway.builder().route(Route.of("/echo", Backend.of(backendUri.toString()))).build(), mount);
    }

    private static void assertBadRequest(RawHttp.Response r, String message) {
        assertEquals(400, r.status(), r.body());
        assertEquals("application/json", r.header("content-type"));
        assertTrue(r.body().matches("\\{\"error\":\"bad_request\",\"message\":\"" + message
                + "\",\"requestId\":\"[A-Za-z0-9_-]{22}\"}"), r.body());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesMalformedPercentEscapesWith400BeforeDialling(Mount mount) throws Exception {
        GatewayServer gw = start(mount, backend.uri("/echo"));
        for (String query : List.of("x=%zz", "a=%2", "%zz", "x=%")) {
            assertBadRequest(RawHttp.upgradeTarget(gw.httpUri("/"), "/echo?" + query),
                    "the query string has a malformed percent-escape");
        }
        assertTrue(backend.upgrades.isEmpty(), "the backend was dialled");
        assertTrue(RecordingLogProvider.lines().stream()
                .anyMatch(l -> l.contains("\"status\":400,\"kind\":\"bad_request\"")), "no access-log line");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesEscapesThatAreNotUtf8With400BeforeDialling(Mount mount) throws Exception {
        GatewayServer gw = start(mount, backend.uri("/echo"));
        for (String query : List.of("x=%ff", "a=%ed%a0%80", "a=%c3")) {
            assertBadRequest(RawHttp.upgradeTarget(gw.httpUri("/"), "/echo?" + query),
                    "the query string has percent-escapes that are not UTF-8");
        }
        assertTrue(backend.upgrades.isEmpty(), "the backend was dialled");

        RawHttp.Response utf8 = RawHttp.upgrade(gw.httpUri("/echo?name=%C3%A9t%C3%A9&x=a+b"));
        assertEquals(101, utf8.status());
        assertEquals("name=%C3%A9t%C3%A9&x=a+b", backend.nextUpgrade().query());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesAMalformedOrDuplicatedSecWebSocketKeyWith400(Mount mount) throws Exception {
        GatewayServer gw = start(mount, backend.uri("/echo"));
        String[][] cases = {
            {"Sec-WebSocket-Key: not base64!!!!!!!!!!!!!"},
            {"Sec-WebSocket-Key: dGhlIHNhbXBsZQ=="},                       // 11 bytes
            {"Sec-WebSocket-Key: " + "QUJD".repeat(100)},                   // oversized
            {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="},                // a second one
        };
        for (String[] headers : cases) {
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"), headers);
            assertEquals(400, r.status(), headers[0]);
            assertTrue(r.body().contains("\"error\":\"bad_request\""), r.body());
        }
        assertTrue(backend.upgrades.isEmpty(), "the backend was dialled");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesSubprotocolOffersThatAreNotTokensWith400BeforeDialling(Mount mount) throws Exception {
        GatewayServer gw = start(mount, backend.uri("/echo"));

        assertBadRequest(RawHttp.upgrade(gw.httpUri("/echo"), "Sec-WebSocket-Protocol: \"abc"),
                "a Sec-WebSocket-Protocol offer is not a token");
        assertTrue(backend.upgrades.isEmpty(), "the backend was dialled");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesTheBackendConnectionAtOnceWhenItsAcceptHashIsWrong(Mount mount) throws Exception {
        try (RawBackend raw = new RawBackend(head -> "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Accept: d3Jvbmcgd3Jvbmcgd3Jvbmcgd3I=\r\n\r\n")) {
            GatewayServer gw = start(mount, raw.uri("/echo"));

            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"));

            assertEquals(502, r.status());
            assertTrue(r.body().contains("\"error\":\"bad_gateway\""), r.body());
            assertTrue(raw.nextEnded().closedByPeer(), "the gateway left the backend connection open");
            assertEquals(1, DefaultGateway.of(gw.gateway()).abandonedDials());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesTheBackendConnectionAtOnceWhenTheClientLeftDuringItsDial(Mount mount) throws Exception {
        backend.holdUpgrades(2); // the backend answers once a second upgrade waits too
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.of("/held", Backend.of(backend.uri("/held").toString()))).build(), mount);
        try (Socket leaver = new Socket("127.0.0.1", gw.httpUri("/").getPort())) {
            leaver.getOutputStream().write(("GET /held HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        } // gone before its backend answered

        RecordingListener events = new RecordingListener();
        WebSocket stayer = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/held"), events).get(5, TimeUnit.SECONDS);

        assertEquals(1001, backend.nextClose().code(), "the leaver's backend connection");
        stayer.sendText("still here", true).get(5, TimeUnit.SECONDS);
        events.assertText("still here");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers502NotTheBackendsFaultAsTheClientsWhenTheBackendAnswersGarbage(Mount mount) throws Exception {
        List<String> answers = List.of(
                "SSH-2.0-OpenSSH_9.2\r\n\r\n",
                "HTTP/1.1 101 Switching Protocols\r\nthis is not a header\r\n\r\n",
                "HTTP/1.1 503 Unavailable\r\n\u0001bad: header\r\n\r\n",
                "HTTP/1.1 403 Forbidden\r\nContent-Length: abc\r\n\r\n");
        for (String answer : answers) {
            try (RawBackend raw = new RawBackend(head -> answer)) {
                GatewayServer gw = start(mount, raw.uri("/echo"));

                RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"));

                assertEquals(502, r.status(), answer + " -> " + r.body());
                assertTrue(r.body().contains("\"error\":\"bad_gateway\",\"message\":\"the backend's answer is not "
                        + "a valid HTTP response\""), r.body());
                assertTrue(raw.nextEnded().closedByPeer(), "the gateway left the backend connection open");
            }
        }
    }
}
