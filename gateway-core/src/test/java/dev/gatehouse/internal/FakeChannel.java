package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * An in-memory {@link Channel} that records every call the engine makes and holds each data send's
 * {@link Completion}, so that the test decides when (and whether) a send succeeds. It also checks the
 * engine's side of the SPI contract: no two data sends in flight at once, a completion used once, and no
 * reserved close code (1004, 1006, 1015, or any other non-transmittable code but 1005) sent. Breaches are
 * collected as {@link #violations()} rather than thrown, because the engine calls from its timer thread too.
 */
final class FakeChannel implements Channel {

    /** How long any wait for an engine action lasts before the test fails. */
    static final long WAIT_SECONDS = 5;

    /** One data fragment the engine sent, with its completion held for the test. */
    static final class Sent {
        private final FakeChannel channel;
        private final boolean binary;
        private final String text;
        private final byte[] bytes;
        private final boolean last;
        private final Completion completion;
        private final AtomicBoolean completed = new AtomicBoolean();

        Sent(FakeChannel channel, boolean binary, String text, byte[] bytes, boolean last, Completion completion) {
            this.channel = channel;
            this.binary = binary;
            this.text = text;
            this.bytes = bytes;
            this.last = last;
            this.completion = completion;
        }

        boolean binary() {
            return binary;
        }

        boolean last() {
            return last;
        }

        /** The text of a text fragment. */
        String text() {
            assertTrue(!binary, () -> channel.name + " received a binary fragment where text was expected");
            return text;
        }

        /** A copy of a binary fragment's bytes, taken when it was sent. */
        byte[] bytes() {
            assertTrue(binary, () -> channel.name + " received a text fragment where binary was expected");
            return bytes.clone();
        }

        /** A copy of the fragment's raw bytes: UTF-8 for text. */
        byte[] payload() {
            return bytes.clone();
        }

        boolean isCompleted() {
            return completed.get();
        }

        /** Reports the send as written. */
        void succeed() {
            markCompleted();
            completion.succeeded();
        }

        /** Reports the send as failed. */
        void failWith(Throwable cause) {
            markCompleted();
            completion.failed(cause);
        }

        private void markCompleted() {
            if (!completed.compareAndSet(false, true)) {
                fail("the test completed a send to " + channel.name + " twice");
            }
            channel.inFlight.decrementAndGet();
        }

        @Override
        public String toString() {
            return (binary ? "binary(" + bytes.length + " bytes)" : "text(\"" + text + "\")") + (last ? " last" : "");
        }
    }

    private final String name;
    private final BlockingQueue<Sent> unread = new LinkedBlockingQueue<>();
    private final List<Sent> sent = new ArrayList<>(); // guarded by itself; not copy-on-write, which costs O(n) a send
    private final BlockingQueue<byte[]> pingQueue = new LinkedBlockingQueue<>();
    private final List<byte[]> pings = new CopyOnWriteArrayList<>();
    private final List<byte[]> pongs = new CopyOnWriteArrayList<>();
    private final BlockingQueue<CloseStatus> closeQueue = new LinkedBlockingQueue<>();
    private final List<CloseStatus> closes = new CopyOnWriteArrayList<>();
    private final BlockingQueue<Boolean> abortQueue = new LinkedBlockingQueue<>();
    private final AtomicInteger aborts = new AtomicInteger();
    private final AtomicInteger demands = new AtomicInteger();
    private final AtomicInteger consumed = new AtomicInteger(); // demands used by delivered frames
    private final AtomicInteger inFlight = new AtomicInteger(); // data sends whose completion has not run
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private volatile ChannelHandler pongResponder; // when set, answers every ping at once
    private volatile boolean completeAtOnce;       // when set, data sends succeed inside the send call

    private volatile boolean holdPongs;
    private final java.util.Queue<Completion> heldPongs = new java.util.concurrent.ConcurrentLinkedQueue<>();

    FakeChannel(String name) {
        this.name = name;
    }

    // ---- Channel ----

    @Override
    public void sendText(ByteBuffer utf8, boolean last, Completion completion) {
        byte[] copy = new byte[utf8.remaining()];
        utf8.duplicate().get(copy);
        record(new Sent(this, false, new String(copy, StandardCharsets.UTF_8), copy, last, completion));
    }

    @Override
    public void sendBinary(ByteBuffer fragment, boolean last, Completion completion) {
        byte[] copy = new byte[fragment.remaining()];
        fragment.duplicate().get(copy);
        record(new Sent(this, true, null, copy, last, completion));
    }

    private void record(Sent s) {
        if (inFlight.incrementAndGet() > 1) {
            violations.add(name + ": a data send started before the previous one completed: " + s);
        }
        synchronized (sent) {
            sent.add(s);
        }
        unread.add(s);
        if (completeAtOnce) {
            s.succeed();
        }
    }

    @Override
    public void sendPing(ByteBuffer payload) {
        byte[] copy = copy(payload);
        if (copy.length > 125) {
            violations.add(name + ": PING payload of " + copy.length + " bytes");
        }
        pings.add(copy);
        pingQueue.add(copy);
        ChannelHandler responder = pongResponder;
        if (responder != null) {
            responder.onPong(ByteBuffer.wrap(copy.clone()));
        }
    }

    @Override
    public void sendPong(ByteBuffer payload, Completion completion) {
        pongs.add(copy(payload));
        if (holdPongs) {
            heldPongs.add(completion);
        } else {
            completion.succeeded();
        }
    }

    /** From now on, pong completions wait for {@link #completeHeldPongs()}. */
    void holdPongs() {
        holdPongs = true;
    }

    /** Completes the pongs held so far. */
    void completeHeldPongs() {
        List<Completion> held = new ArrayList<>(heldPongs);
        heldPongs.clear();
        held.forEach(Completion::succeeded);
    }

    @Override
    public void close(CloseStatus status) {
        if (status == null) {
            violations.add(name + ": close(null)");
        } else if (!status.isTransmittable() && status.code() != CloseStatus.NO_STATUS.code()) {
            violations.add(name + ": reserved close code sent: " + status);
        }
        closes.add(status);
        closeQueue.add(status);
    }

    @Override
    public void abort() {
        aborts.incrementAndGet();
        abortQueue.add(Boolean.TRUE);
    }

    @Override
    public void demand() {
        demands.incrementAndGet();
    }

    // ---- for the test ----

    String name() {
        return name;
    }

    /** Answers every PING the engine sends with a PONG carrying the same payload, on the caller's thread. */
    void answerPingsWith(ChannelHandler handler) {
        this.pongResponder = handler;
    }

    /** Makes every data send succeed before the send call returns, as a fast transport may. */
    void completeSendsAtOnce() {
        this.completeAtOnce = true;
    }

    /** How many times the engine called {@link #demand()}. */
    int demands() {
        return demands.get();
    }

    /** Demands not yet used by a delivered frame. */
    int unusedDemand() {
        return demands.get() - consumed.get();
    }

    /** Uses one demand for an inbound frame; fails if the engine has not asked for one. */
    void consumeDemand() {
        if (consumed.incrementAndGet() > demands.get()) {
            consumed.decrementAndGet();
            fail("the test delivered a frame on " + name + " that the engine had not demanded");
        }
    }

    /** Every data fragment sent so far, in order. */
    List<Sent> sent() {
        synchronized (sent) {
            return new ArrayList<>(sent);
        }
    }

    /** The next data fragment not yet taken by {@link #nextSent()}, waiting up to 5 s. */
    Sent nextSent() {
        return poll(unread, "a data frame");
    }

    List<byte[]> pings() {
        return new ArrayList<>(pings);
    }

    /** The next PING payload, waiting up to 5 s. */
    byte[] awaitPing() {
        return poll(pingQueue, "a PING");
    }

    List<byte[]> pongs() {
        return new ArrayList<>(pongs);
    }

    /** Every close() call, in order. */
    List<CloseStatus> closes() {
        return new ArrayList<>(closes);
    }

    /** The next close() call not yet awaited, waiting up to 5 s. */
    CloseStatus awaitClose() {
        return poll(closeQueue, "a CLOSE");
    }

    /** Asserts that exactly one close() call was made, with exactly this code and reason. */
    void assertClosedOnceWith(CloseStatus expected) {
        assertEquals(List.of(expected), closes(), name + " close() calls");
    }

    int aborts() {
        return aborts.get();
    }

    /** Waits up to 5 s for an abort() call. */
    void awaitAbort() {
        poll(abortQueue, "an abort");
    }

    /** Contract breaches seen so far. */
    List<String> violations() {
        return new ArrayList<>(violations);
    }

    private <T> T poll(BlockingQueue<T> queue, String what) {
        try {
            T value = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(value, () -> name + " received no " + what + " within " + WAIT_SECONDS + " s");
            return value;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + what + " on " + name, e);
        }
    }

    private static byte[] copy(ByteBuffer payload) {
        byte[] copy = new byte[payload.remaining()];
        payload.duplicate().get(copy);
        return copy;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "FakeChannel[" + name + "]";
    }
}
