package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;

/**
 * Frames that reach the gateway in pieces, written by a raw client cut at the awkward points of a frame
 * (inside the header, inside the mask key, inside the payload at every offset of the mask), and frames that
 * come in the same TCP write as the handshake before them, from the client or the backend: each message is
 * relayed intact, as the bytes it was, and empty fragments stay frames of their own. A TCP stack may join
 * writes again, so these cuts are offered to the gateway's reads, not forced on them; the frame codec's own
 * tests cut at every byte of every read.
 */
class SplitFrameRelayTest {

    private static final int TEXT = 0x1;
    private static final int BINARY = 0x2;

    @RegisterExtension
    final Servers servers = new Servers();

    /** Where a masked frame is cut into writes. */
    enum Split {
        /** Each header byte (mask key too) in a write of its own, then the payload's first byte, middle, last byte. */
        HEADER_BYTE_BY_BYTE,
        /** The header up to half its mask key; the rest of the key and the first payload byte; the rest. */
        INSIDE_THE_MASK_KEY,
        /**
         * The header, then the payload in pieces of 1, 2, 3, 5, 7, 11 and 13 bytes, so that pieces end at every
         * offset within the 4-byte mask, and then in pieces of 8,191 bytes.
         */
        PAYLOAD_IN_ODD_PIECES;

        List<byte[]> cut(byte[] frame, int headerLength) {
            List<Integer> ends = new ArrayList<>();
            switch (this) {
                case HEADER_BYTE_BY_BYTE -> {
                    for (int i = 1; i <= headerLength; i++) {
                        ends.add(i);
                    }
                    ends.add(headerLength + 1);
                    ends.add(frame.length - 1);
                }
                case INSIDE_THE_MASK_KEY -> {
                    ends.add(headerLength - 2);
                    ends.add(headerLength + 1);
                }
                default -> {
                    ends.add(headerLength);
                    int end = headerLength;
                    for (int piece : new int[] {1, 2, 3, 5, 7, 11, 13}) {
                        end += piece;
                        ends.add(end);
                    }
                    for (end += 8191; end < frame.length; end += 8191) {
                        ends.add(end);
                    }
                }
            }
            ends.add(frame.length);
            List<byte[]> pieces = new ArrayList<>();
            int from = 0;
            for (int end : ends) {
                int to = Math.min(end, frame.length);
                if (to > from) {
                    pieces.add(Arrays.copyOfRange(frame, from, to));
                    from = to;
                }
            }
            return pieces;
        }
    }

    static Stream<Arguments> splitsAndSizes() {
        return Stream.of(Mount.values()).flatMap(m -> Stream.of(Split.values()).flatMap(s ->
                IntStream.of(0, 125, 126, 65_535, 65_536, 200_000).mapToObj(n -> Arguments.of(m, s, n))));
    }

