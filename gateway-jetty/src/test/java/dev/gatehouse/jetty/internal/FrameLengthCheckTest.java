package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

/** {@link FrameLengthCheck}: frame boundaries followed across reads, bad lengths found where they start. */
class FrameLengthCheckTest {

    /** A masked client frame with the given payload length, encoded in its shortest form or as asked. */
    private static byte[] frame(int payload, int lengthBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x82);
        if (lengthBytes == 0) {
            out.write(0x80 | payload);
        } else if (lengthBytes == 2) {
            out.write(0x80 | 126);
            out.write(payload >> 8);
            out.write(payload);
        } else {
            out.write(0x80 | 127);
            out.writeBytes(ByteBuffer.allocate(8).putLong(payload).array());
        }
        out.writeBytes(new byte[] {1, 2, 3, 4}); // masking key
        out.writeBytes(new byte[payload]);
        return out.toByteArray();
    }

    private static byte[] join(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Feeds {@code bytes} in reads of {@code chunk} bytes; the absolute index of the bad byte, or -1. */
    private static int scan(byte[] bytes, int chunk) {
        FrameLengthCheck check = new FrameLengthCheck();
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        for (int from = 0; from < bytes.length; from += chunk) {
            int bad = check.scan(buffer, from, Math.min(bytes.length, from + chunk));
            if (bad >= 0) {
                return bad;
            }
        }
        return -1;
    }

    private static final byte[] TOP_BIT = {(byte) 0x82, (byte) 0xFF, (byte) 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};

    @Test
    void findsNothingInValidFramesOfEveryLengthFormWhateverTheReads() {
        byte[] frames = join(frame(0, 0), frame(5, 0), frame(125, 0), frame(126, 2), frame(300, 2),
                frame(70_000, 8), frame(0, 8), frame(3, 0));
        for (int chunk : new int[] {1, 2, 3, 7, 13, 1000, frames.length}) {
            assertEquals(-1, scan(frames, chunk), "reads of " + chunk);
        }
    }

    @Test
    void findsTheFirstLengthByteOfATopBitLengthAfterValidFrames() {
        byte[] before = join(frame(10, 0), frame(200, 2));
        byte[] bytes = join(before, TOP_BIT);
        for (int chunk : new int[] {1, 2, 5, 64, bytes.length}) {
            assertEquals(before.length + 2, scan(bytes, chunk), "reads of " + chunk);
        }
    }

    @Test
    void takesTopBitsInsidePayloadsAndShorterLengthsForWhatTheyAre() {
        byte[] payloadLooksBad = join(new byte[] {(byte) 0x82, (byte) 0x8E, 0, 0, 0, 0}, TOP_BIT);
        assertEquals(-1, scan(payloadLooksBad, 3));
        byte[] sixteenBit = {(byte) 0x82, (byte) 0xFE, (byte) 0x80, 0, 0, 0, 0, 0};
        assertEquals(-1, scan(sixteenBit, 1), "a 16-bit length may use its top bit");
    }

    @Test
    void followsUnmaskedFramesToo() {
        byte[] unmasked = {(byte) 0x81, 0x02, 'h', 'i', (byte) 0x82, 0x7F, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0};
        assertEquals(6, scan(unmasked, 4));
    }
}
