package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/**
 * Close handshakes through the relay, whatever the code: the leg that did not start the close reads a CLOSE
 * frame with the code before its TCP connection ends, the answer of one peer reaches the other, and the
 * gateway ends each leg's TCP connection once its close handshake is done (Jetty's WebSocket sessions used
 * to drop TCP right after sending a CLOSE with an error code). Data sent before a CLOSE arrives before it,
 * data after it is dropped, closes may cross, and a leg that never answers is dropped after the close
 * timeout.
 */
class CloseHandshakeTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @BeforeEach
    void clearLog() {
        RecordingLogProvider.clear();
    }

    /** Every code a peer may send, from 1000 to 1014, and a few registered and private ones. */
    private static final int[] CODES = IntStream.concat(
            IntStream.rangeClosed(1000, 1014).filter(c -> c < 1004 || c > 1006), IntStream.of(3000, 4000, 4999))
            .toArray();

    static Stream<Arguments> everyCodeOnBothMounts() {
        return Stream.of(Mount.values()).flatMap(m -> IntStream.of(CODES).mapToObj(c -> Arguments.of(m, c)));
    }

    static Stream<Arguments> gatewayCodesOnBothMounts() {
        return Stream.of(Mount.values()).flatMap(m -> IntStream.of(1000, 1001, 1008, 1011, 1012, 1013, 4000)
                .mapToObj(c -> Arguments.of(m, c)));
    }

    private GatewayServer start(Mount mount, ScriptedBackend backend) throws Exception {
        return servers.start(Gateway.builder().route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
    }

    /** The access-log line of the connection that ended, waiting for it up to 5 s. */
    private static String accessLine() throws InterruptedException {
        return RecordingLogProvider.awaitLine(l -> l.contains("dev.gatehouse.access") && l.contains("\"status\":101"));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static WirePeer.Frame readClose(WirePeer peer) throws IOException {
        WirePeer.Frame f = peer.read();
        assertEquals(0x8, f.opCode(), "not a CLOSE");
        return f;
    }

    @ParameterizedTest
    @MethodSource("everyCodeOnBothMounts")
    void aBackendsCloseReachesTheClientWhoseAnswerReachesTheBackend(Mount mount, int code) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = start(mount, backend);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                server.sendClose(code, "backend closes");

                WirePeer.Frame close = readClose(client);
                assertEquals(code, close.closeCode());
                assertEquals("backend closes", close.closeReason());
                client.sendClose(code, "client answers");

                WirePeer.Frame answer = readClose(server);
                assertEquals(code, answer.closeCode());
                assertEquals("client answers", answer.closeReason());
                server.assertEnds();
                client.assertEnds();
            }
        }
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":" + code + ",") && line.contains("\"cause\":\"backend closed\",\"initiator\":\"backend\""), line);
    }

    @ParameterizedTest
    @MethodSource("everyCodeOnBothMounts")
    void aClientsCloseReachesTheBackendWhoseAnswerReachesTheClient(Mount mount, int code) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = start(mount, backend);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                client.sendClose(code, "client closes");

                WirePeer.Frame close = readClose(server);
                assertEquals(code, close.closeCode());
                assertEquals("client closes", close.closeReason());
                server.sendClose(code, "backend answers");

                WirePeer.Frame answer = readClose(client);
                assertEquals(code, answer.closeCode());
                assertEquals("backend answers", answer.closeReason());
                client.assertEnds();
                server.assertEnds();
            }
        }
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":" + code + ",") && line.contains("\"cause\":\"client closed\",\"initiator\":\"client\""), line);
    }

    @ParameterizedTest
    @MethodSource("gatewayCodesOnBothMounts")
    void aCloseTheGatewayStartsCompletesItsHandshakeOnBothLegs(Mount mount, int code) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = start(mount, backend);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                String id = server.header("X-Gatehouse-Connection-Id");
                // The client may read its 101 before the gateway registered the connection.
                Await.until("the connection is registered", () -> gw.gateway().connections().count() == 1);
                assertTrue(gw.gateway().connections().close(id, CloseStatus.of(code, "closed by an operator"))
                        .toCompletableFuture().join());

                WirePeer.Frame toClient = readClose(client);
                assertEquals(code, toClient.closeCode());
                assertEquals("closed by an operator", toClient.closeReason());
                WirePeer.Frame toServer = readClose(server);
                assertEquals(1001, toServer.closeCode());
                client.sendClose(code, "");
                server.sendClose(1001, "");
                client.assertEnds();
                server.assertEnds();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("everyCodeOnBothMounts")
    void aJettyBackendsCloseReachesTheClientAsAFrameBeforeItsConnectionEnds(Mount mount, int code) throws Exception {
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.of("/close", Backend.of(servers.backend().uri("/close")))).build(), mount);
        try (WirePeer client = WirePeer.client(gw.uri("/close?code=" + code + "&reason=bye"))) {
            client.send(0x81, WirePeer.utf8("go"));

            WirePeer.Frame close = readClose(client);
            assertEquals(code, close.closeCode());
            assertEquals("bye", close.closeReason());
            client.sendClose(code, "");
            client.assertEnds();
        }
        // Jetty reports the client's answer, or its own CLOSE when it did not wait for one (after 1001-1014).
        assertEquals(code, servers.backend().nextClose().code());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void framesWrittenTogetherWithACloseReachTheOtherSideBeforeIt(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = start(mount, backend);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                byte[] large = new byte[100_000];
                large[99_999] = 42;
                client.write(concat(client.frame(0x81, WirePeer.utf8("a")), client.frame(0x82, large),
                        client.frame(0x88, WirePeer.closePayload(4001, "after the data"))));

                assertEquals("a", server.readMessage().text());
                assertArrayEquals(large, server.readMessage().payload());
                WirePeer.Frame close = readClose(server);
                assertEquals(4001, close.closeCode());
                assertEquals("after the data", close.closeReason());

                server.sendClose(4001, "");
                assertEquals(4001, readClose(client).closeCode());
                client.assertEnds();
                server.assertEnds();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void dataTheBackendSendsBeforeAnsweringTheClientsCloseReachesTheClient(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = start(mount, backend);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                client.sendClose(1000, "");
                assertEquals(1000, readClose(server).closeCode());

                server.write(concat(server.frame(0x81, WirePeer.utf8("still in flight")),
                        server.frame(0x88, WirePeer.closePayload(1000, ""))));

                assertEquals("still in flight", client.readMessage().text());
                assertEquals(1000, readClose(client).closeCode());
                client.assertEnds();
                server.assertEnds();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aClientThatShutsItsOutputAfterItsCloseStillGetsTheBackendsAnswer(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = start(mount, backend);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                client.sendClose(4000, "bye");
                client.shutdownOutput(); // a FIN right behind the CLOSE

                WirePeer.Frame close = readClose(server);
                assertEquals(4000, close.closeCode());
                assertEquals("bye", close.closeReason());
                server.sendClose(4000, "ok");

                WirePeer.Frame answer = readClose(client);
                assertEquals(4000, answer.closeCode());
                assertEquals("ok", answer.closeReason());
                client.assertEnds();
                server.assertEnds();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aClientThatNeverAnswersACloseIsDroppedAfterTheCloseTimeoutAndTheBackendStillGetsAnAnswer(Mount mount)
            throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .settings(Settings.builder().closeTimeout(Duration.ofMillis(200)).build())
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                server.sendClose(4000, "bye");

                assertEquals(4000, readClose(client).closeCode());
                client.assertEnds(); // without having answered

                readClose(server);
                server.assertEnds();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesThatCrossEachOtherEndBothLegs(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = start(mount, backend);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                client.sendClose(4000, "client");
                server.sendClose(4001, "backend");

                WirePeer.Frame toClient = readClose(client);
                WirePeer.Frame toServer = readClose(server);
                assertEquals(4001, toClient.closeCode());
                assertEquals("backend", toClient.closeReason());
                assertEquals(4000, toServer.closeCode());
                assertEquals("client", toServer.closeReason());
                client.assertEnds();
                server.assertEnds();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void dataAPeerSendsAfterItsCloseIsNotRelayed(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = start(mount, backend);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                client.write(concat(client.frame(0x88, WirePeer.closePayload(1000, "")),
                        client.frame(0x81, WirePeer.utf8("after the close"))));
                assertEquals(1000, readClose(server).closeCode());

                server.write(concat(server.frame(0x88, WirePeer.closePayload(1000, "")),
                        server.frame(0x81, WirePeer.utf8("after the close"))));
                assertEquals(1000, readClose(client).closeCode());

                client.assertEnds();
                server.assertEnds();
            }
        }
    }
}
