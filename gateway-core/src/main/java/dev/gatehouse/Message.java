package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A whole WebSocket message as an in-session {@link dev.gatehouse.session.MessageFilter} sees it: {@link Text} or {@link Binary}.
 * Immutable. Switch on the kind with a pattern:
 *
 * <pre>{@code
 * String shown = message instanceof Message.Text t ? t.text() : message.size() + " bytes";
 * }</pre>
 *
 * <p>{@code toString()} never shows the payload, which may hold secrets.
 */
public sealed interface Message permits Message.Text, Message.Binary {

    /** A text message. */
    static Text text(String text) {
        return new Text(text);
    }

    /** A binary message holding a copy of the buffer's remaining bytes; the buffer is not changed. */
    static Binary binary(ByteBuffer bytes) {
        return new Binary(bytes);
    }

    /** A binary message holding a copy of the bytes. */
    static Binary binary(byte[] bytes) {
        return new Binary(ByteBuffer.wrap(requireNonNull(bytes, "bytes")));
    }

    /** The payload size in bytes (UTF-8 for text). */
    int size();

    /**
     * A text message.
     *
     * @param text the text
     */
    record Text(String text) implements Message {
        /** Checks the text is present. */
        public Text {
            requireNonNull(text, "text");
        }

        @Override
        public int size() {
            return text.getBytes(StandardCharsets.UTF_8).length;
        }

        @Override
        public String toString() {
            return "Message.Text[" + size() + " bytes]";
        }
    }

    /**
     * A binary message. Two are equal when their bytes are.
     *
     * @param bytes the payload; a read-only copy of what was given
     */
    record Binary(ByteBuffer bytes) implements Message {
        /** Copies the buffer's remaining bytes; the buffer itself is not changed. */
        public Binary {
            ByteBuffer copy = ByteBuffer.allocate(requireNonNull(bytes, "bytes").remaining());
            copy.put(bytes.duplicate()).flip();
            bytes = copy.asReadOnlyBuffer();
        }

        /** The bytes, as a read-only buffer positioned at 0 (a new view on each call). */
        @Override
        public ByteBuffer bytes() {
            return bytes.duplicate();
        }

        @Override
        public int size() {
            return bytes.remaining();
        }

        @Override
        public String toString() {
            return "Message.Binary[" + size() + " bytes]";
        }
    }
}
