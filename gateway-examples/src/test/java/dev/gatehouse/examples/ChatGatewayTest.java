package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.jetty.TestBackend;

/** The README's quick start, run: an authenticated gateway on a free port in front of a real backend. */
class ChatGatewayTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private TestBackend backend;
    private Server server;

    @BeforeEach
    void start() throws Exception {
        backend = new TestBackend();
        server = ChatGateway.start(0, "test-key", backend.url("/any"));
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
        backend.close();
    }

    private URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + path);
    }

    private WebSocket connect(String path, RecordingListener events, Map<String, String> headers) throws Exception {
        WebSocket.Builder b = HTTP.newWebSocketBuilder();
        headers.forEach(b::header);
        return b.buildAsync(uri(path), events).get(5, TimeUnit.SECONDS);
    }

    private int refusal(String path, Map<String, String> headers) {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> connect(path, new RecordingListener(), headers).abort());
        return assertInstanceOf(WebSocketHandshakeException.class, e.getCause()).getResponse().statusCode();
    }

    @Test
    void bridgesAClientWithTheKeyToItsRoom() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect("/chat/lobby", events, Map.of("X-API-Key", "test-key"));
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        events.assertText("hello");
        TestBackend.Upgrade up = backend.nextUpgrade();
        assertEquals("/any/rooms/lobby", up.path());
        assertEquals("web-app", up.header("X-Gatehouse-Consumer"));
        ws.abort();
    }

    @Test
    void refusesAClientWithoutTheKeyOrFromAnotherOrigin() {
        assertEquals(401, refusal("/chat/lobby", Map.of()));
        assertEquals(401, refusal("/chat/lobby", Map.of("X-API-Key", "wrong")));
        assertEquals(403, refusal("/chat/lobby", Map.of("X-API-Key", "test-key", "Origin", "https://evil.example.com")));
    }

    @Test
    void echoIsOpenToAll() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect("/echo", events, Map.of());
        ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
        events.assertText("hi");
        ws.abort();
    }
}
