package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.stream.Stream;
import java.util.zip.Inflater;

import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.WebSocketApi;

/**
 * permessage-deflate negotiated end to end: the client's offer goes to the backend and the backend's answer to
 * the client, and compressed frames (RSV1 on a message's first frame) cross the gateway as they are, never
 * inflated. A backend that declines leaves the client without compression; so do routes that read messages.
 */
class EndToEndCompressionTest {

    private static final byte[] TAIL = {0x00, 0x00, (byte) 0xFF, (byte) 0xFF}; // RFC 7692 §7.2.1

    @RegisterExtension
    final Servers servers = new Servers();

    /** A message compressed as RFC 7692 §7.2.1 says: raw DEFLATE, sync-flushed, without the final 00 00 FF FF. */
    private static byte[] deflate(byte[] message) {
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        try {
            deflater.setInput(message);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            do {
                n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
                out.write(buffer, 0, n);
            } while (n == buffer.length);
            byte[] flushed = out.toByteArray();
            assertArrayEquals(TAIL, Arrays.copyOfRange(flushed, flushed.length - 4, flushed.length));
            return Arrays.copyOf(flushed, flushed.length - 4);
        } finally {
            deflater.end();
        }
    }

    /** The message a compressed payload holds. */
    private static byte[] inflate(byte[] compressed) throws DataFormatException {
        Inflater inflater = new Inflater(true);
        try {
            byte[] input = Arrays.copyOf(compressed, compressed.length + 4);
            System.arraycopy(TAIL, 0, input, compressed.length, 4);
            inflater.setInput(input);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            for (int n = inflater.inflate(buffer); n > 0 || !inflater.needsInput(); n = inflater.inflate(buffer)) {
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        } finally {
            inflater.end();
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private GatewayServer start(Mount mount, URI backend) throws Exception {
        return servers.start(Gateway.builder().route(Route.of("/relay", Backend.of(backend))).build(), mount);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void passesTheClientsOfferToTheBackendAndTheBackendsAnswerToTheClient(Mount mount) throws Exception {
        String answer = "permessage-deflate; server_no_context_takeover; client_max_window_bits=10";
        try (ScriptedBackend backend = ScriptedBackend.answeringExtensions(answer)) {
            GatewayServer gw = start(mount, backend.uri("/raw"));
            try (WirePeer client = WirePeer.client(gw.uri("/relay"),
                    "Sec-WebSocket-Extensions: x-webkit-deflate-frame, permessage-deflate; client_max_window_bits");
                    WirePeer server = backend.nextConnection()) {
                assertEquals("permessage-deflate; client_max_window_bits", server.header("Sec-WebSocket-Extensions"));
                // The same parameters in the same order; whitespace around the semicolons (OWS) may differ.
                assertEquals("permessage-deflate;server_no_context_takeover;client_max_window_bits=10",
                        client.header("Sec-WebSocket-Extensions").replaceAll("\\s*;\\s*", ";"));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysCompressedFramesAsTheyAreInBothDirections(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.answeringExtensions("permessage-deflate")) {
            GatewayServer gw = start(mount, backend.uri("/raw"));
            try (WirePeer client = WirePeer.client(gw.uri("/relay"), "Sec-WebSocket-Extensions: permessage-deflate");
                    WirePeer server = backend.nextConnection()) {
                byte[] text = "compress me ".repeat(1_000).getBytes(StandardCharsets.UTF_8);
                byte[] compressedText = deflate(text);
                client.send(0xC1, compressedText);
                WirePeer.Frame up = server.readMessage();
                assertEquals(0xC1, up.firstByte(), "FIN, RSV1, TEXT");
                assertArrayEquals(compressedText, up.payload());
                assertArrayEquals(text, inflate(up.payload()));

                byte[] noise = new byte[200_000]; // barely compressible: a frame larger than the relay's buffers
                new Random(11).nextBytes(noise);
                byte[] compressedNoise = deflate(noise);
                client.send(0xC2, compressedNoise);
                WirePeer.Frame bulk = server.readMessage(); // maybe in several frames: RSV1 on the first only
                assertEquals(0xC2, bulk.firstByte(), "FIN, RSV1, BINARY");
                assertArrayEquals(compressedNoise, bulk.payload());

                server.send(0xC2, compressedNoise);
                WirePeer.Frame down = client.readMessage();
                assertEquals(0xC2, down.firstByte(), "FIN, RSV1, BINARY");
                assertArrayEquals(compressedNoise, down.payload());

                server.send(0x81, WirePeer.utf8("not compressed"));
                WirePeer.Frame plain = client.readMessage();
                assertEquals(0x81, plain.firstByte(), "a message without RSV1 stays without it");
                assertEquals("not compressed", plain.text());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysAFragmentedCompressedMessageWithAPingBetweenItsFragmentsAsItIs(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.answeringExtensions("permessage-deflate")) {
            GatewayServer gw = start(mount, backend.uri("/raw"));
            try (WirePeer client = WirePeer.client(gw.uri("/relay"), "Sec-WebSocket-Extensions: permessage-deflate");
                    WirePeer server = backend.nextConnection()) {
                byte[] text = "fragment me ".repeat(500).getBytes(StandardCharsets.UTF_8);
                byte[] compressed = deflate(text);
                byte[] first = Arrays.copyOf(compressed, compressed.length / 2);
                byte[] rest = Arrays.copyOfRange(compressed, first.length, compressed.length);

                client.write(concat(client.frame(0x41, first), client.frame(0x89, WirePeer.utf8("between")),
                        client.frame(0x80, rest)));

                WirePeer.Frame pong = client.read();
                assertEquals(0xA, pong.opCode(), "the gateway answers the ping");
                assertEquals("between", pong.text());
                WirePeer.Frame message = server.readMessage();
                assertEquals(0xC1, message.firstByte(), "RSV1 on the first frame");
                assertArrayEquals(compressed, message.payload());

                server.write(concat(server.frame(0x42, first), server.frame(0x89, WirePeer.utf8("pong me")),
                        server.frame(0x80, rest)));

                WirePeer.Frame backendPong = server.read();
                assertEquals(0xA, backendPong.opCode(), "the gateway answers the backend's ping");
                assertEquals("pong me", backendPong.text());
                WirePeer.Frame down = client.readMessage();
                assertEquals(0xC2, down.firstByte(), "RSV1 on the first frame");
                assertArrayEquals(compressed, down.payload());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysAFragmentedCompressedMessageWithAPingBetweenItsFragmentsBetweenJettyPeers(Mount mount) throws Exception {
        GatewayServer gw = start(mount, servers.backend().uri("/echo"));
        try (FrameClient client = new FrameClient(gw.uri("/relay"), "permessage-deflate")) {
            assertEquals(List.of("permessage-deflate"), client.extensions());
            assertEquals("permessage-deflate", servers.backend().nextUpgrade().header("Sec-WebSocket-Extensions"));
            String first = "compress me ".repeat(2_000);
            String rest = "and me too ".repeat(2_000);

            client.send(OpCode.TEXT, false, first.getBytes(StandardCharsets.UTF_8));
            client.send(OpCode.PING, true, WirePeer.utf8("between"));
            client.send(OpCode.CONTINUATION, true, rest.getBytes(StandardCharsets.UTF_8));

            FrameClient.Received pong = client.next();
            assertEquals(OpCode.PONG, pong.opCode());
            assertArrayEquals(WirePeer.utf8("between"), pong.payload());
            assertEquals(first + rest, servers.backend().texts.poll(5, TimeUnit.SECONDS));
            assertEquals(first + rest, new String(client.nextMessage(), StandardCharsets.UTF_8));
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aBackendThatDeclinesCompressionLeavesItOutOfTheClientsHandshakeAndPlainMessagesRelay(Mount mount)
            throws Exception {
        GatewayServer gw = start(mount, servers.backend().uri("/plain"));
        try (FrameClient client = new FrameClient(gw.uri("/relay"), "permessage-deflate")) {
            assertEquals(List.of(), client.extensions());
            assertEquals("permessage-deflate", servers.backend().nextUpgrade().header("Sec-WebSocket-Extensions"),
                    "the backend was not offered compression");
            byte[] text = "plain ".repeat(10_000).getBytes(StandardCharsets.UTF_8);

            client.send(OpCode.TEXT, true, text);
            assertArrayEquals(text, client.nextMessage());
            client.send(OpCode.BINARY, true, new byte[] {1, 2, 3});
            assertArrayEquals(new byte[] {1, 2, 3}, client.nextMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aClientThatCompressesAlthoughTheBackendDeclinedGets1002(Mount mount) throws Exception {
        GatewayServer gw = start(mount, servers.backend().uri("/plain"));
        try (WirePeer client = WirePeer.client(gw.uri("/relay"), "Sec-WebSocket-Extensions: permessage-deflate")) {
            assertNull(client.header("Sec-WebSocket-Extensions"));
            servers.backend().nextUpgrade();

            client.send(0xC1, deflate(WirePeer.utf8("compressed anyway")));

            WirePeer.Frame close = client.read();
            assertEquals(0x8, close.opCode());
            assertEquals(1002, close.closeCode());
            client.assertEnds();
        }
        assertEquals(new TestBackend.Closed(1001, ""), servers.backend().nextClose());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aWebSocketApiRouteNegotiatesNoCompression(Mount mount) throws Exception {
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.builder("/api").webSocketApi(WebSocketApi.builder()
                        .integration("$default", Integration.of(
                                e -> CompletableFuture.completedFuture(Reply.send(e.body().orElseThrow()))))
                        .build()).build())
                .build(), mount);
        try (FrameClient client = new FrameClient(gw.uri("/api"), "permessage-deflate")) {
            assertEquals(List.of(), client.extensions());

            client.send(OpCode.TEXT, true, WirePeer.utf8("routed"));
            assertArrayEquals(WirePeer.utf8("routed"), client.nextMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void refusesABackendThatAnswersWithAnExtensionThatWasNotOfferedWith502(Mount mount) throws Exception {
        try (ScriptedBackend deflating = ScriptedBackend.answeringExtensions("permessage-deflate");
                ScriptedBackend other = ScriptedBackend.answeringExtensions("x-webkit-deflate-frame")) {
            GatewayServer toDeflating = start(mount, deflating.uri("/raw"));
            GatewayServer toOther = start(mount, other.uri("/raw"));

            RawHttp.Response noOffer = RawHttp.upgrade(toDeflating.httpUri("/relay"));
            RawHttp.Response otherAnswer = RawHttp.upgrade(toOther.httpUri("/relay"),
                    "Sec-WebSocket-Extensions: permessage-deflate");

            assertEquals(502, noOffer.status(), noOffer.body());
            assertTrue(noOffer.body().contains("\"error\":\"bad_gateway\""), noOffer.body());
            assertEquals(502, otherAnswer.status(), otherAnswer.body());
        }
    }

    /** With permessage-deflate negotiated, RSV1 belongs on a message's first frame, and the other RSV bits nowhere. */
    static Stream<Arguments> misplacedRsvBits() {
        byte[] compressed = deflate(WirePeer.utf8("compressed"));
        Map<String, Function<Boolean, byte[]>> bits = new LinkedHashMap<>();
        bits.put("RSV2 on a first frame", masked -> WirePeer.frame(0xE1, compressed, masked));
        bits.put("RSV1 on a continuation", masked -> concat(WirePeer.frame(0x41, compressed, masked),
                WirePeer.frame(0xC0, compressed, masked)));
        bits.put("RSV1 on a PING", masked -> WirePeer.frame(0xC9, new byte[0], masked));
        return Stream.of(Mount.values()).flatMap(m -> bits.entrySet().stream()
                .map(e -> Arguments.argumentSet(m + ", " + e.getKey(), m, e.getValue())));
    }

    @ParameterizedTest
    @MethodSource("misplacedRsvBits")
    void aClientThatMisplacesRsvBitsUnderCompressionGets1002(Mount mount,
            Function<Boolean, byte[]> frames) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.answeringExtensions("permessage-deflate")) {
            GatewayServer gw = start(mount, backend.uri("/raw"));
            try (WirePeer client = WirePeer.client(gw.uri("/relay"), "Sec-WebSocket-Extensions: permessage-deflate");
                    WirePeer server = backend.nextConnection()) {
                client.write(frames.apply(true));

                assertEquals(1002, nextClose(client).closeCode());
                client.assertEnds();
                assertEquals(1001, nextClose(server).closeCode());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("misplacedRsvBits")
    void aBackendThatMisplacesRsvBitsUnderCompressionGets1002(Mount mount,
            Function<Boolean, byte[]> frames) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.answeringExtensions("permessage-deflate")) {
            GatewayServer gw = start(mount, backend.uri("/raw"));
            try (WirePeer client = WirePeer.client(gw.uri("/relay"), "Sec-WebSocket-Extensions: permessage-deflate");
                    WirePeer server = backend.nextConnection()) {
                server.write(frames.apply(false));

                assertEquals(1002, nextClose(server).closeCode());
                server.assertEnds();
                assertEquals(1014, nextClose(client).closeCode());
            }
        }
    }

    /** The next CLOSE, after the first fragment of a message that a violation cut. */
    private static WirePeer.Frame nextClose(WirePeer peer) throws IOException {
        WirePeer.Frame f = peer.read();
        while (f.opCode() != 0x8) {
            assertTrue(f.opCode() < 0x8, "a control frame before the CLOSE: " + f.opCode());
            f = peer.read();
        }
        return f;
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysAnEmptyCompressedFrameWithItsRsv1(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.answeringExtensions("permessage-deflate")) {
            GatewayServer gw = start(mount, backend.uri("/raw"));
            try (WirePeer client = WirePeer.client(gw.uri("/relay"), "Sec-WebSocket-Extensions: permessage-deflate");
                    WirePeer server = backend.nextConnection()) {
                byte[] rest = deflate(WirePeer.utf8("all in the second frame"));
                client.write(concat(client.frame(0x41, new byte[0]), client.frame(0x80, rest)));

                WirePeer.Frame first = server.read();
                assertEquals(0x41, first.firstByte(), "RSV1, TEXT, without FIN");
                assertEquals(0, first.payload().length);
                ByteArrayOutputStream continued = new ByteArrayOutputStream();
                WirePeer.Frame next;
                do {
                    next = server.read(); // the continuation, maybe in pieces
                    assertEquals(0x00, next.firstByte() & 0x7F, "CONTINUATION without RSV bits");
                    continued.writeBytes(next.payload());
                } while (!next.fin());
                assertArrayEquals(rest, continued.toByteArray());
            }
        }
    }
}
