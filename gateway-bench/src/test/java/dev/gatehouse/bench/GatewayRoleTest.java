package dev.gatehouse.bench;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The gateway role as the management scenarios use it: real child JVMs, driven by the JDK's clients. */
class GatewayRoleTest {

    private static final Duration START = Duration.ofSeconds(60);

    /** Queues the text messages it gets. */
    private static final class Texts implements WebSocket.Listener {
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            received.add(data.toString());
            ws.request(1);
            return null;
        }
    }

    private static HttpResponse<String> send(HttpClient http, HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Timeout(60)
    void servesTheManagementApiOnItsOwnConnectorBehindTheKeyItGotAndTellsConnectionsTheirIds(@TempDir Path logs)
            throws Exception {
        String key = ManagementClient.newKey();
        Path gatewayLog = logs.resolve("gateway.log");
        try (Child backend = Child.start("backend", List.of("-Xmx256m"), List.of("--port", "0"), logs.resolve("backend.log"),
                START);
                Child gateway = Child.start("gateway", List.of("-Xmx256m"),
                        List.of("--backend", "ws://127.0.0.1:" + backend.port(), "--port", "0"),
                        Map.of(GatewayRole.MANAGEMENT_KEY_ENV, key), gatewayLog, START)) {
            HttpClient http = HttpClient.newHttpClient();
            Texts texts = new Texts();
            WebSocket ws = http.newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + GatewayRole.PUSH_PATH), texts)
                    .get(5, SECONDS);
            ws.sendText("id", true);
            String id = texts.received.poll(5, SECONDS);
            assertNotNull(id, "the push route answers with the connection's id");

            URI api = URI.create("http://127.0.0.1:" + gateway.managementPort());
            URI info = api.resolve("/@connections/" + id);
            assertEquals(401, send(http, HttpRequest.newBuilder(info)).statusCode());
            assertEquals(401, send(http, HttpRequest.newBuilder(info).header(ManagementClient.KEY_HEADER, "wrong")).statusCode());
            HttpResponse<String> known = send(http, HttpRequest.newBuilder(info).header(ManagementClient.KEY_HEADER, key));
            assertEquals(200, known.statusCode(), known.body());
            assertTrue(known.body().contains("\"route\":\"" + GatewayRole.PUSH_PATH + "\""), known.body());

            HttpResponse<String> sent = send(http, HttpRequest.newBuilder(info).header(ManagementClient.KEY_HEADER, key)
                    .header("Content-Type", "text/plain; charset=utf-8").POST(HttpRequest.BodyPublishers.ofString("pushed")));
            assertEquals(200, sent.statusCode(), sent.body());
            assertEquals("pushed", texts.received.poll(5, SECONDS));

            // The gateway's own connector never reaches the API.
            URI wrongPort = URI.create("http://127.0.0.1:" + gateway.port() + "/@connections/" + id);
            assertNotEquals(200, send(http, HttpRequest.newBuilder(wrongPort).header(ManagementClient.KEY_HEADER, key))
                    .statusCode());
            ws.sendClose(1000, "done").get(5, SECONDS);
        }
        String log = Files.readString(gatewayLog, StandardCharsets.UTF_8);
        assertTrue(log.contains("gateway: management API on 127.0.0.1:"), log);
        assertFalse(log.contains(key), "the key is never logged");
    }

    @Test
    void configuresItsClusterMemberOnLoopbackOnly() {
        var config = GatewayRole.clusterConfig("c1", 5801);
        assertEquals("c1", config.getClusterName());
        assertEquals("false", config.getProperty("hazelcast.phone.home.enabled"));
        assertEquals(5801, config.getNetworkConfig().getPort());
        assertEquals(10, config.getNetworkConfig().getPortCount());
        assertEquals(List.of("127.0.0.1"), List.copyOf(config.getNetworkConfig().getInterfaces().getInterfaces()));
        var join = config.getNetworkConfig().getJoin();
        assertFalse(join.getMulticastConfig().isEnabled());
        assertFalse(join.getAutoDetectionConfig().isEnabled());
        assertTrue(join.getTcpIpConfig().isEnabled());
        assertEquals(List.of("127.0.0.1"), join.getTcpIpConfig().getMembers());
    }

    @Test
    @Timeout(60)
    void addsARateLimitedRouteWhoseBucketHoldsTheBurstItWasGiven(@TempDir Path logs) throws Exception {
        Path gatewayLog = logs.resolve("gateway.log");
        try (Child backend = Child.start("backend", List.of("-Xmx256m"), List.of("--port", "0"), logs.resolve("backend.log"),
                START);
                Child gateway = Child.start("gateway", List.of("-Xmx256m"),
                        List.of("--backend", "ws://127.0.0.1:" + backend.port(), "--port", "0", "--shared-rate-limit", "1"),
                        Map.of(), gatewayLog, START)) {
            HttpClient http = HttpClient.newHttpClient();
            URI limited = URI.create("ws://127.0.0.1:" + gateway.port() + GatewayRole.RATE_LIMITED_PATH);
            WebSocket first = http.newWebSocketBuilder().buildAsync(limited, new Texts()).get(5, SECONDS);
            first.sendClose(1000, "done").get(5, SECONDS);
            // A burst of 1 at 1 a second: the next handshake of the same principal (anonymous: the address) is refused.
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> http.newWebSocketBuilder().buildAsync(limited, new Texts()).get(5, SECONDS));
            WebSocketHandshakeException handshake = assertInstanceOf(WebSocketHandshakeException.class, refused.getCause());
            assertEquals(429, handshake.getResponse().statusCode());
            // The route without the rate limit is still open.
            WebSocket open = http.newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + "/echo"), new Texts()).get(5, SECONDS);
            open.sendClose(1000, "done").get(5, SECONDS);
        }
        String log = Files.readString(gatewayLog, StandardCharsets.UTF_8);
        assertTrue(log.contains("gateway: " + GatewayRole.RATE_LIMITED_PATH + " with RateLimitPolicy[bench-rate: 1 per PT1S"),
                log);
        assertTrue(log.contains("burst 1] in memory"), log);
    }

    @Test
    void refusesARateLimitThatIsNotPositive() {
        assertEquals("--shared-rate-limit: 0 (expected: >= 1)", assertThrows(UsageException.class,
                () -> GatewayRole.main(new String[] {"--backend", "ws://127.0.0.1:1", "--shared-rate-limit", "0"}))
                .getMessage());
        assertEquals("--shared-rate-limit: many (expected: an integer)", assertThrows(UsageException.class,
                () -> GatewayRole.main(new String[] {"--backend", "ws://127.0.0.1:1", "--shared-rate-limit", "many"}))
                .getMessage());
        assertEquals("--shared-rate-limit: missing value", assertThrows(UsageException.class,
                () -> GatewayRole.main(new String[] {"--backend", "ws://127.0.0.1:1", "--shared-rate-limit"}))
                .getMessage());
    }

    @Test
    void limitsTheRateOfEachPrincipalInTheStoreItIsGiven() {
        assertEquals("RateLimitPolicy[bench-rate: 1000000 per PT1S per principal, burst 1000000]",
                GatewayRole.rateLimit(Scenario.SHARED_RATE, null).toString());
        var store = dev.gatehouse.spi.LimiterStore.inMemory();
        assertEquals(GatewayRole.rateLimit(5, null).toString(), GatewayRole.rateLimit(5, store).toString());
    }
}
