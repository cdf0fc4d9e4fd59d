package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.GatewayServer.Mount;

/** The HTTP management API, over real HTTP, against a gateway with live WebSocket connections on both mounts. */
class ManagementApiTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String KEY = "mgmt-key-0123456789";

    @RegisterExtension
    final Servers servers = new Servers();

    private GatewayServer start(Mount mount) throws Exception {
        TestBackend backend = servers.backend();
        Gateway gateway = Gateway.builder()
                .route(Route.of("/echo", Backend.of(backend.uri("/echo"))))
                .build();
        return servers.startWithManagement(gateway, mount, ApiKeyAuthenticator.of(KEY, "ops"));
    }

    private static HttpRequest.Builder request(GatewayServer gw, String path) {
        return HttpRequest.newBuilder(gw.managementUri(path)).timeout(Duration.ofSeconds(5)).header("X-API-Key", KEY);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void postsToAConnectionThenReadsItsInfoThenClosesIt(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), events).get(5, java.util.concurrent.TimeUnit.SECONDS);
        Await.until("the connection is listed", () -> gw.gateway.connections().count() == 1);
        String id = gw.gateway.connections().list().get(0).id();

        HttpResponse<String> sent = HTTP.send(request(gw, "/@connections/" + id)
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, sent.statusCode(), sent.body());
        events.assertText("hello");

        HttpResponse<String> info = HTTP.send(request(gw, "/@connections/" + id).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, info.statusCode(), info.body());
        assertTrue(info.body().contains("\"connectionId\":\"" + id + "\""), info.body());
        assertTrue(info.body().contains("\"messagesOut\":1"), info.body());

        HttpResponse<String> closed = HTTP.send(request(gw, "/@connections/" + id + "?code=4000&reason=bye").DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(204, closed.statusCode(), closed.body());
        events.assertClose(4000, "bye");
        ws.abort();
    }
}
