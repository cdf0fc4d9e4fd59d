package dev.gatehouse.session;

import static java.util.Objects.requireNonNull;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Message;

/** What a {@link MessageFilter} decided for one message. */
public sealed interface MessageAction {

    /** Sends this message on (the original or a replacement). */
    static MessageAction forward(Message message) {
        return new Forward(message);
    }

    /** Drops the message silently. */
    static MessageAction drop() {
        return Drop.INSTANCE;
    }

    /** Drops the message and sends this text message to its sender instead. */
    static MessageAction reply(String text) {
        return new Reply(text);
    }

    /** Closes the connection: the sender gets {@code status}, the other leg 1001. */
    static MessageAction close(CloseStatus status) {
        return new Close(status);
    }

    /** Closes the connection as invalid data: 1007 with the reason to the sender, 1001 to the other leg. */
    static MessageAction invalid(String reason) {
        return new Close(CloseStatus.of(1007, reason));
    }

    /**
     * Forward a message.
     *
     * @param message the message to send on
     */
    record Forward(Message message) implements MessageAction {
        /** Checks the message is present. */
        public Forward {
            requireNonNull(message, "message");
        }
    }

    /** Drop the message. */
    final class Drop implements MessageAction {
        private static final Drop INSTANCE = new Drop();

        private Drop() {
        }

        @Override
        public String toString() {
            return "Drop";
        }
    }

    /**
     * Drop the message and answer its sender.
     *
     * @param text the text message sent to the sender
     */
    record Reply(String text) implements MessageAction {
        /** Checks the text is present. */
        public Reply {
            requireNonNull(text, "text");
        }
    }

    /**
     * Close the connection.
     *
     * @param status what the sender gets; must be transmittable
     */
    record Close(CloseStatus status) implements MessageAction {
        /** Checks the status may be sent. */
        public Close {
            requireNonNull(status, "status");
            if (!status.isTransmittable()) {
                throw new IllegalArgumentException("status: " + status.code() + " (expected: a code that may be sent)");
            }
        }
    }
}
