package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.auth.JwtAuthenticator;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/** Drives every credential path, accepted and refused, and checks that no log line carries a secret. */
class SecretsAreNeverLoggedTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String API_KEY = "ak_live_Zq81Kd03mVx7";
    private static final String WRONG_KEY = "ak_live_WRONGwrong42";
    private static final byte[] SECRET = "jwt-secret-that-is-32-bytes-long".getBytes(StandardCharsets.UTF_8);
    @RegisterExtension
    final Servers servers = new Servers();

    private static String token(Instant expiry) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256),
                new JWTClaimsSet.Builder().subject("alice").expirationTime(Date.from(expiry)).build());
        jwt.sign(new MACSigner(SECRET));
        return jwt.serialize();
    }

    @Test
    void noCredentialAppearsInAnyLogLine() throws Exception {
        String valid = token(Instant.now().plusSeconds(60));
        String expiring = token(Instant.now().plusSeconds(1));
        String expired = token(Instant.now().minusSeconds(3600));
        String forged = valid.substring(0, valid.lastIndexOf('.') + 1) + "c2lnbmF0dXJlLWZvcmdlZC1ieS1tYWxsb3J5";
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Authenticator keyOrToken = Authenticator.firstOf(ApiKeyAuthenticator.of(API_KEY, "mobile"),
                JwtAuthenticator.builder().secret(SECRET).algorithms("HS256").build());
        RecordingLogProvider.clear();
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.builder("/echo").authenticator(keyOrToken)
                        .backend(Backend.of(servers.backend().uri("/echo"))).build())
                .route(Route.builder("/down").authenticator(keyOrToken)
                        .backend(Backend.of("ws://127.0.0.1:" + closedPort + "/x")).build())
                .build());
        // accepted: key in header and query, token in header, query and subprotocol
        open(HTTP.newWebSocketBuilder().header("X-API-Key", API_KEY), gw.uri("/echo"));
        open(HTTP.newWebSocketBuilder(), URI.create(gw.uri("/echo") + "?api_key=" + API_KEY));
        open(HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + valid), gw.uri("/echo"));
        open(HTTP.newWebSocketBuilder(), URI.create(gw.uri("/echo") + "?access_token=" + valid));
        open(HTTP.newWebSocketBuilder().subprotocols("bearer", "bearer." + valid), gw.uri("/echo"));
        // refused: wrong key, expired and forged tokens, everywhere
        assertEquals(401, RawHttp.upgrade(gw.httpUri("/echo"), "X-API-Key: " + WRONG_KEY).status());
        assertEquals(401, RawHttp.upgrade(URI.create(gw.httpUri("/echo") + "?api_key=" + WRONG_KEY)).status());
        assertEquals(401, RawHttp.upgrade(gw.httpUri("/echo"), "Authorization: Bearer " + expired).status());
        assertEquals(401, RawHttp.upgrade(URI.create(gw.httpUri("/echo") + "?access_token=" + forged)).status());
        assertEquals(401, RawHttp.upgrade(gw.httpUri("/echo"), "Sec-WebSocket-Protocol: bearer, bearer." + forged).status());
        // a backend failure with the credential in the query, and a connection closed at the token's expiry
        assertEquals(502, RawHttp.upgrade(URI.create(gw.httpUri("/down") + "?access_token=" + valid)).status());
        RecordingListener events = new RecordingListener();
        HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + expiring)
                .buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);
        events.assertClose(1008, "credential expired");
        servers.stopAll(); // what stopping logs is checked too

        List<String> lines = RecordingLogProvider.lines();
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"status\":401")), "the rejections were logged");
        List<String> access = lines.stream().filter(l -> l.contains(" dev.gatehouse.access ")).toList();
        assertEquals(5 + 5 + 1 + 1, access.size(), access.toString()); // sessions, refusals, the 502, the expiry
        for (String line : access) {
            // every access line is one JSON object, after the logger's prefix
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(line.substring(line.indexOf(" - {") + 3));
        }
        for (String secret : List.of(API_KEY, WRONG_KEY, valid, expiring, expired, forged, signature(valid),
                signature(expiring), signature(expired), signature(forged), new String(SECRET, StandardCharsets.UTF_8))) {
            for (String line : lines) {
                assertFalse(line.contains(secret), () -> "a secret was logged: " + line);
            }
        }
    }

    private static void open(WebSocket.Builder builder, URI uri) throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = builder.buildAsync(uri, events).get(5, TimeUnit.SECONDS);
        ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
        events.assertText("hi");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    /** The signature part of a JWT: what makes it a credential. */
    private static String signature(String jwt) {
        return jwt.substring(jwt.lastIndexOf('.') + 1);
    }
}
