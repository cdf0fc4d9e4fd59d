package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.jetty.TestBackend;

class EmbeddingExamplesTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress("127.0.0.1", 0);

    private TestBackend backend;
    private Server app;

    @BeforeEach
    void startBackend() throws Exception {
        backend = new TestBackend();
    }

    @AfterEach
    void stop() throws Exception {
        if (app != null) {
            app.stop();
        }
        backend.close();
    }

    @Test
    void servletAppKeepsItsServletAndRelaysWsEcho() throws Exception {
        app = EmbedInServletApp.start(ANY_LOOPBACK_PORT, backend.url("/echo"));

        HttpResponse<String> hello = get("/hello");
        assertEquals(200, hello.statusCode());
        assertTrue(hello.body().startsWith("Hello from the servlet app"), hello.body());

        assertRelaysEcho("/ws/echo");
    }

    @Test
    void coreHandlerAppKeepsItsHandlerAndRelaysEcho() throws Exception {
        app = EmbedInCoreHandlerApp.start(ANY_LOOPBACK_PORT, backend.url("/echo"));

        HttpResponse<String> hello = get("/anything");
        assertEquals(200, hello.statusCode());
        assertTrue(hello.body().startsWith("Hello from the core app"), hello.body());

        assertRelaysEcho("/echo");
    }

    private void assertRelaysEcho(String path) throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(uri("ws", path), events).get(5, TimeUnit.SECONDS);
        try {
            assertEquals("/echo", backend.nextUpgrade().path());
            ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
            events.assertText("hello");
        } finally {
            ws.abort();
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri("http", path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String scheme, String path) {
        return URI.create(scheme + "://127.0.0.1:" + ((ServerConnector) app.getConnectors()[0]).getLocalPort() + path);
    }
}
