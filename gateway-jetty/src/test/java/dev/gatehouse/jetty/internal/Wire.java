package dev.gatehouse.jetty.internal;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;

/**
 * Frames written by hand, byte by byte, for the codec tests: deliberately independent of
 * {@link FrameHeaders} and {@link Masking}, so that a test of the parser does not lean on the writer.
 */
final class Wire {

    /** The length form that a frame's header uses. */
    enum Form {
        /** The shortest form for the length. */
        SHORTEST,
        /** The 16-bit extended length, whatever the length. */
        SIXTEEN,
        /** The 64-bit extended length, whatever the length. */
        SIXTY_FOUR
    }

    static final int KEY = 0x37FA213D; // the masking key of RFC 6455 §5.7's example

    private Wire() {
    }

    /** An unmasked frame with the shortest length form. */
    static byte[] unmasked(int firstByte, byte[] payload) {
        return frame(firstByte, payload, false, 0, Form.SHORTEST);
    }

    /** A frame masked with {@link #KEY}, with the shortest length form. */
    static byte[] masked(int firstByte, byte[] payload) {
        return frame(firstByte, payload, true, KEY, Form.SHORTEST);
    }

    /** A frame; {@code payload} is given unmasked and masked here when {@code masked}. */
    static byte[] frame(int firstByte, byte[] payload, boolean masked, int key, Form form) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header(firstByte, payload.length, masked, key, form));
        for (int i = 0; i < payload.length; i++) {
            out.write(masked ? payload[i] ^ keyByte(key, i) : payload[i]);
        }
        return out.toByteArray();
    }

    /** A frame's header alone, for lengths too large to build. */
    static byte[] header(int firstByte, long length, boolean masked, int key, Form form) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(firstByte);
        int maskBit = masked ? 0x80 : 0;
        Form f = form != Form.SHORTEST ? form : length <= 125 ? null : length <= 0xFFFF ? Form.SIXTEEN : Form.SIXTY_FOUR;
        if (f == null) {
            out.write(maskBit | (int) length);
        } else if (f == Form.SIXTEEN) {
            out.write(maskBit | 126);
            out.write((int) (length >> 8));
            out.write((int) length);
        } else {
            out.write(maskBit | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.write((int) (length >>> shift));
            }
        }
        if (masked) {
            for (int i = 0; i < 4; i++) {
                out.write(keyByte(key, i));
            }
        }
        return out.toByteArray();
    }

    /** A CLOSE payload: the code in two bytes, then the reason's bytes. */
    static byte[] closePayload(int code, byte... reason) {
        byte[] payload = new byte[2 + reason.length];
        payload[0] = (byte) (code >> 8);
        payload[1] = (byte) code;
        System.arraycopy(reason, 0, payload, 2, reason.length);
        return payload;
    }

    /** Byte {@code i % 4} of a masking key. */
    static int keyByte(int key, long i) {
        return (key >>> (24 - 8 * (int) (i & 3))) & 0xFF;
    }

    /** {@code n} bytes counting up from {@code seed}, so that misplaced bytes show. */
    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i * 7);
        }
        return b;
    }

    static byte[] join(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
