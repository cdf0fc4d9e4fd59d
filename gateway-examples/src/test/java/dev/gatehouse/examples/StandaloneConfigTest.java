package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Gateway;
import dev.gatehouse.OverflowAction;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.jetty.IntegrationServer;
import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.jetty.TestBackend;

/** The runner started from a config file, alone and with flags. */
class StandaloneConfigTest {

    private static final String SECRET = "a-256-bit-secret-for-the-tests!!";
    private static final Map<String, String> APP = Map.of("Origin", "https://app.example.com");

    @TempDir
    Path dir;

    private String write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file.toString();
    }

    private static Map<String, String> app(String header, String value) {
        return Map.of("Origin", "https://app.example.com", header, value);
    }

    private static String yaml(TestBackend backend) {
        return """
                # the runner of the tests: loopback, a free port
                host: 127.0.0.1
                port: 0
                settings:
                  idleTimeout: 10m
                  pingInterval: 30s
                  connectTimeout: 2s
                  maxMessageSize: 8
                  maxLifetime: 0
                requestTimeout: 5s
                authFailureLimit: 100
                auth:
                  apiKeys: [key-one, key-two]
                  jwt: {hs256Secret: "%s", issuer: "https://login.example.com", audience: chat}
                allowOrigins: [https://app.example.com]
                routes:
                  - path: /rooms/{room}
                    backend: %s
                  - path: /open
                    backend: %s
                    auth: none
                    settings: {maxMessageSize: 64k}
                  - path: /own
                    backend: %s
                    auth:
                      apiKeys: [own-key]
                """.formatted(SECRET, backend.url("/any/chat/{room}"), backend.url("/any/open"), backend.url("/any/own"));
    }

    private static String json(TestBackend backend) {
        // Tabs: JSON allows them where YAML does not, so this is read as JSON.
        return """
                {
                \t"host": "127.0.0.1",
                \t"port": 0,
                \t"settings": {"idleTimeout": "10m", "pingInterval": "30s", "connectTimeout": "2s",
                \t\t"maxMessageSize": 8, "maxLifetime": 0},
                \t"requestTimeout": "5s",
                \t"authFailureLimit": 100,
                \t"auth": {
                \t\t"apiKeys": ["key-one", "key-two"],
                \t\t"jwt": {"hs256Secret": "%s", "issuer": "https://login.example.com", "audience": "chat"}
                \t},
                \t"allowOrigins": ["https://app.example.com"],
                \t"routes": [
                \t\t{"path": "/rooms/{room}", "backend": "%s"},
                \t\t{"path": "/open", "backend": "%s", "auth": "none", "settings": {"maxMessageSize": "64k"}},
                \t\t{"path": "/own", "backend": "%s", "auth": {"apiKeys": ["own-key"]}}
                \t]
                }
                """.formatted(SECRET, backend.url("/any/chat/{room}"), backend.url("/any/open"), backend.url("/any/own"));
    }

    @Test
    void runsTheRoutesSettingsAuthAndOriginsOfAYamlFile() throws Exception {
        try (TestBackend backend = new TestBackend();
                Runner r = Runner.launch("--config", write("gatehouse.yaml", yaml(backend)))) {
            assertServesTheFile(r, backend);
        }
    }

    @Test
    void runsTheSameFileWrittenAsJson() throws Exception {
        try (TestBackend backend = new TestBackend();
                Runner r = Runner.launch("--config", write("gatehouse.json", json(backend)))) {
            assertServesTheFile(r, backend);
        }
    }

    private static void assertServesTheFile(Runner r, TestBackend backend) throws Exception {
        assertInstanceOf(Standalone.Started.class, r.launch, r.err);
        assertEquals("", r.err);
        assertTrue(r.out.startsWith("listening on ws://127.0.0.1:" + r.port() + "\n"), r.out);
        assertTrue(r.out.contains("route /rooms/{room} -> " + backend.url("/any/chat/{room}")), r.out);
        assertFalse(r.out.contains(SECRET) || r.out.contains("key-one"), r.out);

        // The gateway-wide auth: either API key, or the JWT; and the origin list.
        assertEquals(401, r.refusal("/rooms/blue", APP));
        assertEquals(403, r.refusal("/rooms/blue", Map.of("X-API-Key", "key-one", "Origin", "https://evil.example.com")));
        RecordingListener room = new RecordingListener();
        WebSocket ws = r.connect("/rooms/blue?x=1", room, app("X-API-Key", "key-two"));
        TestBackend.Upgrade up = backend.nextUpgrade();
        assertEquals("/any/chat/blue", up.path());
        assertEquals("key-2", up.header("X-Gatehouse-Consumer"));
        ws.sendText("12345678", true).get(5, TimeUnit.SECONDS);
        room.assertText("12345678");
        ws.sendText("123456789", true).get(5, TimeUnit.SECONDS);
        assertEquals(1009, ((RecordingListener.Close) room.nextData()).code(), "settings.maxMessageSize: 8");

        String token = Jwts.hs256(SECRET, "alice", "https://login.example.com", "chat", Instant.now().plusSeconds(600));
        r.connect("/rooms/red", new RecordingListener(), app("Authorization", "Bearer " + token));
        assertEquals("/any/chat/red", backend.nextUpgrade().path());

        // auth: none, and the route's own message size limit; the origin list still applies.
        assertEquals(403, r.refusal("/open", Map.of("Origin", "https://evil.example.com")));
        RecordingListener open = new RecordingListener();
        WebSocket anonymous = r.connect("/open", open, APP);
        assertNull(backend.nextUpgrade().header("X-Gatehouse-Consumer"));
        anonymous.sendText("123456789", true).get(5, TimeUnit.SECONDS);
        open.assertText("123456789");

        // The route's own keys, instead of the gateway-wide ones.
        assertEquals(401, r.refusal("/own", app("X-API-Key", "key-one")));
        r.connect("/own", new RecordingListener(), app("X-API-Key", "own-key"));
        assertEquals("key-1", backend.nextUpgrade().header("X-Gatehouse-Consumer"));
    }

    @Test
    void balancesATargetsRouteOverTwoBackends() throws Exception {
        try (TestBackend a = new TestBackend(); TestBackend b = new TestBackend()) {
            String file = write("group.yaml", """
                    host: 127.0.0.1
                    port: 0
                    routes:
                      - path: /feed
                        targets:
                          - %s
                          - {url: %s, weight: 1}
                        balance: round-robin
                        healthCheck: {kind: http, path: /health, interval: 200ms, timeout: 1s, fall: 2, rise: 1}
                        attempts: 2
                    """.formatted(a.url("/echo"), b.url("/echo")));
            try (Runner r = Runner.launch("--config", file)) {
                assertInstanceOf(Standalone.Started.class, r.launch, r.err);
                assertTrue(r.out.contains("route /feed -> [" + a.url("/echo") + ", " + b.url("/echo") + "] round-robin"), r.out);
                for (int i = 0; i < 4; i++) {
                    RecordingListener client = new RecordingListener();
                    WebSocket ws = r.connect("/feed", client, Map.of());
                    ws.sendText("hello " + i, true).get(5, TimeUnit.SECONDS);
                    client.assertText("hello " + i);
                }
                // Round robin: each target in turn, two connections each.
                for (TestBackend backend : List.of(a, b)) {
                    assertEquals("/echo", backend.nextUpgrade().path());
                    assertEquals("/echo", backend.nextUpgrade().path());
                }
            }
        }
    }

    @Test
    void servesAWebSocketApiRouteWithHttpIntegrations() throws Exception {
        try (IntegrationServer svc = new IntegrationServer()) {
            String file = write("api.yaml", """
                    host: 127.0.0.1
                    port: 0
                    auth:
                      apiKeys: [key-one]
                    routes:
                      - path: /api
                        integrations:
                          $connect: %s
                          sendmessage: %s
                          $default: %s
                          $disconnect: %s
                    """.formatted(svc.uri("/connect"), svc.uri("/messages"), svc.uri("/default"), svc.uri("/disconnect")));
            svc.answer("/connect", 200, "application/json", "{\"userId\":\"alice\"}");
            svc.answer("/messages", 200, "text/plain", "stored");
            svc.answer("/default", 204, null, "");
            svc.answer("/disconnect", 204, null, "");
            try (Runner r = Runner.launch("--config", file)) {
                assertInstanceOf(Standalone.Started.class, r.launch, r.err);
                assertTrue(r.out.contains("route /api -> WebSocket API"), r.out);
                assertEquals(401, r.refusal("/api", Map.of()));

                RecordingListener client = new RecordingListener();
                WebSocket ws = r.connect("/api", client, Map.of("X-API-Key", "key-one"));
                IntegrationServer.Call connect = svc.next("/connect");
                assertEquals("CONNECT", connect.header("X-Gatehouse-Event-Type"));
                assertEquals("key-1", connect.header("X-Gatehouse-Consumer"));
                assertFalse(connect.body().contains("key-one"), "the credential is removed: " + connect.body());

                ws.sendText("{\"action\":\"sendmessage\",\"data\":\"hi\"}", true).get(5, TimeUnit.SECONDS);
                client.assertText("stored");
                IntegrationServer.Call message = svc.next("/messages");
                assertEquals("sendmessage", message.header("X-Gatehouse-Route-Key"));
                assertTrue(message.body().contains("\"body\":\"{\\\"action\\\":\\\"sendmessage\\\",\\\"data\\\":\\\"hi\\\"}\""),
                        message.body());

                ws.sendText("ping", true).get(5, TimeUnit.SECONDS);
                assertEquals("$default", svc.next("/default").header("X-Gatehouse-Route-Key"));

                ws.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);
                client.assertClose(1000, "bye");
                assertTrue(svc.next("/disconnect").body().contains("\"disconnectStatusCode\":1000"));
            }
        }
    }

    @Test
    void flagsReplaceTheFilesTopLevelValues() throws IOException {
        String file = write("gw.yaml", """
                port: 9000
                host: 0.0.0.0
                settings: {idleTimeout: 10m, pingInterval: 20s, connectTimeout: 5s, maxMessageSize: 1m}
                requestTimeout: 5s
                authFailureLimit: 10
                """);
        RunnerOptions o = RunnerOptions.parse(List.of("--config", file, "--port", "0", "--host", "127.0.0.1",
                "--idle-timeout", "1m", "--max-message-size", "2k", "--request-timeout", "1s", "--auth-failure-limit", "3"));
        assertEquals(0, o.port());
        assertEquals("127.0.0.1", o.host().orElseThrow());
        assertEquals(Duration.ofMinutes(1), o.settings().idleTimeout());
        assertEquals(2048, o.settings().maxClientMessageSize());
        assertEquals(Duration.ofSeconds(1), o.requestTimeout());
        assertEquals(AuthFailureLimit.of(3, Duration.ofMinutes(1)), o.authFailureLimit());
        // ...and keep the others.
        assertEquals(Duration.ofSeconds(20), o.settings().pingInterval());
        assertEquals(Duration.ofSeconds(5), o.settings().connectTimeout());

        RunnerOptions fileOnly = RunnerOptions.parse(List.of("--config", file));
        assertEquals(9000, fileOnly.port());
        assertEquals(AuthFailureLimit.of(10, Duration.ofMinutes(1)), fileOnly.authFailureLimit());
    }

    @Test
    void theLifetimeAndOverflowSettingsReachTheGatewayAndTheRoute() throws IOException {
        String file = write("gw.yaml", """
                settings: {maxLifetime: 2h, maxLifetimeJitter: 20%, lifetimeStatus: 1012, outboundOverflow: close}
                routes:
                  - path: /short
                    backend: ws://localhost:7000
                    settings: {maxLifetime: 5m}
                  - path: /other
                    backend: ws://localhost:7001
                """);
        RunnerOptions o = RunnerOptions.parse(List.of("--config", file));
        assertEquals(Duration.ofHours(2), o.settings().maxLifetime());
        assertEquals(0.2, o.settings().maxLifetimeJitter());
        assertEquals(1012, o.settings().lifetimeStatus().code());
        assertEquals(OverflowAction.CLOSE, o.settings().outboundOverflow());
        Settings route = o.routes().get(0).settings().orElseThrow();
        assertEquals(Duration.ofMinutes(5), route.maxLifetime());
        assertEquals(0.2, route.maxLifetimeJitter(), "the gateway-wide value");
        assertEquals(1012, route.lifetimeStatus().code(), "the gateway-wide value");
        assertTrue(o.routes().get(1).settings().isEmpty(), "the gateway's");
    }

    @Test
    void aRoutesOwnSettingsWinOverTheFlagsForThatRoute() throws IOException {
        String file = write("gw.yaml", """
                routes:
                  - path: /slow
                    backend: ws://localhost:7000
                    settings: {idleTimeout: 1h}
                  - path: /fast
                    backend: ws://localhost:7001
                """);
        RunnerOptions o = RunnerOptions.parse(List.of("--config", file, "--idle-timeout", "1m", "--ping-interval", "0"));
        Route slow = o.routes().get(0);
        assertEquals(Duration.ofHours(1), slow.settings().orElseThrow().idleTimeout());
        assertEquals(Duration.ZERO, slow.settings().orElseThrow().pingInterval(), "the flags' gateway-wide value");
        assertTrue(o.routes().get(1).settings().isEmpty(), "the gateway's");
        assertEquals(Duration.ofMinutes(1), o.settings().idleTimeout());
    }

    @Test
    void repeatableFlagsAddToTheFilesLists() throws IOException {
        String file = write("gw.yaml", """
                auth: {apiKeys: [file-key]}
                allowOrigins: [https://a.example.com]
                routes:
                  - path: /a
                    backend: ws://localhost:7000
                """);
        RunnerOptions o = RunnerOptions.parse(List.of("--config", file, "--route", "/b=ws://localhost:7001",
                "--api-key", "flag-key", "--allow-origin", "https://b.example.com"));
        assertEquals(List.of("/a", "/b"), o.routes().stream().map(Route::path).toList());
        assertEquals("ApiKeyAuthenticator[2 keys]", o.authenticator().orElseThrow().toString());
        assertEquals("OriginPolicy[https://a.example.com, https://b.example.com]", o.origins().orElseThrow().toString());
        for (Route route : o.routes()) {
            assertEquals(Optional.empty(), route.authenticator(), "the gateway's authenticates it");
            assertEquals(List.of(), route.policies(), "the gateway's run");
        }
        Gateway.Builder b = o.applyTo(Gateway.builder());
        o.routes().forEach(b::route);
        Gateway gateway = b.build();
        assertSame(o.authenticator().orElseThrow(), gateway.authenticator());
        assertEquals(List.of(o.origins().orElseThrow()), gateway.policies());
    }

    @Test
    void jwtFlagsReplaceTheFilesJwtValuesOneByOne() throws IOException {
        String file = write("gw.yaml", "auth:\n  jwt: {hs256Secret: \"" + SECRET + "\", issuer: https://old.example.com, "
                + "audience: chat}\n");
        String jwt = RunnerOptions.parse(List.of("--config", file, "--jwt-issuer", "https://new.example.com"))
                .authenticator().orElseThrow().toString();
        assertTrue(jwt.contains("https://new.example.com") && jwt.contains("chat"), jwt);
        assertFalse(jwt.contains("https://old.example.com"), jwt);

        String noSecret = write("no-secret.yaml", "auth:\n  jwt: {issuer: https://login.example.com}\n");
        RunnerOptions o = RunnerOptions.parse(List.of("--config", noSecret, "--jwt-hs256-secret", SECRET));
        assertTrue(o.jwtRequired());
        assertTrue(o.authenticator().orElseThrow().toString().contains("https://login.example.com"));
    }

    @Test
    void aRouteWithItsOwnAuthKeepsItWhateverTheCredentialFlags() throws IOException {
        String file = write("gw.yaml", """
                routes:
                  - path: /open
                    backend: ws://localhost:7000
                    auth: none
                  - path: /own
                    backend: ws://localhost:7001
                    auth: {apiKeys: [own-key]}
                  - path: /shared
                    backend: ws://localhost:7002
                """);
        RunnerOptions o = RunnerOptions.parse(List.of("--config", file, "--api-key", "k", "--jwt-hs256-secret", SECRET));
        Authenticator gatewayWide = o.authenticator().orElseThrow();
        assertSame(Authenticator.none(), o.routes().get(0).authenticator().orElseThrow());
        assertEquals("ApiKeyAuthenticator[1 keys]", o.routes().get(1).authenticator().orElseThrow().toString());
        assertEquals(Optional.empty(), o.routes().get(2).authenticator());
        assertSame(gatewayWide, o.applyTo(Gateway.builder()).route(o.routes().get(2)).build().authenticator());
    }

    @Test
    void namesTheRouteFlagWhenItsRouteConflictsWithOneOfTheFile() throws IOException {
        String file = write("gw.yaml", "routes:\n  - path: /a\n    backend: ws://localhost:7000\n");
        try (Runner r = Runner.launch("--config", file, "--route", "/a=ws://localhost:7001")) {
            assertEquals(new Standalone.Exit(2), r.launch);
            assertEquals(List.of("error: --route: routes: Route[/a] and Route[/a] match the same requests"), r.errLines());
        }
    }

    @Test
    void runsTheFileWithFlagsThatReplaceAndAdd() throws Exception {
        try (TestBackend backend = new TestBackend()) {
            String file = write("gw.yaml", """
                    port: 1
                    settings: {idleTimeout: 10m}
                    auth: {apiKeys: [file-key]}
                    routes:
                      - path: /file
                        backend: %s
                    """.formatted(backend.url("/any/file")));
            try (Runner r = Runner.started("--config", file, "--idle-timeout", "200ms", "--ping-interval", "0",
                    "--route", "/flag=" + backend.url("/any/flag"), "--api-key", "flag-key")) {
                assertTrue(r.port() > 1);
                assertTrue(r.out.contains("route /file -> " + backend.url("/any/file") + "\nroute /flag -> "), r.out);

                RecordingListener idle = new RecordingListener();
                r.connect("/file", idle, Map.of("X-API-Key", "flag-key"));
                assertEquals("key-2", backend.nextUpgrade().header("X-Gatehouse-Consumer"));
                idle.assertClose(1001, "idle timeout");

                r.connect("/flag", new RecordingListener(), Map.of("X-API-Key", "file-key"));
                TestBackend.Upgrade up = backend.nextUpgrade();
                assertEquals("/any/flag", up.path());
                assertEquals("key-1", up.header("X-Gatehouse-Consumer"));
            }
        }
    }
}
