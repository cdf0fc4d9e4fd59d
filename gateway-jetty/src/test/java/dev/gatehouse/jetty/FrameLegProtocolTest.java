package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/**
 * Frames that break RFC 6455, read by the relay's own frame legs on a live connection: the leg that broke
 * the protocol gets 1002 (1007 for a CLOSE reason that is not UTF-8) and its TCP connection ends, the other
 * leg gets the close status the close-code contract gives it (1001 for the backend, 1014 for the client),
 * and the access log says which leg broke the protocol and how.
 */
class FrameLegProtocolTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @BeforeEach
    void clearLog() {
        RecordingLogProvider.clear();
    }

    /** A violation: its name, the bytes that commit it, the status its sender gets and the log's words for it. */
    private record Violation(String name, byte[] bytes, int status, String what) {
    }

    private static byte[] masked(int firstByte, byte[] payload) {
        return WirePeer.frame(firstByte, payload, true);
    }

    private static byte[] unmasked(int firstByte, byte[] payload) {
        return WirePeer.frame(firstByte, payload, false);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A header with a 64-bit payload length whose most significant bit is set, masked (key 0) or not. */
    private static byte[] topBitLength(boolean masked) {
        ByteBuffer b = ByteBuffer.allocate(masked ? 14 : 10).put((byte) 0x82).put((byte) (masked ? 0xFF : 0x7F))
                .putLong(0x8000_0000_0000_0000L);
        return b.array();
    }

    private static final byte[] HI = WirePeer.utf8("hi");

    /** The violations either peer can commit; {@code masked} builds the sender's frames as it must mask them. */
    private static List<Violation> common(boolean masked, String sender) {
        BiFunction<Integer, byte[], byte[]> f = masked ? FrameLegProtocolTest::masked
                : FrameLegProtocolTest::unmasked;
        String protocol = sender + " protocol error: ";
        List<Violation> v = new ArrayList<>();
        v.add(new Violation("reserved opcode 3", f.apply(0x83, HI), 1002, protocol + "reserved opcode 3"));
        v.add(new Violation("reserved opcode 0xB", f.apply(0x8B, new byte[0]), 1002, protocol + "reserved opcode 11"));
        v.add(new Violation("RSV1 without an extension", f.apply(0xC1, HI), 1002,
                protocol + "RSV bits not negotiated"));
        v.add(new Violation("RSV2", f.apply(0xA2, HI), 1002, protocol + "RSV bits not negotiated"));
        v.add(new Violation("RSV3", f.apply(0x91, HI), 1002, protocol + "RSV bits not negotiated"));
        v.add(new Violation("RSV1 on a PING", f.apply(0xC9, HI), 1002, protocol + "RSV bits on a control frame"));
        v.add(new Violation("a PING of 126 bytes", f.apply(0x89, new byte[126]), 1002,
                protocol + "control frame over 125 bytes"));
        v.add(new Violation("a CLOSE of 126 bytes", f.apply(0x88, new byte[126]), 1002,
                protocol + "control frame over 125 bytes"));
        v.add(new Violation("a PING without FIN", f.apply(0x09, HI), 1002, protocol + "fragmented control frame"));
        v.add(new Violation("a CLOSE with a 1-byte payload", f.apply(0x88, new byte[] {0x03}), 1002,
                protocol + "CLOSE payload of 1 byte"));
        for (int code : new int[] {1005, 1006, 999, 5000, 1015, 2999}) {
            v.add(new Violation("a CLOSE with code " + code, f.apply(0x88, WirePeer.closePayload(code, "")), 1002,
                    protocol + "CLOSE code " + code + " not allowed"));
        }
        v.add(new Violation("a CLOSE reason that is not UTF-8",
                f.apply(0x88, concat(WirePeer.closePayload(1000, ""), new byte[] {(byte) 0xC3, 0x28})), 1007,
                sender + " invalid payload: CLOSE reason not UTF-8"));
        v.add(new Violation("a continuation without a started message", f.apply(0x80, HI), 1002,
                protocol + "continuation frame outside a message"));
        v.add(new Violation("a new TEXT inside a fragmented message", concat(f.apply(0x01, HI), f.apply(0x81, HI)),
                1002, protocol + "new message inside a fragmented message"));
        v.add(new Violation("a new BINARY inside a fragmented message", concat(f.apply(0x02, HI), f.apply(0x82, HI)),
                1002, protocol + "new message inside a fragmented message"));
        v.add(new Violation("RSV1 on a continuation", concat(f.apply(0x01, HI), f.apply(0xC0, HI)), 1002,
                protocol + "RSV bits on a continuation frame"));
        v.add(new Violation("a 64-bit length with its top bit set", topBitLength(masked), 1002,
                protocol + "a 64-bit payload length with its most significant bit set"));
        return v;
    }

    static Stream<Arguments> clientViolations() {
        List<Violation> v = new ArrayList<>(common(true, "client"));
        v.add(new Violation("an unmasked frame", unmasked(0x81, HI), 1002,
                "client protocol error: unmasked frame from a client"));
        v.add(new Violation("an unmasked CLOSE", unmasked(0x88, WirePeer.closePayload(1000, "")), 1002,
                "client protocol error: unmasked frame from a client"));
        return onBothMounts(v);
    }

    static Stream<Arguments> backendViolations() {
        List<Violation> v = new ArrayList<>(common(false, "backend"));
        v.add(new Violation("a masked frame", masked(0x81, HI), 1002,
                "backend protocol error: masked frame from a server"));
        v.add(new Violation("a masked CLOSE", masked(0x88, WirePeer.closePayload(1000, "")), 1002,
                "backend protocol error: masked frame from a server"));
        return onBothMounts(v);
    }

    private static Stream<Arguments> onBothMounts(List<Violation> violations) {
        return Stream.of(Mount.values()).flatMap(m -> violations.stream()
                .map(v -> Arguments.argumentSet(m + ", " + v.name(), m, v)));
    }

    /**
     * The next CLOSE frame the gateway sent, after the data frames it relayed before (the first fragment of a
     * message that the violation cut).
     */
    private static WirePeer.Frame nextClose(WirePeer peer) throws IOException {
        WirePeer.Frame f = peer.read();
        while (f.opCode() != 0x8) {
            assertTrue(f.opCode() < 0x8, "a control frame before the CLOSE: " + f.opCode());
            f = peer.read();
        }
        return f;
    }

    /** The access-log line of the connection that ended, waiting for it up to 5 s. */
    private static String accessLine() throws InterruptedException {
        return RecordingLogProvider.awaitLine(l -> l.contains("dev.gatehouse.access") && l.contains("\"status\":101"));
    }

    @ParameterizedTest
    @MethodSource("clientViolations")
    void aClientThatBreaksTheProtocolGetsItsStatusAndTheBackend1001(Mount mount, Violation violation) throws Exception {
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo")))).build(), mount);
        try (WirePeer client = WirePeer.client(gw.uri("/echo"))) {
            servers.backend().nextUpgrade();

            client.write(violation.bytes());

            assertEquals(violation.status(), nextClose(client).closeCode());
            client.assertEnds();
        }
        assertEquals(new TestBackend.Closed(1001, ""), servers.backend().nextClose());
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":" + violation.status() + ",") && line.contains("\"cause\":\"" + violation.what() + "\""), line);
        assertTrue(line.contains("\"initiator\":\"gateway\""), line);
    }

    @ParameterizedTest
    @MethodSource("backendViolations")
    void aBackendThatBreaksTheProtocolGetsItsStatusAndTheClient1014(Mount mount, Violation violation) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                server.write(violation.bytes());

                assertEquals(violation.status(), nextClose(server).closeCode());
                server.assertEnds();

                WirePeer.Frame toClient = nextClose(client);
                assertEquals(1014, toClient.closeCode());
                assertEquals("backend unavailable", toClient.closeReason());
                client.sendClose(1014, "");
                client.assertEnds();
            }
        }
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":1014,") && line.contains("\"cause\":\"" + violation.what() + "\""), line);
        assertTrue(line.contains("\"initiator\":\"gateway\""), line);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void controlFramesOf125BytesAreWithinTheLimit(Mount mount) throws Exception {
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo")))).build(), mount);
        String reason = "\u00e7a va \u20ac ".repeat(11) + "ok"; // 123 bytes of UTF-8: a CLOSE payload of 125
        assertEquals(123, WirePeer.utf8(reason).length);
        try (WirePeer client = WirePeer.client(gw.uri("/echo"))) {
            servers.backend().nextUpgrade();
            byte[] ping = new byte[125];
            for (int i = 0; i < ping.length; i++) {
                ping[i] = (byte) i;
            }

            client.send(0x89, ping);
            WirePeer.Frame pong = client.read();
            assertEquals(0x8A, pong.firstByte(), "FIN, PONG");
            assertArrayEquals(ping, pong.payload());

            client.sendClose(4000, reason);
            WirePeer.Frame close = client.read();
            assertEquals(4000, close.closeCode());
            assertEquals(reason, close.closeReason());
        }
        assertEquals(new TestBackend.Closed(4000, reason), servers.backend().nextClose());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aBackendsPingOf125BytesIsAnsweredWithItsPayload(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                byte[] ping = new byte[125];
                Arrays.fill(ping, (byte) 7);

                server.send(0x89, ping);

                WirePeer.Frame pong = server.read(); // masked, as read() checks
                assertEquals(0x8A, pong.firstByte(), "FIN, PONG");
                assertArrayEquals(ping, pong.payload());
            }
        }
    }

    /** RFC 6455 §5.2 asks for the shortest length form, but a relay passes a longer one on, as Jetty accepts it. */
    @ParameterizedTest
    @EnumSource(Mount.class)
    void acceptsPayloadLengthsInALongerFormThanNeeded(Mount mount) throws Exception {
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo")))).build(), mount);
        try (WirePeer client = WirePeer.client(gw.uri("/echo"))) {
            byte[] sixteen = ByteBuffer.allocate(8).put((byte) 0x81).put((byte) 0xFE).putShort((short) 3).putInt(0)
                    .array();
            byte[] sixtyFour = ByteBuffer.allocate(14).put((byte) 0x81).put((byte) 0xFF).putLong(2).putInt(0).array();

            client.write(concat(sixteen, WirePeer.utf8("hey"), sixtyFour, WirePeer.utf8("hi")));

            assertEquals("hey", client.readMessage().text());
            assertEquals("hi", client.readMessage().text());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aViolationWrittenTogetherWithTheUpgradeRequestClosesTheClientWith1002AfterThe101(Mount mount)
            throws Exception {
        GatewayServer gw = servers.start(Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo")))).build(), mount);
        try (WirePeer client = WirePeer.client(gw.uri("/echo"), unmasked(0x81, HI))) {
            assertEquals(1002, nextClose(client).closeCode());
            client.assertEnds();
        }
        assertEquals(new TestBackend.Closed(1001, ""), servers.backend().nextClose());
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":1002,") && line.contains("\"cause\":\"client protocol error: unmasked frame from a client\""), line);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aViolationABackendWritesTogetherWithIts101ClosesTheClientWith1014AfterIts101(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.sendingBehindThe101(unmasked(0x83, new byte[0]))) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                assertEquals(1002, nextClose(server).closeCode());
                server.assertEnds();
                assertEquals(1014, nextClose(client).closeCode());
                client.sendClose(1014, "");
                client.assertEnds();
            }
        }
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":1014,") && line.contains("\"cause\":\"backend protocol error: reserved opcode 3\""), line);
    }
}
