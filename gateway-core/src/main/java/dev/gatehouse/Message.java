package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import dev.gatehouse.session.MessageFilter;


/**
 * A whole WebSocket message, text or binary, as an in-session {@link MessageFilter} sees it. Immutable:
 * {@link #binary()} returns a read-only view.
 */
public final class Message {

    private final String text;        // null for binary
    private final ByteBuffer binary;  // null for text; read-only

    private Message(String text, ByteBuffer binary) {
        this.text = text;
        this.binary = binary;
    }

    /** A text message. */
    public static Message text(String text) {
        return new Message(requireNonNull(text, "text"), null);
    }

    /** A binary message holding a copy of the buffer's remaining bytes. */
    public static Message binary(ByteBuffer bytes) {
        ByteBuffer copy = ByteBuffer.allocate(requireNonNull(bytes, "bytes").remaining());
        copy.put(bytes.duplicate()).flip();
        return new Message(null, copy.asReadOnlyBuffer());
    }

    /** A binary message holding a copy of the bytes. */
    public static Message binary(byte[] bytes) {
        return binary(ByteBuffer.wrap(requireNonNull(bytes, "bytes")));
    }

    /** Whether this is a text message. */
    public boolean isText() {
        return text != null;
    }

    /**
     * The text.
     *
     * @throws IllegalStateException for a binary message
     */
    public String text() {
        if (text == null) {
            throw new IllegalStateException("a binary message has no text");
        }
        return text;
    }

    /**
     * The bytes, as a read-only buffer positioned at 0.
     *
     * @throws IllegalStateException for a text message
     */
    public ByteBuffer binary() {
        if (binary == null) {
            throw new IllegalStateException("a text message has no binary payload");
        }
        return binary.duplicate();
    }

    /** The payload size in bytes (UTF-8 for text). */
    public int size() {
        return text != null ? text.getBytes(StandardCharsets.UTF_8).length : binary.remaining();
    }

    @Override
    public String toString() {
        return (text != null ? "Message[text, " : "Message[binary, ") + size() + " bytes]";
    }
}
