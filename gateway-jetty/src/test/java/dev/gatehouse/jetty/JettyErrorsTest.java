package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.jetty.server.HttpConnectionFactory;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/**
 * {@link JettyGateway#errorHandler()} on a server that hides its version: what Jetty refuses before the
 * gateway sees it gets the gateway's JSON body and an access-log line.
 */
class JettyErrorsTest {

    private static final Pattern BODY = Pattern.compile(
            "\\{\"error\":\"([a-z_]+)\",\"message\":\"[^\"]+\",\"requestId\":\"([A-Za-z0-9_-]{22})\"}");

    @RegisterExtension
    final Servers servers = new Servers();

    private GatewayServer start(Mount mount) throws Exception {
        Gateway gateway = Gateway.builder().route(Route.of("/echo", Backend.of(servers.backend().uri("/echo")))).build();
        return servers.start(gateway, mount, connector -> {
            connector.getConnectionFactory(HttpConnectionFactory.class).getHttpConfiguration()
                    .setSendServerVersion(false);
            connector.getServer().setErrorHandler(JettyGateway.errorHandler());
        });
    }

    /** Checks the JSON answer and its access-log line. */
    private static void assertAnswered(RawHttp.Response r, int status, String error) {
        assertEquals(status, r.status(), r.body());
        assertEquals("application/json", r.header("content-type"));
        assertEquals("no-store", r.header("cache-control"));
        assertNull(r.header("server"));
        assertFalse(r.body().contains("Jetty"), r.body());
        Matcher m = BODY.matcher(r.body());
        assertTrue(m.matches(), r.body());
        assertEquals(error, m.group(1));
        String id = "\"requestId\":\"" + m.group(2) + "\"";
        List<String> lines = RecordingLogProvider.lines().stream()
                .filter(l -> l.contains("dev.gatehouse.access") && l.contains(id)).toList();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("\"route\":null") && lines.get(0).contains("\"status\":" + status + ",\"kind\":\"" + error + "\""),
                lines.get(0));
    }

    private static String request(GatewayServer gw, String target, String... headers) {
        StringBuilder sb = new StringBuilder("GET ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1:")
                .append(gw.httpUri("/").getPort()).append("\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersAHeaderBlockJettyFindsTooLargeWith431Json(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RawHttp.Response r = RawHttp.exchange(gw.httpUri("/"), request(gw, "/echo", "X-Big: " + "x".repeat(9000)));
        assertAnswered(r, 431, "request_headers_too_large");
        assertTrue(servers.backend().upgrades.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersARequestLineJettyFindsTooLongWith414Json(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RawHttp.Response r = RawHttp.exchange(gw.httpUri("/"), request(gw, "/echo?q=" + "x".repeat(9000)));
        assertAnswered(r, 414, "uri_too_long");
        assertFalse(RecordingLogProvider.lines().stream().anyMatch(l -> l.contains("q=xxx")), "the query was logged");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersARequestJettysParserRefusesWith400Json(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RawHttp.Response r = RawHttp.exchange(gw.httpUri("/"), request(gw, "/echo", "Bad Header"));
        assertAnswered(r, 400, "bad_request");
        assertTrue(r.body().contains("\"message\":\"the request is malformed\""), r.body());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersAWebSocketUpgradeWithoutConnectionHeaderWith426Json(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RawHttp.Response r = RawHttp.exchange(gw.httpUri("/"), request(gw, "/echo", "Upgrade: websocket",
                "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="));
        assertAnswered(r, 426, "upgrade_required");
        assertEquals("websocket", r.header("upgrade"));
        assertEquals("13", r.header("sec-websocket-version"));
        assertTrue(r.body().contains("\"message\":\"the upgrade request has no Connection: Upgrade\""), r.body());
        assertTrue(servers.backend().upgrades.isEmpty());
    }
}
