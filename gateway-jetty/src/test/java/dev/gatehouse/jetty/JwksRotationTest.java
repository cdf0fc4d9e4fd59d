package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.JwtAuthenticator;

/** A JWKS endpoint served by Jetty, and a key rotation while connections are open. */
class JwksRotationTest {

    @RegisterExtension
    final Servers servers = new Servers();

    private static String token(RSAKey key, String subject) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder().subject(subject).expirationTime(Date.from(Instant.now().plusSeconds(300))).build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    @Test
    void newKeysAreFetchedOnRotationAndOpenConnectionsStayOpen() throws Exception {
        RSAKey first = new RSAKeyGenerator(2048).keyID("2026-11").generate();
        RSAKey second = new RSAKeyGenerator(2048).keyID("2026-12").generate();
        AtomicReference<String> published = new AtomicReference<>(new JWKSet(first.toPublicJWK()).toString());
        AtomicInteger fetches = new AtomicInteger();
        Server keys = new Server();
        ServerConnector connector = new ServerConnector(keys);
        connector.setHost("127.0.0.1");
        keys.addConnector(connector);
        keys.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                fetches.incrementAndGet();
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                Content.Sink.write(response, true, published.get(), callback);
                return true;
            }
        });
        servers.closeAfter(keys::stop);
        keys.start();
        HttpClient http = HttpClient.newHttpClient();
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.builder("/echo").backend(Backend.of(servers.backend().uri("/echo")))
                        .authenticator(JwtAuthenticator.builder()
                                .jwksUri(URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/jwks.json"))
                                .algorithms("RS256").jwksRefreshInterval(Duration.ofMillis(1)).build())
                        .build())
                .build());
        RecordingListener before = new RecordingListener();
        WebSocket old = http.newWebSocketBuilder().header("Authorization", "Bearer " + token(first, "old"))
                .buildAsync(gw.uri("/echo"), before).get(5, TimeUnit.SECONDS);

        published.set(new JWKSet(List.of(second.toPublicJWK())).toString());
        RecordingListener after = new RecordingListener();
        WebSocket rotated = http.newWebSocketBuilder().header("Authorization", "Bearer " + token(second, "new"))
                .buildAsync(gw.uri("/echo"), after).get(5, TimeUnit.SECONDS);
        assertEquals(2, fetches.get(), "the unknown kid fetched the keys again, once");

        old.sendText("still open", true).get(5, TimeUnit.SECONDS);
        before.assertText("still open");
        rotated.sendText("rotated", true).get(5, TimeUnit.SECONDS);
        after.assertText("rotated");
        assertEquals(401, RawHttp.upgrade(gw.httpUri("/echo"), "Authorization: Bearer " + token(first, "late")).status(),
                "a retired key no longer admits new connections");
    }
}
