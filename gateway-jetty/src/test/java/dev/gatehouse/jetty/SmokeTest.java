package dev.gatehouse.jetty;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;

class SmokeTest {

    @Test
    void relaysTextThenPropagatesClose() throws Exception {
        try (TestBackend backend = new TestBackend();
                GatewayServer gw = GatewayServer.start(Gateway.builder()
                        .route(Route.of("/echo", Backend.of(backend.uri("/echo"))))
                        .build())) {
            RecordingListener events = new RecordingListener();
            WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);
            ws.sendText("hello", true);
            events.assertText("hello");
            ws.sendClose(4000, "bye");
            events.assertClose(4000, "bye");
            TestBackend.Closed c = backend.nextClose();
            org.junit.jupiter.api.Assertions.assertEquals(new TestBackend.Closed(4000, "bye"), c);
        }
    }
}
