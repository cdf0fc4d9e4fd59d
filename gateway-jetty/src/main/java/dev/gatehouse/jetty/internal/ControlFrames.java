package dev.gatehouse.jetty.internal;

import static java.util.Objects.requireNonNull;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import dev.gatehouse.CloseStatus;

/**
 * Writes the control frames the gateway sends on its own (PING, PONG, CLOSE), as opposed to those it
 * forwards. {@link #TO_CLIENT} writes them unmasked, for a client; {@link #TO_SERVER} masks each with a
 * fresh key from {@link MaskKeys}, for a server. A frame is at most {@link #MAX_LENGTH} bytes. Stateless
 * and thread-safe.
 */
final class ControlFrames {

    /** The longest control frame: a 2-byte header, a masking key and 125 bytes of payload. */
    static final int MAX_LENGTH = 2 + 4 + FrameHeaders.MAX_CONTROL_PAYLOAD;
    /** The longest CLOSE reason, in UTF-8 bytes: the payload's 125 bytes less the code's 2. */
    static final int MAX_REASON_LENGTH = FrameHeaders.MAX_CONTROL_PAYLOAD - 2;

    /** Writes frames for a client: unmasked. */
    static final ControlFrames TO_CLIENT = new ControlFrames(false);
    /** Writes frames for a server: masked, each with a fresh key. */
    static final ControlFrames TO_SERVER = new ControlFrames(true);

    private final boolean masked;

    private ControlFrames(boolean masked) {
        this.masked = masked;
    }

    /**
     * Puts a PING frame at {@code out}'s position and moves the position past it.
     *
     * @param out     where the frame goes; nothing is written unless it all fits
     * @param payload the unmasked payload, from its position to its limit, at most 125 bytes; its
     *                position does not move
     * @throws IllegalArgumentException if the payload is over 125 bytes
     * @throws BufferOverflowException  if the frame does not fit in {@code out}
     */
    void ping(ByteBuffer out, ByteBuffer payload) {
        write(out, FrameHeaders.PING, payload);
    }

    /**
     * Puts a PONG frame at {@code out}'s position and moves the position past it, e.g. to answer a PING
     * with its (unmasked) payload.
     *
     * @param out     where the frame goes; nothing is written unless it all fits
     * @param payload the unmasked payload, from its position to its limit, at most 125 bytes; its
     *                position does not move
     * @throws IllegalArgumentException if the payload is over 125 bytes
     * @throws BufferOverflowException  if the frame does not fit in {@code out}
     */
    void pong(ByteBuffer out, ByteBuffer payload) {
        write(out, FrameHeaders.PONG, payload);
    }

    /**
     * Puts a CLOSE frame at {@code out}'s position and moves the position past it: the status code and its
     * reason, cut to {@link #MAX_REASON_LENGTH} UTF-8 bytes at a character boundary, or no payload at all
     * for {@link CloseStatus#NO_STATUS} (1005).
     *
     * @param out    where the frame goes; nothing is written unless it all fits
     * @param status the code and reason
     * @throws IllegalArgumentException if the code may not be sent (1004, 1006, 1015 and the unassigned
     *                                  codes below 3000)
     * @throws BufferOverflowException  if the frame does not fit in {@code out}
     */
    void close(ByteBuffer out, CloseStatus status) {
        requireNonNull(status, "status");
        if (status.code() == CloseStatus.NO_STATUS.code()) {
            write(out, FrameHeaders.CLOSE, ByteBuffer.allocate(0));
            return;
        }
        if (!status.isTransmittable()) {
            throw new IllegalArgumentException("status: " + status + " (expected: a code that may be sent)");
        }
        byte[] reason = status.reason().getBytes(StandardCharsets.UTF_8);
        int reasonLength = Math.min(reason.length, MAX_REASON_LENGTH);
        while (reasonLength < reason.length && (reason[reasonLength] & 0xC0) == 0x80) {
            reasonLength--; // back off to the start of the character that does not fit
        }
        ByteBuffer payload = ByteBuffer.allocate(2 + reasonLength);
        payload.putShort((short) status.code()).put(reason, 0, reasonLength).flip();
        write(out, FrameHeaders.CLOSE, payload);
    }

    private void write(ByteBuffer out, int opcode, ByteBuffer payload) {
        int length = payload.remaining();
        if (length > FrameHeaders.MAX_CONTROL_PAYLOAD) {
            throw new IllegalArgumentException("payload: " + length + " bytes (expected: <= 125)");
        }
        if (out.remaining() < FrameHeaders.length(length, masked) + length) {
            throw new BufferOverflowException();
        }
        int firstByte = FrameHeaders.FIN | opcode;
        int position = payload.position();
        if (masked) {
            int maskKey = MaskKeys.next();
            FrameHeaders.write(out, firstByte, length, maskKey);
            Masking.mask(payload, out, maskKey, 0);
        } else {
            FrameHeaders.write(out, firstByte, length);
            out.put(payload);
        }
        payload.position(position);
    }
}
