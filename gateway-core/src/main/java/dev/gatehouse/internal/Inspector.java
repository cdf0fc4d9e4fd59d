package dev.gatehouse.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.MessageAction;
import dev.gatehouse.MessageFilter;
import dev.gatehouse.MessageLimits;
import dev.gatehouse.spi.Completion;

/**
 * The in-session policies of one direction of one connection: rate limits and a message filter. It exists
 * only on routes that configure them; the relay's plain path never reaches it. Called serially, by the
 * inbound events of one leg.
 */
final class Inspector {

    private static final Logger LOG = LoggerFactory.getLogger(Inspector.class);
    private static final CloseStatus RATE_LIMITED = CloseStatus.of(1008, "rate limit exceeded");
    /** The most a filter may have to hold when the route sets no message size limit. */
    private static final long MAX_REASSEMBLY = 64L << 20;

    /** What the inspector asks of its leg. */
    interface Leg {
        /** Sends a fragment on to the other leg; the leg demands the next frame when the send completes. */
        void forwardText(String fragment, boolean last);

        /** Sends a fragment on; {@code release} is completed when the send completes. */
        void forwardBinary(ByteBuffer fragment, boolean last, Completion release);

        /** Asks for the next frame without forwarding anything. */
        void next();

        /**
         * Sends a text message of the gateway's back to this leg's peer, and asks for the next frame once it
         * is written, so that replies cannot pile up.
         */
        void reply(String text);

        /** Closes the connection: this leg's peer gets {@code toSender}, the other leg 1001. */
        void close(CloseStatus toSender, String why);
    }

    private final MessageFilter filter;   // null: no filter
    private final MessageLimits limits;   // null: no limits
    private final Handshake connection;
    private final long maxReassembly;
    private final TokenBucket messages;   // null when not limited
    private final TokenBucket bytes;      // null when not limited
    private final TokenBucket[] shared;   // the principal's [messages, bytes] buckets, entries may be null
    private boolean inMessage;            // a message has started and not ended
    private boolean dropping;             // the current message is being dropped
    private StringBuilder text;           // the text being reassembled for the filter
    private ByteArrayOutputStream binary; // the binary being reassembled for the filter

    Inspector(MessageFilter filter, MessageLimits limits, Handshake connection, long maxMessageSize,
            TokenBucket[] shared) {
        long now = System.nanoTime();
        this.filter = filter;
        this.limits = limits;
        this.connection = connection;
        this.maxReassembly = maxMessageSize > 0 ? maxMessageSize : MAX_REASSEMBLY;
        this.messages = limits != null && limits.messagesPerSecond() > 0
                ? new TokenBucket(limits.messagesPerSecond(), limits.messageBurst(), now) : null;
        this.bytes = limits != null && limits.bytesPerSecond() > 0
                ? new TokenBucket(limits.bytesPerSecond(), limits.byteBurst(), now) : null;
        this.shared = shared;
    }

    void onText(String fragment, boolean last, int size, Leg leg) {
        if (!admit(size, last, leg)) {
            return;
        }
        if (dropping) {
            endDrop(last, leg);
            return;
        }
        if (filter == null) {
            leg.forwardText(fragment, last);
            return;
        }
        if (text == null) {
            text = new StringBuilder(fragment.length());
        }
        text.append(fragment);
        if (last) {
            String whole = text.toString();
            text = null;
            decide(Message.text(whole), leg);
        } else if (!tooBig(text.length(), leg)) {
            leg.next();
        }
    }

    void onBinary(ByteBuffer fragment, boolean last, Completion release, Leg leg) {
        if (!admit(fragment.remaining(), last, leg)) {
            release.succeeded();
            return;
        }
        if (dropping) {
            release.succeeded();
            endDrop(last, leg);
            return;
        }
        if (filter == null) {
            leg.forwardBinary(fragment, last, release);
            return;
        }
        if (binary == null) {
            binary = new ByteArrayOutputStream(Math.max(32, fragment.remaining()));
        }
        byte[] chunk = new byte[fragment.remaining()];
        fragment.get(chunk);
        release.succeeded();
        binary.write(chunk, 0, chunk.length);
        if (last) {
            byte[] whole = binary.toByteArray();
            binary = null;
            decide(Message.binary(whole), leg);
        } else if (!tooBig(binary.size(), leg)) {
            leg.next();
        }
    }

    /** Applies the rate limits; returns false when the connection was closed. */
    private boolean admit(int size, boolean last, Leg leg) {
        boolean first = !inMessage;
        inMessage = !last;
        if (limits == null) {
            return true;
        }
        long now = System.nanoTime();
        if (first) {
            boolean ok = (messages == null || messages.tryTake(1, now))
                    && (bytes == null || bytes.tryTake(size, now))
                    && (shared[0] == null || shared[0].tryTake(1, now))
                    && (shared[1] == null || shared[1].tryTake(size, now));
            if (!ok) {
                if (limits.action() == MessageLimits.Action.CLOSE) {
                    leg.close(RATE_LIMITED, "message rate limit exceeded");
                    return false;
                }
                dropping = true;
            }
        } else if (!dropping) {
            boolean ok = (bytes == null || bytes.take(size, now)) & (shared[1] == null || shared[1].take(size, now));
            if (!ok && limits.action() == MessageLimits.Action.CLOSE) {
                leg.close(RATE_LIMITED, "byte rate limit exceeded");
                return false;
            }
        }
        return true;
    }

    private void endDrop(boolean last, Leg leg) {
        if (last) {
            dropping = false;
            if (limits.dropReply().isPresent()) {
                leg.reply(limits.dropReply().get());
                return;
            }
        }
        leg.next();
    }

    private boolean tooBig(long held, Leg leg) {
        if (held > maxReassembly) {
            text = null;
            binary = null;
            leg.close(CloseStatus.MESSAGE_TOO_BIG, "message too big to inspect");
            return true;
        }
        return false;
    }

    private void decide(Message message, Leg leg) {
        MessageAction action;
        try {
            action = filter.filter(message, connection);
            if (action == null) {
                throw new NullPointerException("message filter " + filter + " returned null");
            }
        } catch (RuntimeException e) {
            LOG.error("Message filter {} failed on connection {}", filter, connection.requestId(), e);
            leg.close(CloseStatus.of(1011, "message filter failed"), "message filter failed");
            return;
        }
        if (action instanceof MessageAction.Forward) {
            Message out = ((MessageAction.Forward) action).message();
            if (out.isText()) {
                leg.forwardText(out.text(), true);
            } else {
                leg.forwardBinary(out.binary(), true, NoopCompletion.INSTANCE);
            }
        } else if (action instanceof MessageAction.Reply) {
            leg.reply(((MessageAction.Reply) action).text());
        } else if (action instanceof MessageAction.Close) {
            leg.close(((MessageAction.Close) action).status(), "closed by a message filter");
        } else {
            leg.next();
        }
    }

    /** A completion with nothing to release. */
    private enum NoopCompletion implements Completion {
        INSTANCE;

        @Override
        public void succeeded() {
        }

        @Override
        public void failed(Throwable cause) {
        }
    }
}
