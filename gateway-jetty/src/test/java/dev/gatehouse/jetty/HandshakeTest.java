package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.util.thread.Invocable.InvocationType;
import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.session.MessageLimits;
import dev.gatehouse.policy.OriginPolicy;

/** Everything decided before the 101: routing, authentication, policies and the backend-first handshake. */
class HandshakeTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final Servers servers = new Servers();
    private TestBackend backend;

    @BeforeEach
    void useTheBackend() {
        backend = servers.backend();
    }

    private GatewayServer start(Mount mount, Route... routes) throws Exception {
        Gateway.Builder b = Gateway.builder();
        for (Route r : routes) {
            b.route(r);
        }
        return servers.start(b.build(), mount);
    }

    private static int handshakeStatus(URI uri, WebSocket.Builder builder) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> builder.buildAsync(uri, new RecordingListener()).get(5, TimeUnit.SECONDS));
        WebSocketHandshakeException h = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
        return h.getResponse().statusCode();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersUnknownPathWith404AndJsonBody(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/echo", Backend.of(backend.uri("/echo"))));
        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/nowhere"));
        assertEquals(404, r.status());
        assertEquals("application/json", r.header("content-type"));
        assertTrue(r.body().matches("\\{\"error\":\"route_not_found\",\"message\":\"no route for /nowhere\","
                + "\"requestId\":\"[A-Za-z0-9_-]{22}\"}"), r.body());
        assertTrue(backend.upgrades.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answersPlainGetOnARouteWith426(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/echo", Backend.of(backend.uri("/echo"))));
        RawHttp.Response r = RawHttp.get(gw.httpUri("/echo"));
        assertEquals(426, r.status());
        assertEquals("websocket", r.header("upgrade"));
        assertTrue(r.body().contains("\"error\":\"upgrade_required\""), r.body());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void reflectsTheSubprotocolTheBackendChose(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/proto", Backend.of(backend.uri("/proto"))));
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().subprotocols("chat.v2", "chat.v1")
                .buildAsync(gw.uri("/proto"), events).get(5, TimeUnit.SECONDS);
        assertEquals("chat.v2", ws.getSubprotocol());
        assertEquals(List.of("chat.v2", "chat.v1"), backend.nextUpgrade().subprotocols());
        ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
        events.assertText("hi");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysTheBackendsSetCookieInTheClients101(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/proto", Backend.of(backend.uri("/proto"))));
        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/proto"), "Sec-WebSocket-Protocol: mqtt");
        assertEquals(101, r.status());
        assertEquals("backend=1; Path=/", r.header("set-cookie"));
        assertEquals("mqtt", r.header("sec-websocket-protocol"));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void neverReplaysACookieOneBackendConnectionWasGivenOnAnother(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/proto", Backend.of(backend.uri("/proto"))));
        RawHttp.Response first = RawHttp.upgrade(gw.httpUri("/proto"), "Sec-WebSocket-Protocol: mqtt");
        assertEquals("backend=1; Path=/", first.header("set-cookie"));
        assertNull(backend.nextUpgrade().header("Cookie"));

        RawHttp.Response second = RawHttp.upgrade(gw.httpUri("/proto"), "Sec-WebSocket-Protocol: mqtt");

        assertEquals(101, second.status());
        assertNull(backend.nextUpgrade().header("Cookie"), "the gateway sent another client's cookie to the backend");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void negotiatesPermessageDeflateEndToEndAndRelaysTheCompressedFramesAsTheyAre(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/echo", Backend.of(backend.uri("/echo"))));
        try (FrameClient client = new FrameClient(gw.uri("/echo"), "permessage-deflate")) {
            assertEquals(List.of("permessage-deflate"), client.extensions());
            assertEquals("permessage-deflate", backend.nextUpgrade().header("Sec-WebSocket-Extensions"),
                    "the client's offer did not reach the backend");

            byte[] text = "compress me ".repeat(10_000).getBytes(StandardCharsets.UTF_8);
            client.send(OpCode.TEXT, true, text);

            assertArrayEquals(text, client.nextMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void negotiatesNoCompressionOnARouteWhosePoliciesReadItsMessages(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.builder("/echo").backend(Backend.of(backend.uri("/echo")))
                .messageLimits(MessageLimits.builder().messagesPerSecond(1000, 1000).build()).build());
        try (FrameClient client = new FrameClient(gw.uri("/echo"), "permessage-deflate")) {
            assertEquals(List.of(), client.extensions());
            assertNull(backend.nextUpgrade().header("Sec-WebSocket-Extensions"), "the backend was offered compression");

            client.send(OpCode.TEXT, true, "plain".getBytes(StandardCharsets.UTF_8));
            assertArrayEquals("plain".getBytes(StandardCharsets.UTF_8), client.nextMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesMalformedUpgradesWith426WithoutDiallingTheBackend(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/echo", Backend.of(backend.uri("/echo"))));
        String key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";

        RawHttp.Response oldVersion = RawHttp.get(gw.httpUri("/echo"), "Upgrade: websocket", "Connection: Upgrade",
                "Sec-WebSocket-Version: 8", key);
        RawHttp.Response noKey = RawHttp.get(gw.httpUri("/echo"), "Upgrade: websocket", "Connection: Upgrade",
                "Sec-WebSocket-Version: 13");

        for (RawHttp.Response r : List.of(oldVersion, noKey)) {
            assertEquals(426, r.status());
            assertEquals("13", r.header("sec-websocket-version"));
            assertTrue(r.body().contains("\"error\":\"upgrade_required\""), r.body());
        }
        RawHttp.Response valid = RawHttp.upgrade(gw.httpUri("/echo"), "X-Marker: valid");
        assertEquals(101, valid.status());
        assertEquals("valid", backend.nextUpgrade().header("X-Marker"), "a malformed upgrade reached the backend");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void choosesNoSubprotocolWhenTheBackendChoseNone(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/echo", Backend.of(backend.uri("/echo"))));
        WebSocket ws = HTTP.newWebSocketBuilder().subprotocols("chat.v1")
                .buildAsync(gw.uri("/echo"), new RecordingListener()).get(5, TimeUnit.SECONDS);
        assertEquals("", ws.getSubprotocol());
        assertEquals(List.of("chat.v1"), backend.nextUpgrade().subprotocols());
        ws.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void forwardsHeadersAndQueryStringToTheBackend(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/rooms/{room}", Backend.of(backend.uri("/echo"))));
        WebSocket ws = HTTP.newWebSocketBuilder()
                .header("X-Custom", "kept")
                .header("X-Gatehouse-Subject", "spoofed")
                .header("Authorization", "Bearer secret")
                .buildAsync(URI.create(gw.uri("/rooms/lobby") + "?a=1&b=two%20words"), new RecordingListener())
                .get(5, TimeUnit.SECONDS);
        TestBackend.Upgrade up = backend.nextUpgrade();
        assertEquals("/echo", up.path());
        assertEquals("a=1&b=two%20words", up.query());
        assertEquals("127.0.0.1", up.header("X-Forwarded-For"));
        assertEquals("http", up.header("X-Forwarded-Proto"));
        assertTrue(up.header("X-Forwarded-Host").startsWith("127.0.0.1:"), up.header("X-Forwarded-Host"));
        assertTrue(up.header("Forwarded").startsWith("for=127.0.0.1;proto=http;host="), up.header("Forwarded"));
        assertEquals("kept", up.header("X-Custom"));
        assertNotNull(up.header("X-Gatehouse-Connection-Id"));
        assertNull(up.header("X-Gatehouse-Subject"), "a client must not be able to spoof identity headers");
        assertNull(up.header("Authorization"), "credentials are not forwarded");
        ws.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void substitutesPathParametersInTheBackendUrl(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/api/{version}/*", Backend.of("ws://127.0.0.1:" + backend.port()
                + "/any/{version}/{*}")));
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/api/v%201/echo/more"), new RecordingListener())
                .get(5, TimeUnit.SECONDS);
        assertEquals("/any/v%201/echo/more", backend.nextUpgrade().path());
        ws.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void dialsMoreBackendHandshakesAtOnceThanHttpClientsDefaultSixtyFour(Mount mount) throws Exception {
        int storm = 80;
        backend.holdUpgrades(storm);
        GatewayServer gw = start(mount, Route.of("/held", Backend.of(backend.uri("/held"))));
        List<CompletableFuture<WebSocket>> opening = new ArrayList<>();
        for (int i = 0; i < storm; i++) {
            opening.add(HTTP.newWebSocketBuilder().buildAsync(gw.uri("/held"), new RecordingListener()));
        }
        for (CompletableFuture<WebSocket> f : opening) {
            // The time /held gives the storm to gather: 80 handshakes at once are slow on a loaded machine.
            f.get(TestBackend.HELD_MAX_SECONDS, TimeUnit.SECONDS).sendClose(1000, "").get(5, TimeUnit.SECONDS);
        }
        assertEquals(storm, backend.upgrades.size());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers502WhenTheBackendIsDown(Mount mount) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        GatewayServer gw = start(mount, Route.of("/down", Backend.of("ws://127.0.0.1:" + closedPort + "/x")));
        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/down"));
        assertEquals(502, r.status());
        assertTrue(r.body().contains("\"error\":\"bad_gateway\""), r.body());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysTheBackendsRefusalStatusAndBody(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.of("/reject", Backend.of(backend.uri("/reject"))));
        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/reject"));
        assertEquals(403, r.status());
        assertEquals("{\"backend\":\"says no\"}", r.body());
        assertEquals(403, handshakeStatus(gw.uri("/reject"), HTTP.newWebSocketBuilder()));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers504WhenTheBackendNeverAnswers(Mount mount) throws Exception {
        try (Silent silent = new Silent()) {
            Settings settings = Settings.builder().connectTimeout(Duration.ofMillis(500)).build();
            GatewayServer gw = start(mount, Route.builder("/slow")
                    .backend(Backend.of("ws://127.0.0.1:" + silent.port() + "/x")).settings(settings).build());
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/slow"));
            assertEquals(504, r.status());
            assertTrue(r.body().contains("\"error\":\"gateway_timeout\""), r.body());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void requiresAValidApiKey(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.builder("/echo")
                .authenticator(ApiKeyAuthenticator.builder().key("s3cret-key", "mobile-app").build())
                .backend(Backend.of(backend.uri("/echo"))).build());
        RawHttp.Response missing = RawHttp.upgrade(gw.httpUri("/echo"));
        assertEquals(401, missing.status());
        assertTrue(missing.body().contains("\"error\":\"unauthorized\""), missing.body());
        assertEquals(401, RawHttp.upgrade(gw.httpUri("/echo"), "X-API-Key: wrong").status());
        assertEquals(401, handshakeStatus(gw.uri("/echo"), HTTP.newWebSocketBuilder().header("X-API-Key", "nope")));
        assertTrue(backend.upgrades.isEmpty(), "a rejected handshake never reaches the backend");

        WebSocket byHeader = HTTP.newWebSocketBuilder().header("X-API-Key", "s3cret-key")
                .buildAsync(gw.uri("/echo"), new RecordingListener()).get(5, TimeUnit.SECONDS);
        TestBackend.Upgrade up = backend.nextUpgrade();
        assertEquals("mobile-app", up.header("X-Gatehouse-Consumer"));
        assertNull(up.header("X-API-Key"), "the key is not forwarded");
        byHeader.abort();

        WebSocket byQuery = HTTP.newWebSocketBuilder()
                .buildAsync(URI.create(gw.uri("/echo") + "?api_key=s3cret-key&room=1"), new RecordingListener())
                .get(5, TimeUnit.SECONDS);
        assertEquals("room=1", backend.nextUpgrade().query());
        byQuery.abort();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void rejectsAnUnlistedOriginWith403(Mount mount) throws Exception {
        GatewayServer gw = start(mount, Route.builder("/echo")
                .policy(OriginPolicy.allow("https://app.example.com", "https://*.example.org"))
                .backend(Backend.of(backend.uri("/echo"))).build());
        RawHttp.Response evil = RawHttp.upgrade(gw.httpUri("/echo"), "Origin: https://evil.example.net");
        assertEquals(403, evil.status());
        assertTrue(evil.body().contains("\"error\":\"forbidden\""), evil.body());
        assertEquals(403, RawHttp.upgrade(gw.httpUri("/echo"), "Origin: null").status());
        assertTrue(backend.upgrades.isEmpty());
        WebSocket ok = HTTP.newWebSocketBuilder().header("Origin", "https://eu.example.org")
                .buildAsync(gw.uri("/echo"), new RecordingListener()).get(5, TimeUnit.SECONDS);
        assertFalse(ok.isInputClosed());
        ok.abort();
    }

    @Test
    void coreHandlerRunsThePipelineOffTheSelectorThreadsWithOrWithoutANextHandler() throws Exception {
        Gateway gateway = Gateway.builder().route(Route.of("/echo", Backend.of(backend.uri("/echo")))).build();
        org.eclipse.jetty.server.Server server = new org.eclipse.jetty.server.Server();
        org.eclipse.jetty.server.Handler alone = JettyGateway.handler(gateway, server);
        org.eclipse.jetty.server.Handler wrapping = JettyGateway.handler(gateway, server,
                new org.eclipse.jetty.server.Handler.Abstract.NonBlocking() {
                    @Override
                    public boolean handle(org.eclipse.jetty.server.Request request,
                            org.eclipse.jetty.server.Response response, org.eclipse.jetty.util.Callback callback) {
                        return false;
                    }
                });
        assertEquals(InvocationType.BLOCKING, alone.getInvocationType());
        assertEquals(InvocationType.BLOCKING, wrapping.getInvocationType());
        server.setHandler(alone);
        assertEquals(InvocationType.BLOCKING, server.getInvocationType());
    }

    @Test
    void coreHandlerPassesUnroutedRequestsToTheNextHandler() throws Exception {
        org.eclipse.jetty.server.Server server = new org.eclipse.jetty.server.Server();
        org.eclipse.jetty.server.ServerConnector connector = new org.eclipse.jetty.server.ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        org.eclipse.jetty.server.Handler app = new org.eclipse.jetty.server.Handler.Abstract() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                    org.eclipse.jetty.util.Callback callback) {
                response.setStatus(200);
                org.eclipse.jetty.io.Content.Sink.write(response, true, "app", callback);
                return true;
            }
        };
        Gateway gateway = Gateway.builder().route(Route.of("/echo", Backend.of(backend.uri("/echo")))).build();
        server.setHandler(JettyGateway.handler(gateway, server, app));
        server.start();
        servers.closeAfter(server::stop);
        URI base = URI.create("http://127.0.0.1:" + connector.getLocalPort());
        RawHttp.Response page = RawHttp.get(base.resolve("/index.html"));
        assertEquals(200, page.status());
        assertEquals(426, RawHttp.get(base.resolve("/echo")).status());
    }

    /** A TCP server that accepts connections and never answers. */
    private static final class Silent implements AutoCloseable {
        private final ServerSocket socket;
        private final List<Socket> accepted = new ArrayList<>();
        private final Thread acceptor;

        Silent() throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = socket.accept();
                        synchronized (accepted) {
                            accepted.add(s);
                        }
                    }
                } catch (IOException closed) {
                    // stopped
                }
            }, "silent-backend");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            synchronized (accepted) {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }
}
