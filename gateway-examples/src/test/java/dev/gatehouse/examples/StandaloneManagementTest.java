package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.jetty.TestBackend;

/** The runner's management API: the config file's {@code management} block and the {@code --management-*} flags. */
class StandaloneManagementTest {

    private static final Pattern MANAGEMENT = Pattern.compile("(?m)^management on http://127\\.0\\.0\\.1:(\\d+)$");

    @TempDir
    Path dir;

    private static int managementPort(Runner r) {
        Matcher m = MANAGEMENT.matcher(r.out);
        assertTrue(m.find(), () -> "no management line in: " + r.out);
        return Integer.parseInt(m.group(1));
    }

    private static HttpResponse<String> send(URI uri, String method, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
                .header("Content-Type", "text/plain")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("X-API-Key", key);
        }
        return Runner.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheManagementApiOfTheConfigFileOnItsOwnLoopbackPort() throws Exception {
        try (TestBackend backend = new TestBackend()) {
            Path file = dir.resolve("gatehouse.yaml");
            Files.writeString(file, """
                    management:
                      port: 0
                      apiKeys: [mgmt-key-1, mgmt-key-2]
                    routes:
                      - path: /echo
                        backend: %s
                    """.formatted(backend.url("/echo")), StandardCharsets.UTF_8);
            try (Runner r = Runner.started("--config", file.toString())) {
                int port = managementPort(r);
                assertTrue(r.out.indexOf("listening on") < r.out.indexOf("management on"), r.out);
                assertFalse(r.out.contains("mgmt-key"), r.out);
                RecordingListener events = new RecordingListener();
                r.connect("/echo", events);
                URI all = URI.create("http://127.0.0.1:" + port + "/:send");

                HttpResponse<String> sent = send(all, "POST", "mgmt-key-2", "to everyone");
                assertEquals(202, sent.statusCode(), sent.body());
                assertEquals("1", sent.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());
                events.assertText("to everyone");

                HttpResponse<String> denied = send(all, "POST", null, "no key");
                assertEquals(401, denied.statusCode());
                assertTrue(denied.body().contains("\"error\":\"unauthorized\""), denied.body());
                assertEquals(401, send(all, "POST", "mgmt-key-3", "wrong key").statusCode());

                // The gateway's own port does not serve the management API.
                HttpResponse<String> publicPort = send(r.http("/:send"), "POST", "mgmt-key-1", "x");
                assertEquals(404, publicPort.statusCode(), publicPort.body());
                assertTrue(publicPort.body().contains("route_not_found"), publicPort.body());
            }
        }
    }

    @Test
    void servesTheManagementApiOfTheFlagsNextToTheDemo() throws Exception {
        try (Runner r = Runner.started("--management-port", "0", "--management-key", "ops-key")) {
            int port = managementPort(r);
            RecordingListener events = new RecordingListener();
            r.connect("/echo", events);
            HttpResponse<String> users = send(URI.create("http://127.0.0.1:" + port + "/groups/nobody"), "GET", "ops-key", null);
            assertEquals(404, users.statusCode(), users.body());
            assertTrue(users.body().contains("\"error\":\"not_found\""), users.body());
        }
    }

    @Test
    void postsToADemoRoomThroughTheManagementApi() throws Exception {
        try (Runner r = Runner.started("--management-port", "0", "--management-key", "ops-key")) {
            int port = managementPort(r);
            RecordingListener events = new RecordingListener();
            WebSocket ws = r.connect("/rooms", events);
            ws.sendText("{\"action\":\"join\",\"room\":\"blue\"}", true).get(5, TimeUnit.SECONDS);
            events.assertText("{\"type\":\"joined\",\"room\":\"blue\"}");

            String message = "{\"type\":\"message\",\"room\":\"blue\",\"from\":\"ops\",\"text\":\"hello from curl\"}";
            HttpResponse<String> sent = send(URI.create("http://127.0.0.1:" + port + "/groups/blue/:send"), "POST",
                    "ops-key", message);
            assertEquals(202, sent.statusCode(), sent.body());
            assertEquals("1", sent.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());
            events.assertText(message);
        }
    }

    @Test
    void refusesAManagementPortThatIsTaken() throws Exception {
        try (Runner first = Runner.started("--management-port", "0", "--management-key", "k")) {
            int taken = managementPort(first);
            try (Runner second = Runner.launch("--port", "0", "--management-port", Integer.toString(taken),
                    "--management-key", "k")) {
                assertInstanceOf(Standalone.Exit.class, second.launch, second.out);
                assertEquals(1, second.errLines().size(), second.err);
                assertTrue(second.err.startsWith("error: cannot listen on"), second.err);
                assertTrue(second.err.contains(":" + taken), second.err);
            }
        }
    }

    @Test
    void writesNoManagementLineWithoutTheManagementApi() throws IOException {
        try (Runner r = Runner.started()) {
            assertFalse(r.out.contains("management on"), r.out);
        }
    }
}
