package dev.gatehouse.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

import dev.gatehouse.SendResult;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.Completion;

/**
 * The outbound queue of one leg: serializes the relayed fragments with the gateway's own messages (sends of
 * the management API, replies of in-session policies), so that a gateway message goes out only between two
 * relayed messages, never inside a fragmented one, and a relayed fragment waits while a gateway message is
 * being written. Gateway messages and relayed messages take turns, so neither starves the other.
 *
 * <p>Messages sent through {@link #push} are bounded: at most {@code maxQueued} bytes wait or are being
 * written at once, each message counting its payload plus {@link #MESSAGE_OVERHEAD} bytes for its
 * bookkeeping (so that many tiny messages cannot hold many times the bound in memory); a push beyond that
 * is refused. Replies of in-session policies are not counted: their caller sends at most one at a time.
 *
 * <p>The leg's CLOSE goes through here too ({@link #close}): after the gateway messages already queued, so
 * that a message sent just before a close reaches the client before the close does, unless the relay was
 * cut inside a fragmented message, where no gateway message may go; queued messages are then dropped.
 * Nothing is written after the CLOSE.
 *
 * <p>The relay path costs one lock per fragment and one per completion when no gateway message waits. A write
 * that completes on the calling thread does not recurse: one thread at a time drives the queue, in a loop.
 */
final class Outbox implements Completion {

    /** What a pushed message counts against the bound beyond its payload: its share of the queue's memory. */
    static final int MESSAGE_OVERHEAD = 64;

    /** A gateway message waiting for, or in, its write. */
    private record Pending(ByteBuffer payload, boolean text, int counted, Runnable then) {
    }

    private final long maxQueued;       // the bound on pushed bytes waiting or being written
    private final IntConsumer written;  // told the payload size of each pushed message written
    private final Object lock = new Object();
    private Channel channel;            // set when the leg connects; guarded by lock
    private boolean busy;               // a write is in flight; guarded by lock
    private boolean driving;            // a thread is in drive()'s loop; guarded by lock
    private boolean midMessage;         // the last relayed fragment did not end its message; guarded by lock
    private boolean gatewayTurnTaken;   // the last write was a gateway message, so a waiting relay goes next; guarded by lock
    private ByteBuffer deferred;        // a relayed fragment waiting for a gateway message, or null; guarded by lock
    private boolean deferredText;       // its kind; guarded by lock
    private boolean deferredCompressed; // whether its message is compressed end to end; guarded by lock
    private boolean deferredLast;       // whether it ends its message; guarded by lock
    private Completion deferredDone;    // its completion; guarded by lock
    private ArrayDeque<Pending> queue;  // gateway messages waiting for a message boundary, created on first use; guarded by lock
    private Pending writing;            // the gateway message being written, or null; guarded by lock
    private long queuedBytes;           // counted bytes of pushes waiting or being written, at most maxQueued; guarded by lock
    private Runnable closing;           // the CLOSE to send once the queue allows, or null; guarded by lock
    private boolean closed;             // the CLOSE went: gateway messages are dropped; guarded by lock

    /**
     * @param maxQueued the bound on pushed messages
     * @param written   told the payload size of each pushed message once it is written
     */
    Outbox(long maxQueued, IntConsumer written) {
        this.maxQueued = maxQueued;
        this.written = written;
    }

    void attach(Channel channel) {
        synchronized (lock) {
            this.channel = channel;
        }
        drive();
    }

    /**
     * Sends a relayed text ({@code text}) or binary fragment, of a message compressed end to end or not, now
     * or once the write in flight completed.
     */
    void send(boolean text, boolean compressed, ByteBuffer fragment, boolean last, Completion done) {
        Channel ch = null;
        synchronized (lock) {
            if (!busy && !driving && channel != null && (midMessage || queue == null || queue.isEmpty())) {
                busy = true;
                midMessage = !last;
                gatewayTurnTaken = false;
                ch = channel;
            } else {
                deferred = fragment;
                deferredText = text;
                deferredCompressed = compressed;
                deferredLast = last;
                deferredDone = done;
            }
        }
        if (ch != null) {
            write(ch, text, compressed, fragment, last, done);
        } else {
            drive();
        }
    }

    /** A relayed write completed (or failed): the next waiting write may go. */
    void relayed() {
        synchronized (lock) {
            busy = false;
            if (deferred == null && closing == null && (queue == null || queue.isEmpty())) {
                return;
            }
        }
        drive();
    }

    /**
     * Queues a whole message of the gateway's, counted against the bound.
     *
     * @param payload the message's bytes (UTF-8 for text), owned by the outbox from now on
     * @return {@link SendResult#QUEUED}; or, queuing nothing, {@link SendResult#TOO_LARGE} for a message the
     *         bound could never hold, {@link SendResult#QUEUE_FULL} when it has no room for it now,
     *         {@link SendResult#GONE} when the leg is closing
     */
    SendResult push(ByteBuffer payload, boolean text) {
        long n = (long) payload.remaining() + MESSAGE_OVERHEAD;
        if (n > maxQueued) {
            return SendResult.TOO_LARGE;
        }
        synchronized (lock) {
            if (closed || closing != null) {
                return SendResult.GONE;
            }
            if (queuedBytes + n > maxQueued) {
                return SendResult.QUEUE_FULL;
            }
            queuedBytes += n;
            enqueue(new Pending(payload, text, (int) n, null));
        }
        drive();
        return SendResult.QUEUED;
    }

