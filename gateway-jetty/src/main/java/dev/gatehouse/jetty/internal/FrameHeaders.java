package dev.gatehouse.jetty.internal;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;

/**
 * The RFC 6455 frame header (section 5.2): its bit constants and a writer for the headers the gateway
 * sends or rewrites, in all three length forms, with or without a masking key.
 *
 * <p>A header is 2 to 14 bytes: the FIN/RSV/opcode byte, the MASK bit with a 7-bit length, a 16-bit
 * length when the payload is 126 to 65,535 bytes or a 64-bit length above that, then the 4-byte masking
 * key of a masked frame. The writer always uses the shortest length form, as section 5.2 requires.
 * Stateless and thread-safe.
 */
final class FrameHeaders {

    /** Opcode of a frame that continues a fragmented message. */
    static final int CONTINUATION = 0x0;
    /** Opcode of the first frame of a text message. */
    static final int TEXT = 0x1;
    /** Opcode of the first frame of a binary message. */
    static final int BINARY = 0x2;
    /** Opcode of a CLOSE control frame. */
    static final int CLOSE = 0x8;
    /** Opcode of a PING control frame. */
    static final int PING = 0x9;
    /** Opcode of a PONG control frame. */
    static final int PONG = 0xA;

    /** The FIN bit of the first header byte: the frame ends its message. */
    static final int FIN = 0x80;
    /** The RSV1 bit of the first header byte, the one permessage-deflate uses. */
    static final int RSV1 = 0x40;
    /** The RSV2 bit of the first header byte. */
    static final int RSV2 = 0x20;
    /** The RSV3 bit of the first header byte. */
    static final int RSV3 = 0x10;
    /** The MASK bit of the second header byte. */
    static final int MASK = 0x80;

    /** The largest payload of a control frame (section 5.5). */
    static final int MAX_CONTROL_PAYLOAD = 125;
    /** The longest header: two bytes, a 64-bit length and a masking key. */
    static final int MAX_HEADER_LENGTH = 14;

    private FrameHeaders() {
    }

    /** Whether {@code opcode} is that of a control frame (CLOSE, PING, PONG or a reserved 0xB-0xF). */
    static boolean isControl(int opcode) {
        return (opcode & 0x8) != 0;
    }

    /**
     * The length of the header of a frame with {@code payloadLength} bytes of payload: 2, 4 or 10 bytes,
     * plus 4 when it is masked.
     *
     * @throws IllegalArgumentException if {@code payloadLength} is negative
     */
    static int length(long payloadLength, boolean masked) {
        checkPayloadLength(payloadLength);
        int length = payloadLength <= 125 ? 2 : payloadLength <= 0xFFFF ? 4 : 10;
        return masked ? length + 4 : length;
    }

    /**
     * Puts the header of an unmasked frame at {@code out}'s position and moves the position past it.
     *
     * @param out           where the header goes; nothing is written unless it all fits
     * @param firstByte     FIN, RSV and opcode bits, e.g. {@code FIN | TEXT}
     * @param payloadLength the payload length, written in its shortest form
     * @throws BufferOverflowException  if {@code out} has less room than {@link #length(long, boolean)}
     * @throws IllegalArgumentException if {@code firstByte} is not a byte or {@code payloadLength} is negative
     */
    static void write(ByteBuffer out, int firstByte, long payloadLength) {
        put(out, firstByte, payloadLength, false, 0);
    }

    /**
     * Puts the header of a masked frame at {@code out}'s position and moves the position past it. The
     * payload that follows must be masked with the same key (see {@link Masking}).
     *
     * @param out           where the header goes; nothing is written unless it all fits
     * @param firstByte     FIN, RSV and opcode bits, e.g. {@code FIN | PING}
     * @param payloadLength the payload length, written in its shortest form
     * @param maskKey       the masking key, its first wire byte in the most significant 8 bits
     * @throws BufferOverflowException  if {@code out} has less room than {@link #length(long, boolean)}
     * @throws IllegalArgumentException if {@code firstByte} is not a byte or {@code payloadLength} is negative
     */
    static void write(ByteBuffer out, int firstByte, long payloadLength, int maskKey) {
        put(out, firstByte, payloadLength, true, maskKey);
    }

    private static void put(ByteBuffer out, int firstByte, long payloadLength, boolean masked, int maskKey) {
        if ((firstByte & ~0xFF) != 0) {
            throw new IllegalArgumentException("firstByte: " + firstByte + " (expected: 0-255)");
        }
        if (out.remaining() < length(payloadLength, masked)) {
            throw new BufferOverflowException();
        }
        int maskBit = masked ? MASK : 0;
        out.put((byte) firstByte);
        if (payloadLength <= 125) {
            out.put((byte) (maskBit | (int) payloadLength));
        } else if (payloadLength <= 0xFFFF) {
            out.put((byte) (maskBit | 126));
            out.put((byte) (payloadLength >>> 8));
            out.put((byte) payloadLength);
        } else {
            out.put((byte) (maskBit | 127));
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.put((byte) (payloadLength >>> shift));
            }
        }
        if (masked) {
            out.put((byte) (maskKey >>> 24));
            out.put((byte) (maskKey >>> 16));
            out.put((byte) (maskKey >>> 8));
            out.put((byte) maskKey);
        }
    }

    private static void checkPayloadLength(long payloadLength) {
        if (payloadLength < 0) {
            throw new IllegalArgumentException("payloadLength: " + payloadLength + " (expected: >= 0)");
        }
    }
}
