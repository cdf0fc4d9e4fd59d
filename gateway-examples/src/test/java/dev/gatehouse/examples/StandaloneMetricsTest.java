package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.jetty.RecordingListener;

/** The runner's {@code /metrics} (Prometheus text), {@code /healthz} and {@code /readyz} on the management port. */
class StandaloneMetricsTest {

    private static final String KEY = "mgmt-key-metrics";
    private static final Pattern MANAGEMENT = Pattern.compile("(?m)^management on http://127\\.0\\.0\\.1:(\\d+)$");
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    @TempDir
    Path dir;

    private static URI management(Runner r, String path) {
        Matcher m = MANAGEMENT.matcher(r.out);
        assertTrue(m.find(), () -> "no management line in: " + r.out);
        return URI.create("http://127.0.0.1:" + m.group(1) + path);
    }

    private static HttpResponse<String> get(URI uri, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET();
        if (key != null) {
            b.header("X-API-Key", key);
        }
        return Runner.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The samples of a Prometheus text page: {@code name{label="value",...}} (labels sorted) to value. */
    static Map<String, Double> samples(String page) {
        Map<String, Double> out = new TreeMap<>();
        for (String line : page.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), () -> "not a Prometheus sample: " + line);
            Map<String, String> labels = new TreeMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            StringBuilder key = new StringBuilder(m.group(1));
            if (!labels.isEmpty()) {
                key.append('{');
                labels.forEach((k, v) -> key.append(k).append("=\"").append(v).append("\","));
                key.setLength(key.length() - 1);
                key.append('}');
            }
            out.put(key.toString(), Double.parseDouble(m.group(4)));
        }
        return out;
    }

    /** The samples once the connection's close is counted: polls /metrics, each poll a real request, for up to 5 s. */
    private static Map<String, Double> metricsAfterClose(Runner r) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            HttpResponse<String> page = get(management(r, "/metrics"), KEY);
            assertEquals(200, page.statusCode(), page.body());
            Map<String, Double> s = samples(page.body());
            if (s.keySet().stream().anyMatch(k -> k.startsWith("gatehouse_closes_total{")) || System.nanoTime() > deadline) {
                return s;
            }
        }
    }

    @Test
    void servesTheMetersInPrometheusTextBehindTheManagementKey() throws Exception {
        try (Runner r = Runner.started("--management-port", "0", "--management-key", KEY, "--api-key", "client-key")) {
            HttpResponse<String> denied = get(management(r, "/metrics"), null);
            assertEquals(401, denied.statusCode(), denied.body());
            assertEquals(401, get(management(r, "/metrics"), "wrong-key").statusCode());

            RecordingListener events = new RecordingListener();
            var ws = r.connect("/echo", events, Map.of("X-API-Key", "client-key"));
            ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
            events.assertText("hello");
            ws.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);
            events.assertClose(1000, "bye");
            assertEquals(401, r.refusal("/echo", Map.of()));

            HttpResponse<String> page = get(management(r, "/metrics"), KEY);
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                    page.headers().toString());
            Map<String, Double> s = metricsAfterClose(r);
            assertSample(s, "gatehouse_connections_active{route=\"/echo\"}", 0);
            assertSample(s, "gatehouse_handshakes_total{outcome=\"accepted\",route=\"/echo\",status=\"101\"}", 1);
            assertSample(s, "gatehouse_handshakes_total{outcome=\"rejected\",route=\"/echo\",status=\"401\"}", 1);
            assertSample(s, "gatehouse_handshake_duration_seconds_count{outcome=\"accepted\",route=\"/echo\"}", 1);
            assertSample(s, "gatehouse_handshake_duration_seconds_count{outcome=\"rejected\",route=\"/echo\"}", 1);
            assertSample(s, "gatehouse_rejections_total{kind=\"unauthorized\",route=\"/echo\"}", 1);
            assertTrue(s.keySet().stream().anyMatch(k -> k.startsWith("gatehouse_backend_connect_duration_seconds_count{")
                    && k.contains("route=\"/echo\"") && k.contains("target=\"ws://")), s.keySet().toString());
            assertSample(s, "gatehouse_messages_total{direction=\"in\",route=\"/echo\"}", 1);
            assertSample(s, "gatehouse_messages_total{direction=\"out\",route=\"/echo\"}", 1);
            assertSample(s, "gatehouse_message_bytes_count{direction=\"in\",route=\"/echo\"}", 1);
            assertSample(s, "gatehouse_message_bytes_sum{direction=\"in\",route=\"/echo\"}", 5);
            assertSample(s, "gatehouse_message_bytes_sum{direction=\"out\",route=\"/echo\"}", 5);
            assertSample(s, "gatehouse_closes_total{cause=\"client_closed\",code=\"1000\",initiator=\"client\",route=\"/echo\"}", 1);
            assertSample(s, "gatehouse_session_duration_seconds_count{route=\"/echo\"}", 1);
            assertSample(s, "gatehouse_pending_bytes", 0);
            // Micrometer's Jetty binders, on the same page
            assertTrue(s.keySet().stream().anyMatch(k -> k.startsWith("jetty_connections_")), s.keySet().toString());
            assertTrue(s.keySet().stream().anyMatch(k -> k.startsWith("jetty_threads_")), s.keySet().toString());
        }
    }

    @Test
    void healthzAnswers200AndReadyzFlipsTo503WhenTheGatewayDrains() throws Exception {
        try (Runner r = Runner.started("--management-port", "0", "--management-key", KEY)) {
            assertEquals(200, get(management(r, "/healthz"), null).statusCode());
            assertEquals(200, get(management(r, "/readyz"), null).statusCode());

            Standalone.Started started = assertInstanceOf(Standalone.Started.class, r.launch);
            started.server().gateway().drain(Duration.ZERO);

            HttpResponse<String> ready = get(management(r, "/readyz"), null);
            assertEquals(503, ready.statusCode(), ready.body());
            assertTrue(ready.headers().firstValue("Retry-After").isPresent());
            assertEquals(200, get(management(r, "/healthz"), null).statusCode());
        }
    }

    @Test
    void theConfigFileTurnsMetricsOff() throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, """
                management:
                  port: 0
                  apiKeys: [%s]
                metrics:
                  enabled: false
                """.formatted(KEY));
        try (Runner r = Runner.started("--config", file.toString())) {
            HttpResponse<String> page = get(management(r, "/metrics"), KEY);
            assertEquals(404, page.statusCode(), page.body());
            assertFalse(page.body().contains("gatehouse_"), page.body());
        }
    }

    @Test
    void anUnknownMetricsKeyFailsTheStartWithOneLineNamingIt() throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, """
                management:
                  port: 0
                  apiKeys: [%s]
                metrics:
                  enable: true
                """.formatted(KEY));
        Runner r = Runner.launch("--config", file.toString());
        assertEquals(new Standalone.Exit(2), r.launch);
        assertEquals(1, r.errLines().size(), r.err);
        assertTrue(r.err.contains("gw.yaml: metrics.enable: unknown key (did you mean enabled?)"), r.err);
    }

    @Test
    void metricsWithoutTheManagementApiFailTheStart() throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, """
                metrics:
                  enabled: true
                """);
        Runner r = Runner.launch("--config", file.toString());
        assertEquals(new Standalone.Exit(2), r.launch);
        assertTrue(r.err.contains("metrics.enabled: needs the management API"), r.err);
    }

    private static void assertSample(Map<String, Double> samples, String series, double expected) {
        Double v = samples.get(series);
        assertTrue(v != null, () -> "no series " + series + " in " + samples.keySet());
        assertEquals(expected, v, series);
    }
}
