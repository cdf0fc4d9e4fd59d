package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.util.Arrays;
import java.util.Random;

import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.jupiter.api.Test;

/** {@link Masking}: pieces masked one after another, from any offset, equal the whole masked at once. */
class MaskingTest {

    /** The reference: RFC 6455 §5.3 as written, one byte at a time. */
    private static byte[] maskedByHand(byte[] payload, int key) {
        byte[] out = new byte[payload.length];
        for (int i = 0; i < payload.length; i++) {
            out[i] = (byte) (payload[i] ^ Wire.keyByte(key, i));
        }
        return out;
    }

    /** A buffer holding {@code bytes} from position {@code pad}: heap or direct, of either byte order. */
    private static ByteBuffer buffer(byte[] bytes, int pad, boolean direct, ByteOrder order) {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(pad + bytes.length + 5) : ByteBuffer.allocate(pad + bytes.length + 5);
        b.order(order);
        b.position(pad);
        b.put(bytes);
        b.limit(b.position()).position(pad);
        return b;
    }

    private static byte[] remaining(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static int[] randomCuts(Random random, int length) {
        int n = length == 0 ? 0 : random.nextInt(Math.min(length, 6) + 1);
        int[] cuts = random.ints(n, 0, length + 1).sorted().toArray();
        int[] all = new int[n + 2];
        System.arraycopy(cuts, 0, all, 1, n);
        all[n + 1] = length;
        return all;
    }

    @Test
    void masksPiecesInPlaceAsItMasksTheWhole() {
        Random random = new Random(42);
        for (int n = 0; n < 3_000; n++) {
            byte[] payload = new byte[random.nextInt(100)];
            random.nextBytes(payload);
            int key = random.nextInt();
            byte[] expected = maskedByHand(payload, key);
            boolean direct = random.nextBoolean();
            ByteOrder order = random.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            ByteBuffer whole = buffer(payload, random.nextInt(9), direct, order);
            int[] cuts = randomCuts(random, payload.length);
            for (int i = 0; i + 1 < cuts.length; i++) {
                ByteBuffer piece = whole.duplicate().order(order);
                piece.limit(whole.position() + cuts[i + 1]).position(whole.position() + cuts[i]);
                int position = piece.position();
                Masking.mask(piece, key, cuts[i]);
                assertEquals(position, piece.position(), "in place leaves the position alone");
            }
            assertArrayEquals(expected, remaining(whole), "cuts " + Arrays.toString(cuts));
        }
    }

    @Test
    void masksPiecesIntoAnotherBufferAsItMasksTheWhole() {
        Random random = new Random(43);
        for (int n = 0; n < 3_000; n++) {
            byte[] payload = new byte[random.nextInt(100)];
            random.nextBytes(payload);
            int key = random.nextInt();
            ByteOrder srcOrder = random.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            ByteOrder dstOrder = random.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            ByteBuffer src = buffer(payload, random.nextInt(9), random.nextBoolean(), srcOrder);
            if (random.nextBoolean()) {
                src = src.asReadOnlyBuffer().order(srcOrder);
            }
            ByteBuffer dst = random.nextBoolean() ? ByteBuffer.allocateDirect(payload.length + 20) : ByteBuffer.allocate(payload.length + 20);
            dst.order(dstOrder).position(random.nextInt(9));
            int start = dst.position();
            int[] cuts = randomCuts(random, payload.length);
            for (int i = 0; i + 1 < cuts.length; i++) {
                ByteBuffer piece = src.duplicate().order(srcOrder);
                piece.limit(src.position() + cuts[i + 1]).position(src.position() + cuts[i]);
                Masking.mask(piece, dst, key, cuts[i]);
                assertEquals(0, piece.remaining(), "the source is consumed");
                assertEquals(start + cuts[i + 1], dst.position(), "the destination moves past the bytes");
            }
            byte[] out = new byte[payload.length];
            dst.flip().position(start);
            dst.get(out);
            assertArrayEquals(maskedByHand(payload, key), out);
        }
    }

    @Test
    void continuesFromAnyOffsetOfALargeFrame() {
        byte[] payload = Wire.bytes(64, 5);
        int key = 0xA1B2C3D4;
        for (long offset : new long[] {0, 1, 2, 3, 4, 5, 6, 7, (1L << 33) + 3, Long.MAX_VALUE - 64}) {
            ByteBuffer b = ByteBuffer.wrap(payload.clone());
            Masking.mask(b, key, offset);
            for (int i = 0; i < payload.length; i++) {
                assertEquals((byte) (payload[i] ^ Wire.keyByte(key, offset + i)), b.get(i), "offset " + offset + ", byte " + i);
            }
        }
    }

    @Test
    void unmasksWhatItMasked() {
        byte[] payload = Wire.bytes(77, 3);
        ByteBuffer b = ByteBuffer.wrap(payload.clone());
        Masking.mask(b, 0x12345678, 9);
        Masking.mask(b, 0x12345678, 9);
        assertArrayEquals(payload, remaining(b));
    }

    @Test
    void agreesWithJettysUnmaskingOfAWholeFrame() {
        Random random = new Random(44);
        for (int n = 0; n < 200; n++) {
            byte[] payload = new byte[random.nextInt(300)];
            random.nextBytes(payload);
            int key = random.nextInt();
            ByteBuffer ours = ByteBuffer.wrap(payload.clone());
            Masking.mask(ours, key, 0);
            Frame jetty = new Frame(OpCode.BINARY, ByteBuffer.wrap(payload.clone()));
            jetty.setMask(ByteBuffer.allocate(4).putInt(key).array());
            jetty.demask();
            assertEquals(jetty.getPayload(), ours);
        }
    }

    @Test
    void leavesAZeroKeysPayloadAloneEvenReadOnly() {
        ByteBuffer readOnly = ByteBuffer.wrap(Wire.bytes(10, 1)).asReadOnlyBuffer();
        Masking.mask(readOnly, 0, 3);
        assertArrayEquals(Wire.bytes(10, 1), remaining(readOnly));
        assertThrows(ReadOnlyBufferException.class, () -> Masking.mask(readOnly, 1, 0));
    }

    @Test
    void movesNothingWhenTheDestinationIsTooSmall() {
        ByteBuffer src = ByteBuffer.wrap(Wire.bytes(10, 1));
        ByteBuffer dst = ByteBuffer.allocate(9);
        assertThrows(BufferOverflowException.class, () -> Masking.mask(src, dst, 7, 0));
        assertEquals(0, src.position());
        assertEquals(0, dst.position());
        assertArrayEquals(new byte[9], dst.array());
    }

    @Test
    void refusesANegativeOffset() {
        assertThrows(IllegalArgumentException.class, () -> Masking.mask(ByteBuffer.allocate(1), 1, -1));
        assertThrows(IllegalArgumentException.class, () -> Masking.mask(ByteBuffer.allocate(1), ByteBuffer.allocate(1), 1, -1));
    }
}
