package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Policy;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.jetty.GatewayServer.Mount;

/**
 * The backend dial's own behaviour: turns per backend and the queue behind them, host names, what the
 * upgrade request carries, and what the backend's answer may hold.
 */
class BackendDialTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final Servers servers = new Servers();

    /** The status a refused WebSocket handshake got. */
    private static int refusedWith(CompletableFuture<WebSocket> opening) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> opening.get(20, TimeUnit.SECONDS));
        return assertInstanceOf(WebSocketHandshakeException.class, e.getCause()).getResponse().statusCode();
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void dialsOneBackendInTurnsAndRefusesAFullQueueWith503(Mount mount) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (RawBackend backend = new RawBackend(head -> {
            await(release);
            return RawBackend.switching(head);
        })) {
            // One dial at a time to a backend, and 16 waiting behind it (16 × the limit, without a connection limit).
            GatewayServer gw = servers.start(Gateway.builder().maxConcurrentDials(1)
                    .route(Route.of("/held", Backend.of(backend.uri("/held")))).build(), mount);
            List<CompletableFuture<WebSocket>> opening = new ArrayList<>();
            for (int i = 0; i < 18; i++) {
                opening.add(HTTP.newWebSocketBuilder().buildAsync(gw.uri("/held"), new RecordingListener()));
            }
            CompletableFuture<Object> firstDone = CompletableFuture.anyOf(opening.toArray(CompletableFuture[]::new));
            try {
                firstDone.get(20, TimeUnit.SECONDS);
                throw new AssertionError("a handshake completed while the backend held its first answer");
            } catch (ExecutionException refused) {
                // The one beyond the queue, at once, while the others wait.
            }
            int refused = -1;
            for (int i = 0; i < opening.size(); i++) {
                if (opening.get(i).isCompletedExceptionally()) {
                    assertEquals(-1, refused, "only one handshake is refused");
                    refused = i;
                    assertEquals(503, refusedWith(opening.get(i)));
                }
            }
            assertTrue(backend.requests.size() <= 1, "the waiting dials have not reached the backend");
            release.countDown();
            for (int i = 0; i < opening.size(); i++) {
                if (i != refused) {
                    opening.get(i).get(20, TimeUnit.SECONDS).sendClose(1000, "").get(5, TimeUnit.SECONDS);
                }
            }
            assertEquals(17, backend.requests.size());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aDialWaitingForItsTurnTimesOutWith504(Mount mount) throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Settings settings = Settings.builder().connectTimeout(Duration.ofMillis(300)).build();
            GatewayServer gw = servers.start(Gateway.builder().maxConcurrentDials(1)
                    .route(Route.builder("/slow").backend(Backend.of("ws://127.0.0.1:" + silent.getLocalPort() + "/x"))
                            .settings(settings).build()).build(), mount);
            CompletableFuture<WebSocket> first = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/slow"), new RecordingListener());
            CompletableFuture<WebSocket> second = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/slow"), new RecordingListener());
            assertEquals(504, refusedWith(first));
            assertEquals(504, refusedWith(second));
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void dialsABackendByHostName(Mount mount) throws Exception {
        TestBackend backend = servers.backend();
        String byName = backend.uri("/echo").toString().replace("127.0.0.1", "localhost");
        GatewayServer gw = servers.start(Gateway.builder().route(Route.of("/echo", Backend.of(byName))).build(), mount);
        RecordingListener listener = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), listener).get(10, TimeUnit.SECONDS);
        ws.sendText("by name", true).get(5, TimeUnit.SECONDS);
        listener.assertText("by name");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void answers502WhenTheBackendsHostDoesNotResolve(Mount mount) throws Exception {
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.of("/nowhere", Backend.of("ws://no-such-host.invalid:9/x"))).build(), mount);
        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/nowhere"));
        assertEquals(502, r.status());
        assertTrue(r.body().contains("\"error\":\"bad_gateway\""), r.body());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void neverLetsAHeaderValueSplitTheUpgradeRequest(Mount mount) throws Exception {
        try (RawBackend backend = new RawBackend(RawBackend::switching)) {
            Policy sneaky = (handshake, chain) -> chain.proceed(handshake.withHeader("X-Note", "a\r\nInjected: yes\r\n\r\nGET /"));
            GatewayServer gw = servers.start(Gateway.builder().route(Route.builder("/raw")
                    .backend(Backend.of(backend.uri("/raw"))).policy(sneaky).build()).build(), mount);
            WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/raw"), new RecordingListener())
                    .get(10, TimeUnit.SECONDS);
            String head = backend.requests.poll(5, TimeUnit.SECONDS);
            assertNull(RawBackend.header(head, "Injected"), head);
            assertEquals("a  Injected: yes    GET /", RawBackend.header(head, "X-Note"));
            ws.abort();
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysTheFirstEightKibOfAChunkedRefusalBody(Mount mount) throws Exception {
        String chunk = "x".repeat(4096);
        StringBuilder answer = new StringBuilder("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
                + "WWW-Authenticate: Bearer realm=\"backend\"\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 3; i++) {
            answer.append("1000\r\n").append(chunk).append("\r\n");
        }
        answer.append("0\r\n\r\n");
        try (RawBackend backend = new RawBackend(head -> answer.toString())) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/big", Backend.of(backend.uri("/big")))).build(), mount);
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/big"));
            assertEquals(403, r.status());
            assertEquals("Bearer realm=\"backend\"", r.header("WWW-Authenticate"));
            assertEquals("x".repeat(8192), r.body());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysARefusalWhoseBodyNeverEndsOnceTheConnectTimeoutPasses(Mount mount) throws Exception {
        try (RawBackend backend = new RawBackend(head -> "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 100\r\n\r\nslow down")) {
            // long enough for the head to arrive on a loaded machine; the body's end never does
            Settings settings = Settings.builder().connectTimeout(Duration.ofSeconds(1)).build();
            GatewayServer gw = servers.start(Gateway.builder().route(Route.builder("/busy")
                    .backend(Backend.of(backend.uri("/busy"))).settings(settings).build()).build(), mount);
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/busy"));
            assertEquals(429, r.status());
            assertEquals("7", r.header("Retry-After"));
            assertEquals("slow down", r.body());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysTheFramesTheBackendSentWithIts101(Mount mount) throws Exception {
        // A text frame "early", unmasked, in the same write as the 101.
        try (RawBackend backend = new RawBackend(head -> RawBackend.switching(head) + "\u0081\u0005early")) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/early", Backend.of(backend.uri("/early")))).build(), mount);
            RecordingListener listener = new RecordingListener();
            WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/early"), listener).get(10, TimeUnit.SECONDS);
            listener.assertText("early");
            ws.abort();
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void skipsInterimResponsesBeforeThe101(Mount mount) throws Exception {
        try (RawBackend backend = new RawBackend(head -> "HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + RawBackend.switching(head))) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/hints", Backend.of(backend.uri("/hints")))).build(), mount);
            WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/hints"), new RecordingListener())
                    .get(10, TimeUnit.SECONDS);
            ws.abort();
        }
    }

    @Test
    void neverForwardsExpect() throws Exception {
        try (RawBackend backend = new RawBackend(RawBackend::switching)) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), Mount.HANDLER);
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/raw"), "Expect: 100-continue");
            assertEquals(101, r.status());
            assertNull(RawBackend.header(backend.requests.poll(5, TimeUnit.SECONDS), "Expect"));
        }
    }

    @Test
    void relaysAClientsMaskedFramesAsTheyCameOnARouteWithoutPoliciesAndMasksAfreshOnOneWithThem() throws Exception {
        int key = 0x11223344;
        assertEquals(key, firstMaskKeySeenByTheBackend(false, key), "relayed as it came, the client's key with it");
        assertNotEquals(key, firstMaskKeySeenByTheBackend(true, key), "a route whose policies read messages masks anew");
    }

    /**
     * Sends "verbatim!" in one frame masked with {@code key}, written in two pieces, through a route with or
     * without a client message filter; returns the mask key of the first data frame the backend received,
     * after checking that its data frames unmask to the same text.
     */
    private int firstMaskKeySeenByTheBackend(boolean filtered, int key) throws Exception {
        try (RawBackend backend = new RawBackend(RawBackend::switching)) {
            Route.Builder route = Route.builder("/raw").backend(Backend.of(backend.uri("/raw")))
                    .settings(Settings.builder().closeTimeout(Duration.ofMillis(200)).build());
            if (filtered) {
                route.clientMessages((message, connection) -> dev.gatehouse.session.MessageAction.forward(message));
            }
            GatewayServer gw = servers.start(Gateway.builder().route(route.build()).build(), Mount.HANDLER);
            byte[] text = "verbatim!".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] frame = new byte[6 + text.length];
            frame[0] = (byte) 0x82;
            frame[1] = (byte) (0x80 | text.length);
            for (int i = 0; i < 4; i++) {
                frame[2 + i] = (byte) (key >>> (24 - 8 * i));
            }
            for (int i = 0; i < text.length; i++) {
                frame[6 + i] = (byte) (text[i] ^ frame[2 + (i & 3)]);
            }
            try (RawWebSocket ws = RawWebSocket.open(gw.uri("/raw"))) {
                ws.write(java.util.Arrays.copyOfRange(frame, 0, 9));
                ws.write(java.util.Arrays.copyOfRange(frame, 9, frame.length));
                ws.write(0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8); // CLOSE 1000, masked with a zero key
                RawBackend.Ended ended = backend.nextEnded();
                List<Integer> keys = new java.util.ArrayList<>();
                java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
                byte[] b = ended.after();
                for (int at = 0; at < b.length;) {
                    int opcode = b[at] & 0x0F;
                    int length = b[at + 1] & 0x7F; // the test's frames are short
                    assertTrue((b[at + 1] & 0x80) != 0, "a frame to a backend is masked");
                    int k = ((b[at + 2] & 0xFF) << 24) | ((b[at + 3] & 0xFF) << 16) | ((b[at + 4] & 0xFF) << 8) | (b[at + 5] & 0xFF);
                    if (opcode == 0x2 || opcode == 0x0) {
                        keys.add(k);
                        for (int i = 0; i < length; i++) {
                            data.write(b[at + 6 + i] ^ (k >>> (24 - 8 * (i & 3))));
                        }
                    }
                    at += 6 + length;
                }
                assertEquals("verbatim!", data.toString(java.nio.charset.StandardCharsets.UTF_8));
                return keys.get(0);
            }
        }
    }

    @Test
    void refusesA101ThatChoseASubprotocolNobodyOffered() throws Exception {
        try (RawBackend backend = new RawBackend(head -> RawBackend.switching(head).replace("\r\n\r\n",
                "\r\nSec-WebSocket-Protocol: surprise\r\n\r\n"))) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/proto", Backend.of(backend.uri("/proto")))).build(), Mount.HANDLER);
            RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/proto"));
            assertEquals(502, r.status());
            RawBackend.Ended ended = backend.nextEnded();
            assertTrue(ended.closedByPeer(), "the gateway closed the backend connection it will not use");
            assertFalse(r.body().isEmpty());
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
