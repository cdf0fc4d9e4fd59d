package dev.gatehouse.jetty.internal;

import java.nio.ByteBuffer;

/**
 * Follows the frame boundaries of one direction of a WebSocket connection, byte by byte as they are read,
 * and finds a 64-bit payload length whose most significant bit is set, which RFC 6455 (section 5.2) makes
 * a protocol error. Jetty's frame parser reads such a length like any length of 2 GiB or more and closes
 * with 1009, so the client leg looks at the bytes before Jetty does. It reads headers only: a frame's
 * payload is skipped, whatever its size. Not thread-safe: one reader at a time, as a connection reads.
 */
final class FrameLengthCheck {

    private static final int FIRST = 0;   // the FIN/RSV/opcode byte
    private static final int SECOND = 1;  // the MASK bit and the 7-bit length
    private static final int LENGTH = 2;  // the 16- or 64-bit length
    private static final int MASK = 3;    // the masking key
    private static final int PAYLOAD = 4; // the payload, skipped

    private int state = FIRST;  // where the next byte falls
    private boolean masked;     // the current frame has a masking key
    private int lengthLeft;     // bytes of the extended length still to come
    private boolean longLength; // the extended length is the 64-bit one
    private long length;        // the payload length read so far
    private int maskLeft;       // bytes of the masking key still to come
    private long payloadLeft;   // bytes of payload still to skip

    /**
     * Reads the bytes at indexes {@code from} (inclusive) to {@code to} (exclusive) of {@code buffer}, the
     * next bytes of the connection, without moving its position.
     *
     * @return the index of the first byte of a 64-bit length with its top bit set, or -1 when there is none
     */
    int scan(ByteBuffer buffer, int from, int to) {
        int i = from;
        while (i < to) {
            switch (state) {
                case FIRST -> {
                    i++;
                    state = SECOND;
                }
                case SECOND -> {
                    int b = buffer.get(i++) & 0xFF;
                    masked = (b & 0x80) != 0;
                    int length7 = b & 0x7F;
                    length = 0;
                    if (length7 == 126 || length7 == 127) {
                        longLength = length7 == 127;
                        lengthLeft = longLength ? 8 : 2;
                        state = LENGTH;
                    } else {
                        length = length7;
                        afterLength();
                    }
                }
                case LENGTH -> {
                    int b = buffer.get(i) & 0xFF;
                    if (longLength && lengthLeft == 8 && (b & 0x80) != 0) {
                        return i;
                    }
                    i++;
                    length = (length << 8) | b;
                    if (--lengthLeft == 0) {
                        afterLength();
                    }
                }
                case MASK -> {
                    int n = Math.min(maskLeft, to - i);
                    i += n;
                    maskLeft -= n;
                    if (maskLeft == 0) {
                        state = payloadLeft == 0 ? FIRST : PAYLOAD;
                    }
                }
                default -> {
                    int n = (int) Math.min(payloadLeft, to - i);
                    i += n;
                    payloadLeft -= n;
                    if (payloadLeft == 0) {
                        state = FIRST;
                    }
                }
            }
        }
        return -1;
    }

    private void afterLength() {
        payloadLeft = length;
        if (masked) {
            maskLeft = 4;
            state = MASK;
        } else {
            state = payloadLeft == 0 ? FIRST : PAYLOAD;
        }
    }
}
