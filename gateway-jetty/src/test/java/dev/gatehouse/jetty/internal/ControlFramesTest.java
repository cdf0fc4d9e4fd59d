package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.internal.Parser;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.jetty.internal.FrameParser.Sender;

/** {@link ControlFrames} and {@link MaskKeys}: the PING, PONG and CLOSE frames the gateway writes itself. */
class ControlFramesTest {

    private static byte[] write(Consumer<ByteBuffer> writer) {
        ByteBuffer out = ByteBuffer.allocate(ControlFrames.MAX_LENGTH);
        writer.accept(out);
        byte[] bytes = new byte[out.flip().remaining()];
        out.get(bytes);
        return bytes;
    }

    /** The one frame in {@code bytes}, as {@link FrameParser} reads it from {@code sender}. */
    private static FrameRecorder.Frame parse(Sender sender, byte[] bytes) {
        FrameRecorder recorder = new FrameRecorder();
        FrameRecorder.feed(FrameParser.of(sender, 0, FrameParser.NO_LIMIT, recorder), recorder, bytes);
        assertEquals(1, recorder.frames.size());
        return recorder.frames.get(0);
    }

    /** The close status of the one CLOSE frame in {@code bytes}, as {@link FrameParser} decodes it. */
    private static String closeOf(Sender sender, byte[] bytes) {
        StringBuilder seen = new StringBuilder();
        FrameParser.of(sender, 0, FrameParser.NO_LIMIT, new FrameParser.Listener() {
            @Override
            public FrameParser.Flow onFrameStart(FrameParser.Header header) {
                seen.append(header.closeCode()).append(' ').append(header.closeReason());
                return FrameParser.Flow.CONTINUE;
            }

            @Override
            public FrameParser.Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
                return FrameParser.Flow.CONTINUE;
            }

            @Override
            public FrameParser.Flow onFrameEnd(FrameParser.Header header) {
                return FrameParser.Flow.CONTINUE;
            }
        }).parse(ByteBuffer.wrap(bytes));
        return seen.toString();
    }

    @Test
    void writesUnmaskedFramesForAClient() {
        ByteBuffer payload = ByteBuffer.wrap("Hello".getBytes(StandardCharsets.US_ASCII));
        assertEquals("890548656c6c6f", Wire.hex(write(out -> ControlFrames.TO_CLIENT.ping(out, payload))));
        assertEquals("8a0548656c6c6f", Wire.hex(write(out -> ControlFrames.TO_CLIENT.pong(out, payload))));
        assertEquals(0, payload.position(), "the payload's position does not move");
        assertEquals("8a00", Wire.hex(write(out -> ControlFrames.TO_CLIENT.pong(out, ByteBuffer.allocate(0)))));
        assertEquals("880403e86f6b", Wire.hex(write(out -> ControlFrames.TO_CLIENT.close(out, CloseStatus.of(1000, "ok")))));
        assertEquals("880203f3", Wire.hex(write(out -> ControlFrames.TO_CLIENT.close(out, CloseStatus.of(1011)))));
        assertEquals("8800", Wire.hex(write(out -> ControlFrames.TO_CLIENT.close(out, CloseStatus.NO_STATUS))));
    }

    @Test
    void writesMaskedFramesForAServer() {
        ByteBuffer payload = ByteBuffer.wrap(Wire.bytes(125, 1));
        FrameRecorder.Frame ping = parse(Sender.CLIENT, write(out -> ControlFrames.TO_SERVER.ping(out, payload)));
        assertEquals(0x89, ping.firstByte());
        assertTrue(ping.masked());
        assertEquals(Wire.hex(Wire.bytes(125, 1)), ping.plain());
        assertNotEquals(ping.plain(), ping.wire(), "the payload goes out masked");
        assertEquals(0, payload.position());

        byte[] close = write(out -> ControlFrames.TO_SERVER.close(out, CloseStatus.of(4000, "bye")));
        assertEquals("4000 bye", closeOf(Sender.CLIENT, close));
        assertEquals(0x85, close[1] & 0xFF, "masked, with 5 bytes of payload");
    }

    @Test
    void writesFramesJettysParserReads() {
        byte[] ping = write(out -> ControlFrames.TO_SERVER.ping(out, ByteBuffer.wrap(Wire.bytes(10, 3))));
        byte[] close = write(out -> ControlFrames.TO_SERVER.close(out, CloseStatus.of(1001, "going, gone")));
        Parser parser = new Parser(ByteBufferPool.NON_POOLING);
        ByteBuffer bytes = ByteBuffer.wrap(Wire.join(ping, close));
        Frame.Parsed first = parser.parse(bytes);
        assertEquals(ByteBuffer.wrap(Wire.bytes(10, 3)), first.getPayload());
        Frame.Parsed second = parser.parse(bytes);
        assertEquals(1001, second.getCloseStatus().getCode());
        assertEquals("going, gone", second.getCloseStatus().getReason());
    }

    @Test
    void cutsALongReasonAtACharacterBoundary() {
        String ascii = "x".repeat(200);
        assertEquals("1000 " + "x".repeat(123), closeOf(Sender.SERVER,
                write(out -> ControlFrames.TO_CLIENT.close(out, CloseStatus.of(1000, ascii)))));
        String accents = "\u00e9".repeat(100); // 2 bytes each: 61 fit in 123 bytes
        assertEquals("1000 " + "\u00e9".repeat(61), closeOf(Sender.CLIENT,
                write(out -> ControlFrames.TO_SERVER.close(out, CloseStatus.of(1000, accents)))));
        String emoji = "ab" + "\ud83d\ude00".repeat(40); // 2 + 4 * 30 = 122 bytes fit, the 31st does not
        assertEquals("3000 ab" + "\ud83d\ude00".repeat(30), closeOf(Sender.SERVER,
                write(out -> ControlFrames.TO_CLIENT.close(out, CloseStatus.of(3000, emoji)))));
        assertEquals(ControlFrames.MAX_LENGTH, write(out -> ControlFrames.TO_SERVER.close(out, CloseStatus.of(1000, ascii))).length);
    }

    @Test
    void refusesCodesThatMayNotBeSentAndPayloadsOver125Bytes() {
        ByteBuffer out = ByteBuffer.allocate(ControlFrames.MAX_LENGTH);
        for (int code : new int[] {1004, 1006, 1015, 1016, 2999}) {
            assertThrows(IllegalArgumentException.class, () -> ControlFrames.TO_CLIENT.close(out, CloseStatus.of(code)));
        }
        assertThrows(IllegalArgumentException.class, () -> ControlFrames.TO_SERVER.ping(out, ByteBuffer.allocate(126)));
        assertEquals(0, out.position());
    }

    @Test
    void writesNothingWhenTheFrameDoesNotFit() {
        ByteBuffer out = ByteBuffer.allocate(10);
        ByteBuffer payload = ByteBuffer.wrap(Wire.bytes(5, 1));
        assertThrows(BufferOverflowException.class, () -> ControlFrames.TO_SERVER.ping(out, payload));
        assertEquals(0, out.position());
        assertEquals(0, payload.position());
        ControlFrames.TO_CLIENT.ping(out, payload);
        assertEquals(7, out.position());
    }

    @Test
    void masksEachFrameWithAFreshKey() {
        Set<Integer> keys = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            FrameRecorder.Frame pong = parse(Sender.CLIENT, write(out -> ControlFrames.TO_SERVER.pong(out, ByteBuffer.allocate(0))));
            keys.add(pong.maskKey());
        }
        assertTrue(keys.size() > 990, "only " + keys.size() + " distinct keys in 1,000");
        assertFalse(keys.contains(0));
    }

    @Test
    void drawsKeysOnEveryThread() throws Exception {
        Set<Integer> keys = Collections.synchronizedSet(new HashSet<>());
        List<Thread> threads = List.of(new Thread(() -> draw(keys)), new Thread(() -> draw(keys)), new Thread(() -> draw(keys)));
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(5_000);
        }
        assertTrue(keys.size() > 2_900, "only " + keys.size() + " distinct keys in 3,000");
    }

    private static void draw(Set<Integer> keys) {
        for (int i = 0; i < 1_000; i++) {
            keys.add(MaskKeys.next());
        }
    }
}