    private GatewayServer start(Mount mount) throws Exception {
        return servers.start(Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo")))).build(), mount);
    }

    /** {@code size} bytes of UTF-8 text with one-, two-, three- and four-byte characters, padded with ASCII. */
    private static byte[] text(int size) {
        byte[] unit = "ab\u00e9\u20ac\ud834\udd1e".getBytes(StandardCharsets.UTF_8); // 11 bytes
        byte[] text = new byte[size];
        Arrays.fill(text, (byte) 'x');
        for (int i = 0; i + unit.length <= size; i += unit.length) {
            System.arraycopy(unit, 0, text, i, unit.length);
        }
        return text;
    }

    private static byte[] binary(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** The length of a masked frame's header for a payload of {@code size} bytes. */
    private static int maskedHeaderLength(int size) {
        return (size <= 125 ? 2 : size <= 0xFFFF ? 4 : 10) + 4;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @ParameterizedTest
    @MethodSource("splitsAndSizes")
    void relaysAFrameCutIntoWritesIntact(Mount mount, Split split, int size) throws Exception {
        GatewayServer gw = start(mount);
        try (WirePeer client = WirePeer.client(gw.uri("/echo"))) {
            for (int opcode : new int[] {TEXT, BINARY}) {
                byte[] payload = opcode == TEXT ? text(size) : binary(size, size);
                byte[] frame = client.frame(0x80 | opcode, payload);
                for (byte[] piece : split.cut(frame, maskedHeaderLength(size))) {
                    client.write(piece);
                }

                WirePeer.Frame echo = client.readMessage();
                assertEquals(opcode, echo.opCode());
                assertArrayEquals(payload, echo.payload());
            }
            client.sendClose(1000, "");
            assertEquals(1000, client.read().closeCode());
            client.assertEnds();
        }
    }

    /**
     * A fragmented text message with a PING between its fragments, then a binary message with a 16-bit
     * length, written in two writes cut at each byte in turn.
     */
    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysFramesCutAtEveryByteOfTheirStream(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (WirePeer client = WirePeer.client(gw.uri("/echo"))) {
            byte[] head = WirePeer.utf8("frag");
            byte[] tail = text(130);
            byte[] bin = binary(126, 7);
            byte[] stream = concat(client.frame(0x01, head), client.frame(0x89, WirePeer.utf8("p")),
                    client.frame(0x80, tail), client.frame(0x82, bin));
            for (int cut = 1; cut < stream.length; cut++) {
                client.write(Arrays.copyOfRange(stream, 0, cut));
                client.write(Arrays.copyOfRange(stream, cut, stream.length));

                WirePeer.Frame pong = client.read();
                assertEquals(0xA, pong.opCode(), "cut at " + cut);
                assertEquals("p", pong.text());
                WirePeer.Frame text = client.readMessage();
                assertEquals(TEXT, text.opCode(), "cut at " + cut);
                assertArrayEquals(concat(head, tail), text.payload(), "cut at " + cut);
                WirePeer.Frame binary = client.readMessage();
                assertEquals(BINARY, binary.opCode(), "cut at " + cut);
                assertArrayEquals(bin, binary.payload(), "cut at " + cut);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysTheFramesAClientWritesTogetherWithItsUpgradeRequest(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        byte[] large = binary(100_000, 3);
        byte[] early = concat(WirePeer.frame(0x81, WirePeer.utf8("early"), true), WirePeer.frame(0x82, large, true),
                WirePeer.frame(0x81, WirePeer.utf8("late"), true));

        try (WirePeer client = WirePeer.client(gw.uri("/echo"), early)) {
            assertEquals("early", client.readMessage().text());
            WirePeer.Frame echo = client.readMessage();
            assertEquals(BINARY, echo.opCode());
            assertArrayEquals(large, echo.payload());
            assertEquals("late", client.readMessage().text());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysTheFramesABackendWritesTogetherWithIts101(Mount mount) throws Exception {
        byte[] large = binary(100_000, 5);
        byte[] behind = concat(WirePeer.frame(0x81, WirePeer.utf8("first"), false), WirePeer.frame(0x82, large, false));
        try (ScriptedBackend backend = ScriptedBackend.sendingBehindThe101(behind)) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                assertEquals("first", client.readMessage().text());
                WirePeer.Frame echo = client.readMessage();
                assertEquals(BINARY, echo.opCode());
                assertArrayEquals(large, echo.payload());

                client.send(0x81, WirePeer.utf8("then"));
                assertEquals("then", server.readMessage().text());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysEmptyFragmentsAsFramesOfTheirOwn(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                byte[] none = new byte[0];
                client.write(concat(client.frame(0x01, none), client.frame(0x00, WirePeer.utf8("ab")),
                        client.frame(0x00, none), client.frame(0x80, none), client.frame(0x82, none)));

                int[] expected = {0x01, 0x00, 0x00, 0x80, 0x82};
                int[] lengths = {0, 2, 0, 0, 0};
                for (int i = 0; i < expected.length; i++) {
                    WirePeer.Frame f = server.read();
                    assertEquals(expected[i], f.firstByte(), "frame " + i);
                    assertEquals(lengths[i], f.payload().length, "frame " + i);
                }
            }
        }
    }

    /**
     * A backend frame of 64 KiB cut where the gateway's 64 KiB read buffer ends: its 10-byte header and the
     * first 65,526 bytes of its payload in one write, its last 10 bytes in a write of their own once the gateway
     * relayed the rest, then a second message. A client that reads nothing meanwhile then gets both messages
     * whole, in order, the first as a fragment and its continuation. (The gateway's own read of the first write
     * may still come in pieces; the frame codec's tests cut it exactly, with the client leg held back.)
     */
    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysABackendFrameWhoseTailComesAfterTheGatewaysReadBufferFilled(Mount mount) throws Exception {
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                byte[] first = binary(64 * 1024, 11);
                byte[] second = binary(64 * 1024, 12);
                byte[] frame = WirePeer.frame(0x82, first, false);
                int cut = 64 * 1024;
                server.write(Arrays.copyOfRange(frame, 0, cut));
                Await.until("the gateway relayed all but the frame's last 10 bytes",
                        () -> gw.gateway.connections().list().stream().anyMatch(c -> c.bytesOut() >= cut - 10));
                server.write(Arrays.copyOfRange(frame, cut, frame.length));
                server.write(WirePeer.frame(0x82, second, false));

                WirePeer.Frame one = client.readMessage();
                assertEquals(BINARY, one.opCode());
                assertArrayEquals(first, one.payload());
                WirePeer.Frame two = client.readMessage();
                assertEquals(BINARY, two.opCode());
                assertArrayEquals(second, two.payload());
            }
        }
    }
}
