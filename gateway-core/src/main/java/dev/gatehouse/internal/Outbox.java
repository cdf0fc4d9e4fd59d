package dev.gatehouse.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.Completion;

/**
 * Serializes the data sends of one leg when the gateway may also send its own messages on it (replies of
 * in-session policies): a gateway message goes out only between two relayed messages, never inside a
 * fragmented one, and a relayed fragment waits while a gateway message is being written. Used only on
 * routes with in-session policies; others send straight to the channel.
 */
final class Outbox implements Completion {

    private final Object lock = new Object();
    private Channel channel;        // set when the leg connects; guarded by lock
    private boolean busy;           // a send is in flight; guarded by lock
    private boolean midMessage;     // the last relayed fragment did not end its message; guarded by lock
    private Runnable deferred;      // a relayed fragment waiting for a gateway message; guarded by lock
    private boolean deferredLast;   // whether it ends its message; guarded by lock
    private String pendingReply;    // a gateway message waiting for a message boundary; guarded by lock
    private Runnable pendingThen;   // what to run once it is written; guarded by lock
    private Runnable replyThen;     // what to run once the reply in flight is written; guarded by lock

    void attach(Channel channel) {
        synchronized (lock) {
            this.channel = channel;
        }
    }

    /** Sends a relayed text ({@code text}) or binary fragment, now or once the send in flight completed. */
    void send(boolean text, ByteBuffer fragment, boolean last, Completion done) {
        Channel ch = admit(last, () -> send(channel(), text, fragment, last, done));
        if (ch != null) {
            send(ch, text, fragment, last, done);
        }
    }

    private static void send(Channel ch, boolean text, ByteBuffer fragment, boolean last, Completion done) {
        if (text) {
            ch.sendText(fragment, last, done);
        } else {
            ch.sendBinary(fragment, last, done);
        }
    }

    /** A relayed send completed (or failed): the next queued send may go. */
    void relayed() {
        next();
    }

    /**
     * Sends a whole text message of the gateway's as soon as the leg is between messages, then runs
     * {@code then}. The caller sends no other reply before {@code then} ran.
     */
    void reply(String text, Runnable then) {
        Channel ch;
        synchronized (lock) {
            if (busy || midMessage || channel == null) {
                pendingReply = text;
                pendingThen = then;
                return;
            }
            busy = true;
            replyThen = then;
            ch = channel;
        }
        ch.sendText(utf8(text), true, this);
    }

    /** The reply in flight was written (or failed). */
    @Override
    public void succeeded() {
        replied();
    }

    @Override
    public void failed(Throwable cause) {
        replied();
    }

    private void replied() {
        Runnable then;
        synchronized (lock) {
            then = replyThen;
            replyThen = null;
        }
        next();
        if (then != null) {
            then.run();
        }
    }

    private Channel admit(boolean last, Runnable send) {
        synchronized (lock) {
            if (busy) {
                deferred = send;
                deferredLast = last;
                return null;
            }
            busy = true;
            midMessage = !last;
            return channel;
        }
    }

    private static ByteBuffer utf8(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    private Channel channel() {
        synchronized (lock) {
            return channel;
        }
    }

    private void next() {
        Runnable run = null;
        String reply = null;
        Channel ch;
        synchronized (lock) {
            busy = false;
            ch = channel;
            if (!midMessage && pendingReply != null) {
                reply = pendingReply;
                pendingReply = null;
                replyThen = pendingThen;
                pendingThen = null;
                busy = true;
            } else if (deferred != null) {
                run = deferred;
                deferred = null;
                busy = true;
                midMessage = !deferredLast;
            }
        }
        if (reply != null) {
            ch.sendText(utf8(reply), true, this);
        } else if (run != null) {
            run.run();
        }
    }
}
