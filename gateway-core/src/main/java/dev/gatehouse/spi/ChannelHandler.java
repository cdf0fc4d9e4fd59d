package dev.gatehouse.spi;

import java.nio.ByteBuffer;

import dev.gatehouse.CloseStatus;

/**
 * Receives the inbound events of one leg, implemented by the engine. The adapter calls it serially for a
 * leg (never two calls at once), and delivers data, ping and pong frames only as demanded through
 * {@link Channel#demand()}. A lost connection ({@link #onError}, or {@link #onClose} with 1006) may arrive
 * without demand; the peer's CLOSE frame, like any frame, arrives only on demand.
 */
public interface ChannelHandler {

    /**
     * A text fragment, as the raw UTF-8 of its frame (it may end inside a multi-byte sequence). The buffer
     * belongs to the adapter until {@code release} is completed; the engine completes it once the fragment
     * has been forwarded, then demands.
     *
     * @param last whether it ends the message
     */
    void onText(ByteBuffer utf8, boolean last, Completion release);

    /**
     * A binary fragment. The buffer belongs to the adapter until {@code release} is completed; the
     * engine completes it once the fragment has been forwarded, then demands.
     */
    void onBinary(ByteBuffer fragment, boolean last, Completion release);

    /**
     * A fragment of a message that the peer compressed with an extension both ends of the connection
     * negotiated end to end (permessage-deflate, RFC 7692), to relay as it is, still compressed: every
     * fragment of such a message comes here, and goes to the other leg with
     * {@link Channel#sendCompressed}. A leg reports it only when the adapter negotiated the extension with
     * both peers, which it does only on routes whose messages the gateway need not read. The release
     * contract is {@link #onText}'s.
     *
     * @param text whether the message is text (its uncompressed payload UTF-8)
     */
    default void onCompressed(boolean text, ByteBuffer fragment, boolean last, Completion release) {
        throw new UnsupportedOperationException("this handler relays no compressed messages");
    }

    /**
     * Whether this handler takes data fragments still masked as the peer sent them ({@link #onMasked}), to
     * relay them to a leg that sends masked frames ({@link Channel#sendsMasked()}) as they are, without
     * unmasking and masking them again. The adapter asks before each masked data fragment; an answer may
     * change between fragments. False by default.
     */
    default boolean relaysMasked() {
        return false;
    }

    /**
     * A data fragment that is still masked as the peer sent it, reported instead of {@link #onText} or
     * {@link #onBinary} while {@link #relaysMasked()} says so. The release contract is {@link #onText}'s.
     *
     * @param text    whether the message is text
     * @param maskKey the key that unmasks the fragment from its first byte (the frame's key turned to the
     *                fragment's place in its frame), its first byte in the most significant 8 bits
     */
    default void onMasked(boolean text, ByteBuffer fragment, int maskKey, boolean last, Completion release) {
        throw new UnsupportedOperationException("this handler relays no masked fragments");
    }

    /** A PING frame; the engine answers it and demands. */
    void onPing(ByteBuffer payload);

    /** A PONG frame; the engine demands. */
    void onPong(ByteBuffer payload);

    /**
     * The peer's CLOSE frame ({@link dev.gatehouse.CloseStatus#NO_STATUS} when it had no status), or
     * {@link dev.gatehouse.CloseStatus#ABNORMAL} when the connection was lost. Called once.
     *
     * <p>When the peer started the close (the engine had not called {@link Channel#close} on this
     * channel), the adapter does not answer it by itself: the peer waits until the engine calls
     * {@link Channel#close} with the status of the reply, and data may still be sent to it meanwhile. This
     * lets the engine complete the close handshake end to end.
     */
    void onClose(CloseStatus status);

    /** The leg failed (an I/O error); a close event may or may not follow. */
    void onError(Throwable cause);

    /**
     * The peer broke the WebSocket protocol (a malformed frame, an invalid close payload, a frame over the
     * transport's own limits), and the adapter has closed the leg itself with {@code sent}, e.g. 1002 or 1007;
     * the connection is being dropped. Called at most once, instead of {@link #onError}; a close event may
     * follow and is then ignored. The default treats it as {@link #onError}.
     *
     * @param sent the CLOSE the adapter sent to the peer
     */
    default void onProtocolError(CloseStatus sent) {
        onError(new IllegalStateException("protocol error: " + sent));
    }
}
