package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link FrameParser.Listener} that rebuilds the frames it is told about and checks the listener
 * contract as it goes: event order, contiguous payload offsets, read-only views, and, when it knows the read
 * buffer, that a data frame's payload view is that buffer's bytes with the buffer's position just past it.
 */
final class FrameRecorder implements FrameParser.Listener {

    /**
     * One frame as the parser reported it.
     *
     * @param firstByte     FIN, RSV and opcode
     * @param masked        the MASK bit
     * @param maskKey       the key, 0 when unmasked
     * @param payloadLength the length from the header
     * @param header        the header bytes, in hex
     * @param wire          the payload as reported (masked if the frame is), in hex
     * @param plain         the payload unmasked, in hex
     */
    record Frame(int firstByte, boolean masked, int maskKey, long payloadLength, String header, String wire,
                 String plain) {
    }

    final List<Frame> frames = new ArrayList<>();
    final List<String> events = new ArrayList<>();
    final List<Integer> positions = new ArrayList<>(); // the read buffer's position at each event

    private ByteBuffer readBuffer;                 // the buffer being parsed, when the test says so; or null
    private String pauseAfter = "";                // the event kinds to pause after: any of "s", "p", "e"
    private FrameParser.Header current;            // the frame being reported, null between frames
    private ByteArrayOutputStream wire;            // its payload so far, as reported
    private ByteArrayOutputStream plain;           // its payload so far, unmasked
    private long received;                         // its payload bytes so far
    private boolean keepEvents = true;             // whether events are listed, or only counted
    long eventCount;                               // events so far

    /** Pauses after each event whose kind is in {@code kinds}: "s" start, "p" payload, "e" end. */
    FrameRecorder pauseAfter(String kinds) {
        this.pauseAfter = kinds;
        return this;
    }

    /** Counts events without listing them, for tests with very many. */
    FrameRecorder countingEvents() {
        this.keepEvents = false;
        return this;
    }

    /** Tells the recorder which buffer the parser reads, to check positions and views against it. */
    FrameRecorder reading(ByteBuffer buffer) {
        this.readBuffer = buffer;
        return this;
    }

    boolean betweenFrames() {
        return current == null;
    }

    @Override
    public FrameParser.Flow onFrameStart(FrameParser.Header header) {
        assertNull(current, "a frame started before the last one ended");
        current = header;
        wire = new ByteArrayOutputStream();
        plain = new ByteArrayOutputStream();
        received = 0;
        ByteBuffer bytes = header.bytes();
        assertTrue(bytes.isReadOnly());
        assertEquals(0, bytes.position());
        assertEquals(header.headerLength(), bytes.remaining());
        if (keepEvents) {
            events.add("start " + Integer.toHexString(header.bytes().get(0) & 0xFF) + " " + header.payloadLength());
        }
        return record("s");
    }

    @Override
    public FrameParser.Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
        assertNotNull(current, "payload outside a frame");
        assertEquals(current, header);
        assertTrue(payload.isReadOnly(), "payload view is writable");
        assertTrue(payload.hasRemaining(), "empty payload piece");
        assertEquals(received, frameOffset, "payload offsets are not contiguous");
        assertTrue(frameOffset + payload.remaining() <= header.payloadLength(), "payload past the frame's length");
        int start = payload.position();
        int n = payload.remaining();
        if (readBuffer != null && !header.isControl()) {
            assertEquals(readBuffer.position(), payload.limit(), "read buffer position is not past the piece");
            assertEquals(readBuffer.slice(start, n), payload, "the view is not the read buffer");
        }
        byte[] bytes = new byte[n];
        payload.get(start, bytes);
        wire.writeBytes(bytes);
        for (int i = 0; i < n; i++) {
            bytes[i] ^= (byte) Wire.keyByte(header.maskKey(), frameOffset + i);
        }
        plain.writeBytes(bytes);
        received += n;
        if (keepEvents) {
            events.add("payload " + frameOffset + "+" + n);
        }
        return record("p");
    }

    @Override
    public FrameParser.Flow onFrameEnd(FrameParser.Header header) {
        assertNotNull(current, "end outside a frame");
        assertEquals(header.payloadLength(), received, "frame ended early");
        byte[] headerBytes = new byte[header.headerLength()];
        header.bytes().get(headerBytes);
        frames.add(new Frame(headerBytes[0] & 0xFF, header.masked(), header.maskKey(), header.payloadLength(),
                Wire.hex(headerBytes), Wire.hex(wire.toByteArray()), Wire.hex(plain.toByteArray())));
        current = null;
        if (keepEvents) {
            events.add("end");
        }
        return record("e");
    }

    private FrameParser.Flow record(String kind) {
        eventCount++;
        if (readBuffer != null) {
            positions.add(readBuffer.position());
        }
        return pauseAfter.contains(kind) ? FrameParser.Flow.PAUSE : FrameParser.Flow.CONTINUE;
    }

    /** Feeds {@code bytes} to {@code parser} in the given pieces, resuming after each pause. */
    static void feed(FrameParser parser, FrameRecorder recorder, byte[] bytes, int... cuts) {
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : bytes.length;
            ByteBuffer buffer = ByteBuffer.wrap(bytes, from, to - from);
            recorder.reading(buffer);
            while (parser.parse(buffer) == FrameParser.Flow.PAUSE) {
                assertFalse(recorder.pauseAfter.isEmpty(), "paused without being asked");
            }
            assertFalse(buffer.hasRemaining(), "bytes left after CONTINUE");
            from = to;
        }
    }
}
