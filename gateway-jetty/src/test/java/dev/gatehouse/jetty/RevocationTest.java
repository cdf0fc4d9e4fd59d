package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.policy.RevocationPolicy;

/** Revocation: open connections of a principal closed through the registry, reconnects refused. */
class RevocationTest {

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
}
