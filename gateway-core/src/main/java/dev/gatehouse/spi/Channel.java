package dev.gatehouse.spi;

import java.nio.ByteBuffer;

import dev.gatehouse.CloseStatus;

/**
 * The outbound side of one WebSocket leg (client or backend), implemented by an adapter over its
 * transport. The engine calls it from any thread, but never issues two data sends on one channel
 * concurrently: it sends the next data fragment only after the previous send's {@link Completion} ran.
 * Control frames ({@link #sendPing}, {@link #sendPong}, {@link #close}) may interleave with data.
 *
 * <p>Flow control is demand-driven: the adapter delivers one inbound frame to its
 * {@link ChannelHandler} per {@link #demand()} call, and no frames before the first one.
 */
public interface Channel {

    /**
     * Sends a text fragment as raw UTF-8. A fragment may end inside a multi-byte sequence that the next
     * one completes: the receiving endpoint validates the whole message, as RFC 6455 asks of it. The
     * buffer is owned by the caller and must not be used by the channel after {@code completion} runs.
     *
     * @param utf8       the fragment's bytes
     * @param last       whether this fragment ends the message
     * @param completion called once the fragment is written to the transport, or failed
     */
    void sendText(ByteBuffer utf8, boolean last, Completion completion);

    /**
     * Sends a binary fragment. The buffer is owned by the caller and must not be used by the channel after
     * {@code completion} runs.
     */
    void sendBinary(ByteBuffer fragment, boolean last, Completion completion);

    /**
     * Sends a fragment of a message compressed by the extension the connection negotiated end to end (see
     * {@link ChannelHandler#onCompressed}), as it came from the other leg: the first fragment of the message
     * is marked compressed (RSV1). The buffer contract is {@link #sendText}'s. Called only on legs whose
     * adapter negotiated the extension.
     *
     * @param text whether the message is text
     * @throws UnsupportedOperationException on a channel that negotiated no compression
     */
    default void sendCompressed(boolean text, ByteBuffer fragment, boolean last, Completion completion) {
        throw new UnsupportedOperationException("this channel negotiated no compression");
    }

    /**
     * Whether this leg sends masked frames: it is the client end of its WebSocket connection (a backend leg),
     * so it can send a fragment that is already masked as it is ({@link #sendMasked}). False by default.
     */
    default boolean sendsMasked() {
        return false;
    }

    /**
     * Sends a data fragment that is already masked with {@code maskKey} (see {@link ChannelHandler#onMasked}),
     * as it is, in a frame carrying that key. The buffer contract is {@link #sendText}'s.
     *
     * @throws UnsupportedOperationException on a channel that does not send masked frames
     */
    default void sendMasked(boolean text, ByteBuffer fragment, int maskKey, boolean last, Completion completion) {
        throw new UnsupportedOperationException("this channel sends no masked frames");
    }

    /** Sends a PING frame with the payload (at most 125 bytes). Failures surface as a lost connection. */
    void sendPing(ByteBuffer payload);

    /**
     * Sends a PONG frame with the payload (at most 125 bytes).
     *
     * @param completion called once the frame is written, or failed; the engine reads the peer's next
     *                   frame only then, so that a peer flooding pings cannot queue pongs without bound
     */
    void sendPong(ByteBuffer payload, Completion completion);

    /**
     * Starts the close handshake, or answers the peer's CLOSE. {@link dev.gatehouse.CloseStatus#NO_STATUS}
     * sends a CLOSE frame without status; other codes must be transmittable. When this starts the
     * handshake, the peer's reply arrives as {@link ChannelHandler#onClose(CloseStatus)}.
     */
    void close(CloseStatus status);

    /** Drops the connection without a close handshake; the handler then sees a 1006 close. */
    void abort();

    /** Asks for one more inbound frame or event. */
    void demand();
}
