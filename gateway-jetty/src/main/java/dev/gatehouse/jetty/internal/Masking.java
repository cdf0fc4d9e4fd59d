package dev.gatehouse.jetty.internal;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The XOR masking of RFC 6455 section 5.3, for a payload that arrives or leaves in several pieces. Byte
 * {@code i} of a frame's payload is XORed with byte {@code i % 4} of the masking key, so each method takes
 * the offset within the frame's payload of the first byte it is given, and masking the pieces of a payload
 * one after another, each with its own offset, gives the same bytes as masking the whole. Masking and
 * unmasking are the same operation.
 *
 * <p>Works 8 bytes at a time while at least 8 remain, then a byte at a time, on heap or direct buffers of
 * either byte order. A masking key is an {@code int} whose most significant byte is the key's first byte
 * on the wire. Stateless and thread-safe.
 */
final class Masking {

    private Masking() {
    }

    /**
     * Masks, in place, the bytes of {@code payload} from its position to its limit. The position and limit
     * do not move.
     *
     * @param payload     the bytes to mask; must be writable
     * @param maskKey     the frame's masking key
     * @param frameOffset the offset of {@code payload}'s first byte within the frame's payload
     * @throws java.nio.ReadOnlyBufferException if {@code payload} is read-only and the key is not 0
     * @throws IllegalArgumentException         if {@code frameOffset} is negative
     */
    static void mask(ByteBuffer payload, int maskKey, long frameOffset) {
        checkOffset(frameOffset);
        if (maskKey == 0) {
            return; // XOR with zeros: nothing to do
        }
        int key = keyAt(maskKey, frameOffset);
        long key8 = widen(key, payload.order());
        int i = payload.position();
        int end = payload.limit();
        for (; end - i >= 8; i += 8) {
            payload.putLong(i, payload.getLong(i) ^ key8);
        }
        for (; i < end; i++) {
            payload.put(i, (byte) (payload.get(i) ^ (key >>> 24)));
            key = Integer.rotateLeft(key, 8);
        }
    }

    /**
     * Copies the remaining bytes of {@code src} to {@code dst}'s position, masked, and moves both positions
     * past them. {@code src} may be read-only; the two must not overlap.
     *
     * @param src         the bytes to mask, from position to limit
     * @param dst         where the masked bytes go
     * @param maskKey     the frame's masking key
     * @param frameOffset the offset of {@code src}'s first remaining byte within the frame's payload
     * @throws BufferOverflowException  if {@code dst} has less room than {@code src} has bytes; nothing moves
     * @throws IllegalArgumentException if {@code frameOffset} is negative
     */
    static void mask(ByteBuffer src, ByteBuffer dst, int maskKey, long frameOffset) {
        checkOffset(frameOffset);
        int s = src.position();
        int end = src.limit();
        int d = dst.position();
        if (dst.remaining() < end - s) {
            throw new BufferOverflowException();
        }
        int key = keyAt(maskKey, frameOffset);
        long key8 = widen(key, src.order());
        boolean swap = src.order() != dst.order();
        for (; end - s >= 8; s += 8, d += 8) {
            long masked = src.getLong(s) ^ key8;
            dst.putLong(d, swap ? Long.reverseBytes(masked) : masked);
        }
        for (; s < end; s++, d++) {
            dst.put(d, (byte) (src.get(s) ^ (key >>> 24)));
            key = Integer.rotateLeft(key, 8);
        }
        src.position(s);
        dst.position(d);
    }

    /** The key turned so that its most significant byte is the one for the byte at {@code frameOffset}. */
    static int keyAt(int maskKey, long frameOffset) {
        return Integer.rotateLeft(maskKey, ((int) frameOffset & 3) << 3);
    }

    /** The key repeated over 8 bytes, laid out for reading and writing longs in {@code order}. */
    private static long widen(int key, ByteOrder order) {
        long key8 = ((long) key << 32) | (key & 0xFFFF_FFFFL);
        return order == ByteOrder.BIG_ENDIAN ? key8 : Long.reverseBytes(key8);
    }

    private static void checkOffset(long frameOffset) {
        if (frameOffset < 0) {
            throw new IllegalArgumentException("frameOffset: " + frameOffset + " (expected: >= 0)");
        }
    }
}
