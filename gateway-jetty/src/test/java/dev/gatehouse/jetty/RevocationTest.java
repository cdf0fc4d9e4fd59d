package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.auth.JwtAuthenticator;
import dev.gatehouse.policy.RevocationPolicy;

/** Revocation: open connections of a principal closed through the registry, reconnects refused. */
class RevocationTest {

    private static final String SECRET = "a-secret-of-at-least-thirty-two-bytes!!";

    @RegisterExtension
    final Servers servers = new Servers();

    @Test
    void revokingAPrincipalClosesItsConnectionsWith1008AndRefusesItsReconnects() throws Exception {
        Set<String> revoked = ConcurrentHashMap.newKeySet();
        HttpClient http = HttpClient.newHttpClient();
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.builder("/echo")
                        .authenticator(ApiKeyAuthenticator.builder().key("key-a", "tenant-a").key("key-b", "tenant-b").build())
                        .policy(RevocationPolicy.of(p -> revoked.contains(p.subject())))
                        .backend(Backend.of(servers.backend().uri("/echo"))).build())
                .build());
        RecordingListener a1 = new RecordingListener();
        RecordingListener a2 = new RecordingListener();
        RecordingListener b = new RecordingListener();
        http.newWebSocketBuilder().header("X-API-Key", "key-a").buildAsync(gw.uri("/echo"), a1).get(5, TimeUnit.SECONDS);
        http.newWebSocketBuilder().header("X-API-Key", "key-a").buildAsync(gw.uri("/echo"), a2).get(5, TimeUnit.SECONDS);
        var ws = http.newWebSocketBuilder().header("X-API-Key", "key-b").buildAsync(gw.uri("/echo"), b).get(5, TimeUnit.SECONDS);
        Await.until("three connections are open", () -> gw.gateway.connections().count() == 3);

        revoked.add("tenant-a");
        assertEquals(2, gw.gateway.connections().revoke("tenant-a").toCompletableFuture().join());

        a1.assertClose(1008, "revoked");
        a2.assertClose(1008, "revoked");
        assertEquals(401, RawHttp.upgrade(gw.httpUri("/echo"), "X-API-Key: key-a").status());
        ws.sendText("still here", true).get(5, TimeUnit.SECONDS);
        b.assertText("still here");
    }

    @Test
    void theGatewayRemembersARevocationAndRefusesOnlyCredentialsIssuedBeforeIt() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.builder("/echo")
                        .authenticator(JwtAuthenticator.builder().secret(SECRET).algorithms("HS256").build())
                        .backend(Backend.of(servers.backend().uri("/echo"))).build())
                .build());
        Instant now = Instant.now();
        String old = token("alice", now.minusSeconds(60), now.plusSeconds(600));
        RecordingListener open = new RecordingListener();
        http.newWebSocketBuilder().header("Authorization", "Bearer " + old).buildAsync(gw.uri("/echo"), open)
                .get(5, TimeUnit.SECONDS);
        Await.until("the connection is open", () -> gw.gateway.connections().count() == 1);

        assertEquals(1, gw.gateway.connections().revoke("alice", now.plusSeconds(600)).toCompletableFuture().join());

        open.assertClose(1008, "revoked");
        RawHttp.Response refused = RawHttp.upgrade(gw.httpUri("/echo"), "Authorization: Bearer " + old);
        assertEquals(401, refused.status());
        assertEquals("Bearer error=\"invalid_token\"", refused.header("WWW-Authenticate"));
        // A new login right after the revocation, most likely in its second: its iat (whole seconds) is not before it.
        String fresh = token("alice", Instant.now(), now.plusSeconds(600));
        assertEquals(101, RawHttp.upgrade(gw.httpUri("/echo"), "Authorization: Bearer " + fresh).status());
        String bob = token("bob", now.minusSeconds(60), now.plusSeconds(600));
        assertEquals(101, RawHttp.upgrade(gw.httpUri("/echo"), "Authorization: Bearer " + bob).status());
    }

    @Test
    void aRevocationWhoseEndHasPassedClosesButIsNotRemembered() throws Exception {
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.builder("/echo")
                        .authenticator(ApiKeyAuthenticator.builder().key("key-a", "tenant-a").build())
                        .backend(Backend.of(servers.backend().uri("/echo"))).build())
                .build());
        RecordingListener open = new RecordingListener();
        HttpClient.newHttpClient().newWebSocketBuilder().header("X-API-Key", "key-a").buildAsync(gw.uri("/echo"), open)
                .get(5, TimeUnit.SECONDS);
        Await.until("the connection is open", () -> gw.gateway.connections().count() == 1);

        assertEquals(1, gw.gateway.connections().revoke("tenant-a", Instant.now().minusSeconds(1))
                .toCompletableFuture().join());

        open.assertClose(1008, "revoked");
        assertEquals(101, RawHttp.upgrade(gw.httpUri("/echo"), "X-API-Key: key-a").status());
        gw.gateway.connections().revoke("tenant-a").toCompletableFuture().join();
        assertEquals(401, RawHttp.upgrade(gw.httpUri("/echo"), "X-API-Key: key-a").status(),
                "an API key has no issue time: refused for as long as the revocation is remembered");
    }

    @Test
    void aRevocationWhileTheBackendIsDialledRefusesTheClientWith401() throws Exception {
        CountDownLatch answer = new CountDownLatch(1);
        try (RawBackend slow = new RawBackend(head -> {
            try {
                answer.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return RawBackend.switching(head);
        })) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.builder("/slow")
                            .authenticator(ApiKeyAuthenticator.builder().key("key-a", "tenant-a").build())
                            .backend(Backend.of(slow.uri("/x"))).build())
                    .build());
            CompletableFuture<RawHttp.Response> upgrade = CompletableFuture.supplyAsync(() -> {
                try {
                    return RawHttp.upgrade(gw.httpUri("/slow"), "X-API-Key: key-a");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertTrue(slow.requests.poll(10, TimeUnit.SECONDS) != null, "the dial reached the backend");

            gw.gateway.connections().revoke("tenant-a").toCompletableFuture().get(5, TimeUnit.SECONDS);
            answer.countDown();

            RawHttp.Response refused = upgrade.get(10, TimeUnit.SECONDS);
            assertEquals(401, refused.status());
            assertEquals("Bearer error=\"invalid_token\"", refused.header("WWW-Authenticate"));
        }
    }

    private static String token(String subject, Instant issuedAt, Instant expiry) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder().subject(subject)
                .issueTime(Date.from(issuedAt)).expirationTime(Date.from(expiry)).build());
        jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
