package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.JwtAuthenticator;
import dev.gatehouse.jetty.GatewayServer.Mount;

/** JWT authentication through a real gateway: credential sources, identity headers, expiry. */
class JwtTest {

    private static final byte[] SECRET = "a-256-bit-secret-for-the-tests!!".getBytes(StandardCharsets.UTF_8);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final Servers servers = new Servers();
    private TestBackend backend;

    @BeforeEach
    void useTheBackend() {
        backend = servers.backend();
    }

    private GatewayServer start(Mount mount) throws Exception {
        JwtAuthenticator jwt = JwtAuthenticator.builder().secret(SECRET).algorithms("HS256").build();
        return servers.start(Gateway.builder()
                .route(Route.builder("/echo").authenticator(jwt).backend(Backend.of(backend.uri("/echo"))).build())
                .route(Route.builder("/proto").authenticator(jwt).backend(Backend.of(backend.uri("/proto"))).build())
                .build(), mount);
    }

    private static String token(String subject, Instant expiry) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256),
                new JWTClaimsSet.Builder().subject(subject).expirationTime(Date.from(expiry)).build());
        jwt.sign(new MACSigner(SECRET));
        return jwt.serialize();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void admitsABearerTokenAndForwardsTheSubjectNotTheToken(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        WebSocket ws = HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + token("alice", Instant.now().plusSeconds(60)))
                .buildAsync(gw.uri("/echo"), new RecordingListener()).get(5, TimeUnit.SECONDS);
        TestBackend.Upgrade up = backend.nextUpgrade();
        assertEquals("alice", up.header("X-Gatehouse-Subject"));
        assertNull(up.header("Authorization"));
        ws.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void forwardsTheCredentialWhenTheRouteAsks(Mount mount) throws Exception {
        JwtAuthenticator jwt = JwtAuthenticator.builder().secret(SECRET).algorithms("HS256").build();
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.builder("/echo").authenticator(jwt).forwardCredentials(true)
                        .backend(Backend.of(backend.uri("/echo"))).build())
                .build(), mount);
        String header = token("gina", Instant.now().plusSeconds(60));
        String query = token("hank", Instant.now().plusSeconds(60));
        WebSocket byHeader = HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + header)
                .buildAsync(gw.uri("/echo"), new RecordingListener()).get(5, TimeUnit.SECONDS);
        TestBackend.Upgrade up = backend.nextUpgrade();
        assertEquals("Bearer " + header, up.header("Authorization"));
        assertEquals("gina", up.header("X-Gatehouse-Subject"));
        byHeader.abort();
        WebSocket byQuery = HTTP.newWebSocketBuilder()
                .buildAsync(URI.create(gw.uri("/echo") + "?access_token=" + query), new RecordingListener())
                .get(5, TimeUnit.SECONDS);
        assertEquals("access_token=" + query, backend.nextUpgrade().query());
        byQuery.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void admitsTheAccessTokenQueryParameterWithoutForwardingIt(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        String token = token("bob", Instant.now().plusSeconds(60));
        WebSocket ws = HTTP.newWebSocketBuilder()
                .buildAsync(URI.create(gw.uri("/echo") + "?room=7&access_token=" + token), new RecordingListener())
                .get(5, TimeUnit.SECONDS);
        assertEquals("room=7", backend.nextUpgrade().query());
        ws.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersTheBrowserSubprotocolPairWithBearerWhenTheBackendChoosesNone(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        String token = token("carol", Instant.now().plusSeconds(60));
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().subprotocols("bearer", "bearer." + token)
                .buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);
        assertEquals("bearer", ws.getSubprotocol());
        assertEquals(List.of(), backend.nextUpgrade().subprotocols());
        ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
        events.assertText("hi");
        ws.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersTheBrowserSubprotocolPairWithTheBackendsRealChoice(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        String token = token("dave", Instant.now().plusSeconds(60));
        WebSocket ws = HTTP.newWebSocketBuilder().subprotocols("mqtt", "bearer", "bearer." + token)
                .buildAsync(gw.uri("/proto"), new RecordingListener()).get(5, TimeUnit.SECONDS);
        assertEquals("mqtt", ws.getSubprotocol());
        assertEquals(List.of("mqtt"), backend.nextUpgrade().subprotocols());
        ws.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void rejectsAnExpiredTokenWith401AndAChallenge(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"),
                "Authorization: Bearer " + token("eve", Instant.now().minusSeconds(3600)));
        assertEquals(401, r.status());
        assertEquals("Bearer error=\"invalid_token\"", r.header("www-authenticate"));
        assertTrue(r.body().contains("\"message\":\"the token has expired\""), r.body());
        assertTrue(backend.upgrades.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesTheConnectionWith1008WhenTheTokenExpires(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + token("frank", Instant.now().plusSeconds(2)))
                .buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);
        events.assertClose(1008, "credential expired");
        assertEquals(new TestBackend.Closed(1001, ""), backend.nextClose());
    }
}
