package dev.gatehouse.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.session.MessageAction;
import dev.gatehouse.session.MessageFilter;
import dev.gatehouse.session.MessageLimits;
import dev.gatehouse.spi.Completion;

/**
 * The in-session policies of one direction of one connection: rate limits and a message filter. It exists
 * only on routes that configure them; the relay's plain path never reaches it. Called serially, by the
 * inbound events of one leg.
 */
final class Inspector {

    private static final Logger LOG = LoggerFactory.getLogger(Inspector.class);
    private static final CloseStatus RATE_LIMITED = CloseStatus.of(1008, "rate limit exceeded");
    private static final CloseStatus INVALID_TEXT = CloseStatus.of(1007, "invalid UTF-8");
    /** The most a filter may have to hold when the route sets no message size limit. */
    private static final long MAX_REASSEMBLY = 64L << 20;

    /** What the inspector asks of its leg. */
    interface Leg {
        /**
         * Sends a text ({@code text}) or binary fragment on to the other leg; {@code release} is completed
         * and the next frame demanded when the send completes.
         */
        void forward(boolean text, ByteBuffer fragment, boolean last, Completion release);

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
    private ByteArrayOutputStream held;   // the message being reassembled for the filter, or null
    private boolean heldText;             // whether it is a text message

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

    void onData(boolean isText, ByteBuffer fragment, boolean last, Completion release, Leg leg) {
        if (!admit(fragment.remaining(), last, release, leg)) {
            return;
        }
        if (dropping) {
            release.succeeded();
            endDrop(last, leg);
            return;
        }
        if (filter == null) {
            leg.forward(isText, fragment, last, release);
            return;
        }
        if (held == null) {
            held = new ByteArrayOutputStream(Math.max(32, fragment.remaining()));
            heldText = isText;
        }
        byte[] chunk = new byte[fragment.remaining()];
        fragment.get(chunk);
        release.succeeded();
        held.write(chunk, 0, chunk.length);
        if (last) {
            byte[] whole = held.toByteArray();
            held = null;
            if (!heldText) {
                decide(Message.binary(whole), leg);
                return;
            }
            String text = decode(whole);
            if (text == null) {
                leg.close(INVALID_TEXT, "invalid UTF-8 in a text message");
                return;
            }
            decide(Message.text(text), leg);
        } else if (!tooBig(held.size(), leg)) {
            leg.next();
        }
    }

    /** The text of a message's UTF-8 bytes, or null when they are not valid UTF-8. */
    private static String decode(byte[] utf8) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /**
     * Applies the rate limits; returns false when the connection was closed, after releasing the frame
     * (before the close asks for the next one).
     */
    private boolean admit(int size, boolean last, Completion release, Leg leg) {
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
                    release.succeeded();
                    leg.close(RATE_LIMITED, "message rate limit exceeded");
                    return false;
                }
                dropping = true;
            }
        } else if (!dropping) {
            boolean ok = (bytes == null || bytes.take(size, now)) & (shared[1] == null || shared[1].take(size, now));
            if (!ok && limits.action() == MessageLimits.Action.CLOSE) {
                release.succeeded();
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

    private boolean tooBig(long size, Leg leg) {
        if (size > maxReassembly) {
            held = null;
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
            if (out instanceof Message.Text text) {
                leg.forward(true, ByteBuffer.wrap(text.text().getBytes(StandardCharsets.UTF_8)), true, NoopCompletion.INSTANCE);
            } else {
                leg.forward(false, ((Message.Binary) out).bytes(), true, NoopCompletion.INSTANCE);
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
