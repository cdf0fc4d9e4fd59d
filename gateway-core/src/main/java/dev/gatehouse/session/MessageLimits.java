package dev.gatehouse.session;

import static java.util.Objects.requireNonNull;

import java.util.Optional;


/**
 * Rate limits on the messages a client sends: messages and bytes per second, per connection and per
 * principal across all its connections (token buckets). When a limit is exceeded the connection is
 * closed with 1008 "rate limit exceeded" (the backend gets 1001), or, with {@link Action#DROP}, the
 * message is dropped and the client optionally told so with a text message.
 *
 * <pre>{@code
 * MessageLimits limits = MessageLimits.builder()
 *         .messagesPerSecond(20, 40)                 // rate, burst
 *         .bytesPerSecond(256 * 1024, 1024 * 1024)
 *         .principalMessagesPerSecond(50, 100)       // across the principal's connections
 *         .action(MessageLimits.Action.DROP)
 *         .dropReply("{\"error\":\"slow down\"}")
 *         .build();
 * Route.builder("/chat/{room}").messageLimits(limits)...
 * }</pre>
 *
 * <p>With {@code DROP}, the decision is taken when a message starts, so a fragmented message is dropped or
 * forwarded whole. The per-principal buckets of anonymous connections are keyed by the client's address.
 */
public final class MessageLimits {

    /** What happens to a message over the limit. */
    public enum Action {
        /** Close the connection: 1008 "rate limit exceeded" to the client, 1001 to the backend. */
        CLOSE,
        /** Drop the message, and send the drop reply if one is set. */
        DROP
    }

    private final double messagesPerSecond;
    private final double messageBurst;
    private final double bytesPerSecond;
    private final double byteBurst;
    private final double principalMessagesPerSecond;
    private final double principalMessageBurst;
    private final double principalBytesPerSecond;
    private final double principalByteBurst;
    private final Action action;
    private final String dropReply; // null: none

    private MessageLimits(Builder b) {
        messagesPerSecond = b.messagesPerSecond;
        messageBurst = b.messageBurst;
        bytesPerSecond = b.bytesPerSecond;
        byteBurst = b.byteBurst;
        principalMessagesPerSecond = b.principalMessagesPerSecond;
        principalMessageBurst = b.principalMessageBurst;
        principalBytesPerSecond = b.principalBytesPerSecond;
        principalByteBurst = b.principalByteBurst;
        action = b.action;
        dropReply = b.dropReply;
    }

    /** Starts limits; none is set until you set it. */
    public static Builder builder() {
        return new Builder();
    }

    /** Messages per second per connection; 0 when unlimited. */
    public double messagesPerSecond() {
        return messagesPerSecond;
    }

    /** The per-connection message burst. */
    public double messageBurst() {
        return messageBurst;
    }

    /** Bytes per second per connection; 0 when unlimited. */
    public double bytesPerSecond() {
        return bytesPerSecond;
    }

    /** The per-connection byte burst. */
    public double byteBurst() {
        return byteBurst;
    }

    /** Messages per second across a principal's connections; 0 when unlimited. */
    public double principalMessagesPerSecond() {
        return principalMessagesPerSecond;
    }

    /** The per-principal message burst. */
    public double principalMessageBurst() {
        return principalMessageBurst;
    }

    /** Bytes per second across a principal's connections; 0 when unlimited. */
    public double principalBytesPerSecond() {
        return principalBytesPerSecond;
    }

    /** The per-principal byte burst. */
    public double principalByteBurst() {
        return principalByteBurst;
    }

    /** What happens to a message over a limit. */
    public Action action() {
        return action;
    }

    /** The text sent to the client when a message is dropped. */
    public Optional<String> dropReply() {
        return Optional.ofNullable(dropReply);
    }

    /** Builds {@link MessageLimits}. */
    public static final class Builder {
        private double messagesPerSecond;
        private double messageBurst;
        private double bytesPerSecond;
        private double byteBurst;
        private double principalMessagesPerSecond;
        private double principalMessageBurst;
        private double principalBytesPerSecond;
        private double principalByteBurst;
        private Action action = Action.CLOSE;
        private String dropReply;

        private Builder() {
        }

        /** Messages per second per connection, and the burst allowed on top (at least 1). */
        public Builder messagesPerSecond(double rate, double burst) {
            messagesPerSecond = rate(rate, burst, "messagesPerSecond");
            messageBurst = burst;
            return this;
        }

        /** Payload bytes per second per connection, and the burst (at least one message's worth). */
        public Builder bytesPerSecond(double rate, double burst) {
            bytesPerSecond = rate(rate, burst, "bytesPerSecond");
            byteBurst = burst;
            return this;
        }

        /** Messages per second across a principal's connections, and the burst. */
        public Builder principalMessagesPerSecond(double rate, double burst) {
            principalMessagesPerSecond = rate(rate, burst, "principalMessagesPerSecond");
            principalMessageBurst = burst;
            return this;
        }

        /** Payload bytes per second across a principal's connections, and the burst. */
        public Builder principalBytesPerSecond(double rate, double burst) {
            principalBytesPerSecond = rate(rate, burst, "principalBytesPerSecond");
            principalByteBurst = burst;
            return this;
        }

        /** Close (the default) or drop. */
        public Builder action(Action action) {
            this.action = requireNonNull(action, "action");
            return this;
        }

        /** A text message sent to the client for each dropped message (with {@link Action#DROP}). */
        public Builder dropReply(String text) {
            this.dropReply = requireNonNull(text, "dropReply");
            return this;
        }

        /**
         * Builds the limits.
         *
         * @throws IllegalStateException if no limit is set, or a drop reply is set without the drop action
         */
        public MessageLimits build() {
            if (messagesPerSecond == 0 && bytesPerSecond == 0 && principalMessagesPerSecond == 0
                    && principalBytesPerSecond == 0) {
                throw new IllegalStateException("limits: none (expected: at least one rate)");
            }
            if (dropReply != null && action != Action.DROP) {
                throw new IllegalStateException("dropReply: set, but action is " + action + " (expected: DROP)");
            }
            return new MessageLimits(this);
        }

        private static double rate(double rate, double burst, String name) {
            if (!(rate > 0) || Double.isInfinite(rate)) {
                throw new IllegalArgumentException(name + ": " + rate + " (expected: > 0)");
            }
            if (!(burst >= 1) || Double.isInfinite(burst)) {
                throw new IllegalArgumentException(name + " burst: " + burst + " (expected: >= 1)");
            }
            return rate;
        }
    }
}