    /**
     * Sends a whole text message of the gateway's as soon as the leg is between messages, then runs
     * {@code then}. The caller sends no other reply before {@code then} ran.
     */
    void reply(String text, Runnable then) {
        synchronized (lock) {
            enqueue(new Pending(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), true, 0, then));
        }
        drive();
    }

    /**
     * Sends the leg's CLOSE (runs {@code sendClose}) once the gateway messages queued before it are written,
     * or at once when none may go; later gateway messages are refused, or dropped.
     */
    void close(Runnable sendClose) {
        synchronized (lock) {
            if (closed || closing != null) {
                return;
            }
            closing = sendClose;
        }
        drive();
    }

    /**
     * Drops the gateway messages that wait for their write (not the one being written), so that a CLOSE
     * waiting behind them goes as soon as the write in flight ends. Replies of in-session policies dropped
     * run what they were to run once written.
     */
    void discard() {
        List<Pending> dropped;
        synchronized (lock) {
            dropped = drop();
        }
        runThens(dropped);
        drive();
    }

    /** How many counted bytes of pushed messages wait or are being written. */
    long queuedBytes() {
        synchronized (lock) {
            return queuedBytes;
        }
    }

    /** The gateway message in flight was written. */
    @Override
    public void succeeded() {
        written(true);
    }

    @Override
    public void failed(Throwable cause) {
        written(false);
    }

    private void written(boolean ok) {
        Pending done;
        synchronized (lock) {
            done = writing;
            writing = null;
            busy = false;
            queuedBytes -= done.counted();
        }
        if (ok && done.counted() > 0) {
            written.accept(done.counted() - MESSAGE_OVERHEAD);
        }
        drive();
        if (done.then() != null) {
            done.then().run();
        }
    }

    private void enqueue(Pending p) {
        if (queue == null) {
            queue = new ArrayDeque<>(4);
        }
        queue.add(p);
    }

    /**
     * Starts the writes that may go, one at a time, until one stays in flight or nothing waits; then the CLOSE,
     * if one waits and the queue allows. A write that completes on this thread calls back into here while the
     * loop runs; the loop then takes the next.
     */
    private void drive() {
        synchronized (lock) {
            if (driving) {
                return;
            }
            driving = true;
        }
        while (true) {
            Channel ch;
            Pending p = null;
            ByteBuffer fragment = null;
            boolean text;
            boolean compressed = false;
            boolean last = false;
            Completion done = null;
            Runnable close = null;
            List<Pending> dropped = null;
            synchronized (lock) {
                ch = channel;
                boolean gatewayMayGo = !closed && !midMessage && queue != null && !queue.isEmpty();
                if (busy || ch == null || (!gatewayMayGo && deferred == null)) {
                    if (!busy && ch != null && closing != null && !gatewayMayGo) {
                        close = closing;
                        closing = null;
                        closed = true;
                        dropped = drop();
                    }
                    if (close == null && dropped == null) {
                        driving = false;
                        return;
                    }
                    text = false;
                } else {
                    busy = true;
                    if (gatewayMayGo && !(gatewayTurnTaken && deferred != null)) {
                        p = queue.poll();
                        writing = p;
                        gatewayTurnTaken = true;
                        text = p.text();
                    } else {
                        fragment = deferred;
                        text = deferredText;
                        compressed = deferredCompressed;
                        last = deferredLast;
                        done = deferredDone;
                        deferred = null;
                        deferredDone = null;
                        midMessage = !last;
                        gatewayTurnTaken = false;
                    }
                }
            }
            if (close != null) {
                close.run();
                runThens(dropped);
            } else if (p != null) {
                write(ch, text, false, p.payload(), true, this);
            } else {
                write(ch, text, compressed, fragment, last, done);
            }
        }
    }

    /** Empties the queue (once the CLOSE went, or to let it go sooner); returns what it held. Under lock. */
    private List<Pending> drop() {
        if (queue == null || queue.isEmpty()) {
            return List.of();
        }
        List<Pending> gone = new ArrayList<>(queue);
        for (Pending p : gone) {
            queuedBytes -= p.counted();
        }
        queue.clear();
        return gone;
    }

    /** Runs what dropped replies were to run once written: their callers wait for it. */
    private static void runThens(List<Pending> dropped) {
        for (Pending p : dropped) {
            if (p.then() != null) {
                p.then().run();
            }
        }
    }

    private static void write(Channel ch, boolean text, boolean compressed, ByteBuffer fragment, boolean last,
            Completion done) {
        if (compressed) {
            ch.sendCompressed(text, fragment, last, done);
        } else if (text) {
            ch.sendText(fragment, last, done);
        } else {
            ch.sendBinary(fragment, last, done);
        }
    }
}
