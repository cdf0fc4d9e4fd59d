package dev.gatehouse.jetty.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * One WebSocket leg that Gatehouse owns after the handshake: a Jetty {@link Connection} on the leg's
 * {@link EndPoint} that reads frames with Gatehouse's own {@link FrameParser} and writes them with
 * {@link FrameHeaders}, in place of Jetty's WebSocket session. It is the engine's {@link Channel} for the
 * leg, and hands the leg's inbound events to the engine's {@link ChannelHandler}.
 *
 * <p><b>Threads.</b> Reads run on the selector thread that found the socket readable ({@link
 * AbstractConnection.NonBlocking}): no hand-off to a pool thread. The engine's handler is called on that
 * thread, or on whichever thread called {@link #demand()}; it never blocks. One thread at a time runs the
 * read loop, and a {@code demand()} from inside the handler does not recurse: the loop takes the next
 * event once the handler returns.
 *
 * <p><b>Flow control.</b> One inbound event per {@link #demand()}, none before the first: a data frame's
 * payload is lent to the engine as a slice of the read buffer, which stays retained until the engine
 * completes the frame's {@link Completion}. The socket is read only when the engine wants an event and the
 * bytes already read hold none, so a slow peer leg slows this one through TCP. A client's frames go to the
 * engine still masked, with the key turned to each slice's start, when its handler relays them as they are
 * ({@link ChannelHandler#relaysMasked()}), and are sent on with that key ({@link #sendMasked}); otherwise
 * they are unmasked in place in the read buffer, which the leg owns, and frames to a server are masked with a
 * fresh key into a pooled copy.
 *
 * <p><b>Writes.</b> One write at a time on the endpoint; frames sent meanwhile (control frames may come
 * between data frames) wait in order and go out together in one gathered write. A small data frame sent
 * while some leg's read pass runs on the calling thread, and while nothing is being written, is copied into
 * the leg's batch buffer and its send completes at once; the batch is written when that read pass ends, so
 * that every frame relayed from one read goes out in one write. The batch is bounded (one buffer of
 * {@value #BATCH_SIZE} bytes), and a leg whose previous write is still in flight is not batched, so a slow
 * peer still slows its sender.
 *
 * <p><b>Close.</b> A peer's CLOSE is passed to the engine, and answered when the engine calls
 * {@link #close}, with the status it gives; a CLOSE the engine sends first waits for the peer's. Once both
 * are through, the connection is closed. A frame that breaks the protocol gets the CLOSE of its
 * {@link FrameException} and the connection closes; the engine hears of it through
 * {@link ChannelHandler#onProtocolError}. The engine hears of the end of the leg once.
 */
final class FrameLeg extends AbstractConnection.NonBlocking implements Connection.UpgradeTo, Channel,
        FrameParser.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(FrameLeg.class);
    /** The read buffer's size: a few frames of a busy leg, or a good part of a large one. */
    private static final int READ_BUFFER_SIZE = 64 * 1024;
    /** The most frames that go out in one gathered write. */
    private static final int MAX_GATHER = 32;
    /** The size of a leg's batch buffer. */
    static final int BATCH_SIZE = 16 * 1024;
    /** The largest data frame payload copied into a batch; larger ones are written from the sender's buffer. */
    private static final int BATCH_MAX_PAYLOAD = 2 * 1024;
    /** The read passes running on this thread and the legs whose batches wait for them to end. */
    private static final ThreadLocal<Pass> PASS = ThreadLocal.withInitial(Pass::new);

    /** Which end of the WebSocket connection the gateway is on this leg. */
    enum Role {
        /** The gateway is the server: the client leg. The peer's frames are masked, the gateway's are not. */
        SERVER,
        /** The gateway is the client: the backend leg. The peer's frames are not masked, the gateway's are. */
        CLIENT
    }

    private final Role role;
    private final ByteBufferPool pool;
    private final ChannelHandler handler;
    private final Consumer<FrameLeg> onOpen;
    private final FrameParser parser;
    private final ControlFrames control;
    private final Flusher flusher = new Flusher();

    // ---- read side: touched by the one thread in the read loop (or in onUpgradeTo/onOpen, before it runs) ----
    private RetainableByteBuffer in;     // the read buffer, or null while idle; the leg holds one reference
    private Event event;                 // the event the parser found in the current parse() call, or null
    private boolean inboundText;         // the data message being received is text
    private boolean inboundCompressed;   // the data message being received is compressed (RSV1 on its first frame)
    private ByteBuffer controlPayload;   // the unmasked payload of the control frame being read
    private boolean mayHaveMore = true;  // the socket may hold unread bytes: false once a read left room in the buffer,
                                         // true again when Jetty reports the socket readable
    private final Event dataEvent = new Event(); // reused: one data event at a time

    // ---- guarded by this ----
    private boolean demanded;            // the engine wants one more event
    private boolean looping;             // a thread runs the read loop
    private boolean interested;          // fill interest is registered
    private boolean notified;            // the engine heard how the leg ended (CLOSE, protocol error, loss)
    private boolean closeReceived;       // the peer's CLOSE arrived
    private boolean closeSent;           // the gateway's CLOSE was handed to the flusher
    private boolean outboundOpen;        // a message the engine sends has not ended (data sends are serial)
    private boolean dead;                // the endpoint is closed, or closing: sends fail
    private boolean endPending;          // the connection ended while the read loop ran: the loop reports it as it stops
    private RetainableByteBuffer batch;  // frames copied while a read pass runs, not yet handed to the flusher, or null

    /**
     * @param endPoint    the leg's endpoint, after its HTTP upgrade
     * @param executor    the connection's executor (Jetty's, for its own needs)
     * @param pool        where read and write buffers come from
     * @param role        the gateway's side of this leg
     * @param allowedRsv  the RSV bits the negotiated extensions use, 0 for none
     * @param handler     the engine's handler of the leg's events
     * @param onOpen      called once the connection is open on the endpoint
     * @param idleTimeout the endpoint's idle timeout, a safety net behind the engine's timers; zero for none
     */
    FrameLeg(EndPoint endPoint, Executor executor, ByteBufferPool pool, Role role, int allowedRsv,
            ChannelHandler handler, Consumer<FrameLeg> onOpen, Duration idleTimeout) {
        super(endPoint, executor);
        this.role = role;
        this.pool = pool;
        this.handler = handler;
        this.onOpen = onOpen;
        this.control = role == Role.SERVER ? ControlFrames.TO_CLIENT : ControlFrames.TO_SERVER;
        this.parser = FrameParser.of(role == Role.SERVER ? FrameParser.Sender.CLIENT : FrameParser.Sender.SERVER,
                allowedRsv, FrameParser.NO_LIMIT, this);
        endPoint.setIdleTimeout(idleTimeout.toMillis());
    }

    // ---- Jetty connection lifecycle ----

    @Override
    public void onUpgradeTo(ByteBuffer prefilled) {
        if (prefilled != null && prefilled.hasRemaining()) {
            in = pool.acquire(Math.max(READ_BUFFER_SIZE, prefilled.remaining()), false);
            ByteBuffer b = in.getByteBuffer();
            int pos = b.position();
            b.limit(b.capacity());
            b.put(prefilled);
            b.limit(b.position()).position(pos);
        }
    }

    @Override
    public void onOpen() {
        super.onOpen();
        onOpen.accept(this);
    }

    @Override
    public void onFillable() {
        mayHaveMore = true; // read by the loop this call starts, or by the loop running (which sees interested clear)
        synchronized (this) {
            interested = false;
            if (looping) {
                return; // the loop that registered the interest reads on
            }
            looping = true;
        }
        readLoop();
    }

    @Override
    public void onFillInterestedFailed(Throwable cause) {
        synchronized (this) {
            interested = false;
        }
        lost(cause);
    }

    @Override
    public void onClose(Throwable cause) {
        super.onClose(cause);
        flusher.close(cause == null ? new ClosedChannelException() : cause);
        ended();
    }

    /**
     * The connection is gone: tells the engine and gives the read buffer back, unless the read loop runs,
     * which then does both as it stops, so that the engine never hears of the end while (or before) it
     * handles an event of the loop's.
     */
    private void ended() {
        boolean deferred;
        synchronized (this) {
            dead = true;
            deferred = looping;
            if (deferred) {
                endPending = true;
            }
        }
        if (!deferred) {
            releaseReadBuffer();
            notifyEnd(() -> handler.onClose(CloseStatus.ABNORMAL));
        }
    }

    /** Reports an end that came while the loop ran, once the loop has stopped. */
    private void finishIfEnded() {
        boolean end;
        synchronized (this) {
            end = endPending && !looping;
            if (end) {
                endPending = false;
            }
        }
        if (end) {
            releaseReadBuffer();
            notifyEnd(() -> handler.onClose(CloseStatus.ABNORMAL));
        }
    }

    @Override
    public boolean onIdleExpired(java.util.concurrent.TimeoutException timeout) {
        LOG.debug("{} leg idle past its safety timeout; closing", role);
        return true;
    }

    // ---- Channel: inbound flow ----

    @Override
    public void demand() {
        synchronized (this) {
            if (notified && dead) {
                return;
            }
            demanded = true;
            if (looping || interested) {
                return;
            }
            looping = true;
        }
        readLoop();
    }

    /**
     * Hands the engine one event per demand: from the bytes already read, else from the socket, else
     * registers fill interest and returns. Runs on one thread at a time ({@code looping}).
     */
    private void readLoop() {
        Pass pass = PASS.get();
        pass.depth++;
        try {
            readEvents();
        } finally {
            if (--pass.depth == 0) {
                pass.flush();
            }
        }
    }

    private void readEvents() {
        while (true) {
            boolean stop;
            synchronized (this) {
                stop = !demanded || dead;
                if (stop) {
                    looping = false;
                }
            }
            if (stop) {
                finishIfEnded();
                return;
            }
            Event e;
            try {
                e = nextEvent();
            } catch (FrameException violation) {
                synchronized (this) {
                    looping = false;
                }
                protocolError(violation.status());
                finishIfEnded();
                return;
            } catch (IOException | RuntimeException failure) {
                synchronized (this) {
                    looping = false;
                }
                lost(failure);
                finishIfEnded();
                return;
            }
            if (e == null) {
                // Nothing buffered holds an event, and the socket has nothing now: wait for it.
                boolean register;
                synchronized (this) {
                    register = !interested && !dead;
                    interested = register;
                    if (register) {
                        releaseIfEmpty();
                    }
                    looping = false;
                }
                if (register) {
                    fillInterested();
                }
                finishIfEnded();
                return;
            }
            boolean deliver;
            synchronized (this) {
                deliver = !dead;
                if (deliver) {
                    demanded = false;
                } else {
                    looping = false;
                }
            }
            if (!deliver) {
                e.succeeded(); // gives a lent slice back: the engine hears of the end instead
                finishIfEnded();
                return;
            }
            e.deliver(this);
        }
    }

    /**
     * The next event from the bytes already read, reading more from the socket as needed, or null when the
     * socket has nothing more for now.
     *
     * @throws EOFException when the peer closed the connection without a CLOSE frame
     */
    private Event nextEvent() throws IOException {
        while (true) {
            ByteBuffer b = in == null ? null : in.getByteBuffer();
            if (b != null) {
                event = null;
                parser.parse(b);
                Event found = event;
                event = null;
                if (found != null) {
                    return found;
                }
            }
            if (!mayHaveMore || !fill()) {
                // A read that left room in the buffer drained the socket: a second read would find nothing
                // (a wasted system call per frame), so wait for Jetty to report it readable again.
                return null;
            }
        }
    }

    /**
     * Reads more bytes into the read buffer (a fresh one when a data slice of the current one is still lent
     * to the engine).
     *
     * @return whether bytes were read
     * @throws EOFException at the end of the peer's stream
     */
    private boolean fill() throws IOException {
        if (in == null) {
            in = pool.acquire(READ_BUFFER_SIZE, false);
        } else if (!in.getByteBuffer().hasRemaining()) {
            if (in.isRetained()) {
                in.release(); // a lent slice still holds it; the engine's completion gives it back
                in = pool.acquire(READ_BUFFER_SIZE, false);
            } else {
                in.clear();
            }
        } else if (in.getByteBuffer().limit() == in.getByteBuffer().capacity()) {
            // Full, with unread bytes: move them to a fresh buffer (the old one may still be lent out).
            ByteBuffer rest = in.getByteBuffer();
            RetainableByteBuffer next = pool.acquire(Math.max(READ_BUFFER_SIZE, rest.remaining() * 2), false);
            ByteBuffer nb = next.getByteBuffer();
            nb.limit(nb.capacity());
            nb.put(rest);
            nb.flip();
            in.release();
            in = next;
        }
        ByteBuffer b = in.getByteBuffer();
        int room = b.capacity() - b.limit();
        int n = getEndPoint().fill(b);
        if (n < 0) {
            throw new EOFException("the peer closed the connection without a CLOSE frame");
        }
        mayHaveMore = n == room;
        return n > 0;
    }

    /** Gives the read buffer back to the pool while the leg waits with nothing unread: idle legs hold none. */
    private void releaseIfEmpty() {
        RetainableByteBuffer b = in;
        if (b != null && !b.getByteBuffer().hasRemaining()) {
            in = null;
            b.release();
        }
    }

    private void releaseReadBuffer() {
        RetainableByteBuffer b;
        synchronized (this) {
            if (looping) {
                return; // the loop still uses it; it stops at its next check, and the buffer goes with the leg
            }
            b = in;
            in = null;
        }
        if (b != null) {
            b.release();
        }
    }

    // ---- FrameParser.Listener: turns frames into events, one per parse() call ----

    @Override
    public FrameParser.Flow onFrameStart(FrameParser.Header h) {
        if (h.isControl()) {
            controlPayload = h.payloadLength() == 0 ? EMPTY : null;
        } else {
            if (h.opcode() == FrameHeaders.TEXT || h.opcode() == FrameHeaders.BINARY) {
                inboundText = h.opcode() == FrameHeaders.TEXT;
                inboundCompressed = (h.rsv() & FrameHeaders.RSV1) != 0;
            }
            if (h.payloadLength() == 0) {
                return data(EMPTY_SLICE, h.fin(), false);
            }
        }
        return FrameParser.Flow.CONTINUE;
    }

    @Override
    public FrameParser.Flow onPayload(FrameParser.Header h, ByteBuffer view, long frameOffset) {
        if (h.isControl()) {
            ByteBuffer copy = ByteBuffer.allocate(view.remaining());
            if (h.masked()) {
                Masking.mask(view, copy, h.maskKey(), frameOffset);
            } else {
                copy.put(view.duplicate());
            }
            controlPayload = copy.flip();
            return FrameParser.Flow.CONTINUE;
        }
        // A data frame: the view's indexes are the read buffer's.
        ByteBuffer slice = in.getByteBuffer().duplicate();
        slice.limit(view.limit()).position(view.position());
        slice = slice.slice();
        boolean frameEnds = frameOffset + view.remaining() == h.payloadLength();
        if (h.masked()) {
            if (!inboundCompressed && handler.relaysMasked()) {
                // Relayed as it came, to a leg that sends masked frames: the key turned to where this slice starts.
                FrameParser.Flow flow = data(slice, h.fin() && frameEnds, true);
                event.masked(Masking.keyAt(h.maskKey(), frameOffset));
                return flow;
            }
            Masking.mask(slice, h.maskKey(), frameOffset); // unmasked in place: the leg owns the buffer
        }
        return data(slice, h.fin() && frameEnds, true);
    }

    @Override
    public FrameParser.Flow onFrameEnd(FrameParser.Header h) {
        if (!h.isControl()) {
            return FrameParser.Flow.CONTINUE;
        }
        ByteBuffer payload = controlPayload == null ? EMPTY : controlPayload;
        controlPayload = null;
        switch (h.opcode()) {
            case FrameHeaders.PING -> event = Event.ping(payload);
            case FrameHeaders.PONG -> event = Event.pong(payload);
            default -> event = Event.close(h.closeCode() == CloseStatus.NO_STATUS.code() ? CloseStatus.NO_STATUS
                    : CloseStatus.of(h.closeCode(), h.closeReason()));
        }
        return FrameParser.Flow.PAUSE;
    }

    private FrameParser.Flow data(ByteBuffer slice, boolean last, boolean lent) {
        if (lent) {
            in.retain(); // released by the engine's completion of this fragment
        }
        // The reused event serves unless the engine still holds the previous fragment (it may, when it copies late).
        Event e = dataEvent.lent == null ? dataEvent : new Event();
        e.data(inboundText, inboundCompressed, slice, last, lent ? in : null);
        event = e;
        return FrameParser.Flow.PAUSE;
    }

    private void onPeerClose(CloseStatus status) {
        boolean answered;
        synchronized (this) {
            closeReceived = true;
            answered = closeSent;
        }
        if (answered) {
            // The answer to the gateway's CLOSE: the close handshake is done.
            notifyEnd(() -> handler.onClose(status));
            closeAfterFlush();
        } else {
            // The peer starts the close: the engine answers through close(), with the status it decides.
            notifyEnd(() -> handler.onClose(status));
        }
    }

    private void protocolError(CloseStatus sent) {
        LOG.debug("{} leg broke the protocol: {}", role, sent);
        queueClose(sent);
        // The engine hears of the violation before the connection closes, which it would hear of as a loss.
        notifyEnd(() -> handler.onProtocolError(sent));
        closeAfterFlush();
    }

    /**
     * Queues the leg's CLOSE, unless one was: {@code closeSent} is set and the frame queued under one hold of the
     * lock, so that a peer's CLOSE that sees {@code closeSent} (and closes the connection after the flush) always
     * finds the CLOSE ahead of it in the queue.
     *
     * @return whether the peer's CLOSE had arrived already; {@code false} when this leg's CLOSE was sent before
     */
    private boolean queueClose(CloseStatus status) {
        RetainableByteBuffer frame = pool.acquire(ControlFrames.MAX_LENGTH, false);
        ByteBuffer b = frame.getByteBuffer();
        b.clear();
        control.close(b, status);
        b.flip();
        boolean queued;
        boolean answering;
        synchronized (this) {
            if (closeSent || dead) {
                queued = false;
                answering = false;
            } else {
                closeSent = true;
                answering = closeReceived;
                queued = enqueueAfterBatch(b, frame, Callback.NOOP);
            }
        }
        if (queued) {
            flusher.iterate();
        } else {
            frame.release();
        }
        return answering;
    }

    private void lost(Throwable cause) {
        LOG.debug("{} leg lost", role, cause);
        ended();
        getEndPoint().close(cause);
    }

    /** Tells the engine how the leg ended, once, whatever else reports it later. */
    private void notifyEnd(Runnable tell) {
        synchronized (this) {
            if (notified) {
                return;
            }
            notified = true;
        }
        try {
            tell.run();
        } catch (RuntimeException e) {
            LOG.error("The engine failed to handle the end of a {} leg", role, e);
        }
    }

    // ---- Channel: outbound ----

    @Override
    public void sendText(ByteBuffer utf8, boolean last, Completion completion) {
        sendData(FrameHeaders.TEXT, utf8, last, completion);
    }

    @Override
    public void sendBinary(ByteBuffer fragment, boolean last, Completion completion) {
        sendData(FrameHeaders.BINARY, fragment, last, completion);
    }

    @Override
    public void sendCompressed(boolean text, ByteBuffer fragment, boolean last, Completion completion) {
        sendData(text ? FrameHeaders.TEXT : FrameHeaders.BINARY, fragment, last, completion, true);
    }

    @Override
    public boolean sendsMasked() {
        return role == Role.CLIENT;
    }

    @Override
    public void sendMasked(boolean text, ByteBuffer fragment, int maskKey, boolean last, Completion completion) {
        if (role != Role.CLIENT) {
            throw new UnsupportedOperationException("a server leg sends no masked frames");
        }
        sendData(text ? FrameHeaders.TEXT : FrameHeaders.BINARY, fragment, last, completion, false, true, maskKey);
    }

    private void sendData(int opcode, ByteBuffer payload, boolean last, Completion completion) {
        sendData(opcode, payload, last, completion, false);
    }

    private void sendData(int opcode, ByteBuffer payload, boolean last, Completion completion, boolean compressed) {
        sendData(opcode, payload, last, completion, compressed, false, 0);
    }

    /**
     * Sends a data frame; the first frame of a compressed message is marked with RSV1 (RFC 7692). Whether the
     * frame may still go, its place among the leg's frames and its hand-over (to the batch or the flusher's
     * queue) are decided under the leg's lock, as a CLOSE's are, so that no data frame follows the CLOSE; the
     * write itself starts after the lock is released.
     */
    private void sendData(int opcode, ByteBuffer payload, boolean last, Completion completion, boolean compressed,
            boolean premasked, int premaskKey) {
        int n = payload.remaining();
        boolean batched = false;
        boolean refused = false;
        RetainableByteBuffer frame = null;
        synchronized (this) {
            if (dead || closeSent) {
                refused = true;
            } else {
                int op = outboundOpen ? FrameHeaders.CONTINUATION : opcode;
                outboundOpen = !last;
                int firstByte = (last ? FrameHeaders.FIN : 0) | op
                        | (compressed && op != FrameHeaders.CONTINUATION ? FrameHeaders.RSV1 : 0);
                batched = batched(firstByte, payload, premasked, premaskKey);
                if (!batched) {
                    sealBatch();
                    ByteBuffer[] buffers;
                    if (premasked) {
                        // Masked already, by the client whose frame this relays: its key in the header, its bytes as they are.
                        frame = pool.acquire(FrameHeaders.MAX_HEADER_LENGTH, false);
                        ByteBuffer header = frame.getByteBuffer();
                        header.clear();
                        FrameHeaders.write(header, firstByte, n, premaskKey);
                        header.flip();
                        buffers = n == 0 ? new ByteBuffer[] {header} : new ByteBuffer[] {header, payload};
                    } else if (role == Role.CLIENT) {
                        // To a server: masked, into a pooled copy (the engine's payload is not ours to change).
                        frame = pool.acquire(FrameHeaders.MAX_HEADER_LENGTH + n, false);
                        ByteBuffer b = frame.getByteBuffer();
                        b.clear();
                        int key = MaskKeys.next();
                        FrameHeaders.write(b, firstByte, n, key);
                        Masking.mask(payload.duplicate(), b, key, 0);
                        b.flip();
                        buffers = new ByteBuffer[] {b};
                    } else {
                        frame = pool.acquire(FrameHeaders.MAX_HEADER_LENGTH, false);
                        ByteBuffer header = frame.getByteBuffer();
                        header.clear();
                        FrameHeaders.write(header, firstByte, n);
                        header.flip();
                        buffers = n == 0 ? new ByteBuffer[] {header} : new ByteBuffer[] {header, payload};
                    }
                    refused = !flusher.enqueue(buffers, frame, Callback.from(completion::succeeded, completion::failed));
                }
            }
        }
        if (refused) {
            if (frame != null) {
                frame.release();
            }
            completion.failed(new ClosedChannelException());
        } else if (batched) {
            PASS.get().add(this);
            completion.succeeded();
        } else {
            flusher.iterate();
        }
    }

    /**
     * Copies a small data frame into the batch when a read pass runs on this thread and nothing is being
     * written, so that it goes out with the pass's other frames; the frame is then as good as written. Under
     * the leg's lock.
     *
     * @return whether the frame was batched
     */
    private boolean batched(int firstByte, ByteBuffer payload, boolean premasked, int premaskKey) {
        int n = payload.remaining();
        if (PASS.get().depth == 0 || n > BATCH_MAX_PAYLOAD || !flusher.isIdle()) {
            return false;
        }
        if (batch == null) {
            batch = pool.acquire(BATCH_SIZE, false);
            batch.getByteBuffer().clear();
        }
        ByteBuffer b = batch.getByteBuffer();
        if (b.remaining() < FrameHeaders.MAX_HEADER_LENGTH + n) {
            return false;
        }
        if (premasked) {
            FrameHeaders.write(b, firstByte, n, premaskKey);
            b.put(payload.duplicate());
        } else if (role == Role.CLIENT) {
            int key = MaskKeys.next();
            FrameHeaders.write(b, firstByte, n, key);
            Masking.mask(payload.duplicate(), b, key, 0);
        } else {
            FrameHeaders.write(b, firstByte, n);
            b.put(payload.duplicate());
        }
        return true;
    }

    /** Hands the batch, if any, to the flusher's queue, before a frame that must follow it. Under the leg's lock. */
    private void sealBatch() {
        RetainableByteBuffer sealed = batch;
        batch = null;
        if (sealed != null) {
            ByteBuffer b = sealed.getByteBuffer();
            b.flip();
            if (!flusher.enqueue(new ByteBuffer[] {b}, sealed, Callback.NOOP)) {
                sealed.release();
            }
        }
    }

    /** Writes the batch, if any: the read pass that filled it ended. */
    private void flushBatch() {
        synchronized (this) {
            sealBatch();
        }
        flusher.iterate();
    }

    @Override
    public void sendPing(ByteBuffer payload) {
        sendControl(frame -> control.ping(frame, payload), null);
    }

    @Override
    public void sendPong(ByteBuffer payload, Completion completion) {
        sendControl(frame -> control.pong(frame, payload), completion);
    }

    @Override
    public void close(CloseStatus status) {
        if (queueClose(status)) {
            closeAfterFlush(); // the answer to the peer's CLOSE ends the handshake
        }
    }

    @Override
    public void abort() {
        synchronized (this) {
            dead = true;
        }
        getEndPoint().close();
    }

    /** Sends a PING or PONG after the leg's frames so far (the batch included); nothing once the leg's CLOSE is queued. */
    private void sendControl(Consumer<ByteBuffer> write, Completion completion) {
        RetainableByteBuffer frame = pool.acquire(ControlFrames.MAX_LENGTH, false);
        ByteBuffer b = frame.getByteBuffer();
        b.clear();
        write.accept(b);
        b.flip();
        Callback cb = completion == null ? Callback.NOOP : Callback.from(completion::succeeded, completion::failed);
        boolean queued;
        synchronized (this) {
            // After the leg's CLOSE nothing more goes: a PING is dropped, a PONG's completion fails.
            queued = !dead && !closeSent && enqueueAfterBatch(b, frame, cb);
        }
        if (!queued) {
            frame.release();
            if (completion != null) {
                completion.failed(new ClosedChannelException());
            }
            return;
        }
        flusher.iterate();
    }

    /** Seals the batch, then queues a frame behind it. Under the leg's lock. */
    private boolean enqueueAfterBatch(ByteBuffer b, RetainableByteBuffer frame, Callback cb) {
        sealBatch();
        return flusher.enqueue(new ByteBuffer[] {b}, frame, cb);
    }

    /** Closes the endpoint once every frame handed to the flusher is written (the CLOSE last among them). */
    private void closeAfterFlush() {
        Callback close = Callback.from(() -> {
            synchronized (this) {
                dead = true;
            }
            getEndPoint().close();
        }, x -> getEndPoint().close(x));
        boolean queued;
        synchronized (this) {
            sealBatch();
            queued = flusher.enqueue(new ByteBuffer[0], null, close);
        }
        if (queued) {
            flusher.iterate();
        } else {
            getEndPoint().close();
        }
    }

    /**
     * The leg's writes: frames wait in order and go out in gathered writes, one at a time. Each frame's
     * buffer goes back to the pool, and its callback runs, once it is written.
     */
    private final class Flusher extends IteratingCallback {
        // Small to start with: most legs are idle, and a busy one grows them once.
        private final ArrayDeque<Entry> queue = new ArrayDeque<>(2); // frames waiting; guarded by this Flusher
        private List<Entry> writing = new ArrayList<>(2); // the frames of the write in flight; process() and its completion only
        private List<Entry> written = new ArrayList<>(2); // swapped with writing when a write completes; likewise
        private final List<ByteBuffer> gather = new ArrayList<>(4); // the buffers of the write being started; likewise
        private Throwable failure;     // set once the endpoint is gone; guarded by this Flusher
        private boolean busy;          // frames are waiting or being written; guarded by this Flusher

        /** Whether nothing waits or is being written. */
        synchronized boolean isIdle() {
            return !busy && failure == null;
        }

        /**
         * Queues a frame behind the others; the caller then calls {@link #iterate()}, outside any lock of the
         * leg's (a write may complete on the calling thread and call back into the engine).
         *
         * @return {@code false}, queuing nothing, once the endpoint is gone: the caller releases and fails
         */
        boolean enqueue(ByteBuffer[] buffers, RetainableByteBuffer owned, Callback callback) {
            synchronized (this) {
                if (failure != null) {
                    return false;
                }
                queue.add(new Entry(buffers, owned, callback));
                busy = true;
                return true;
            }
        }

        void close(Throwable cause) {
            List<Entry> dropped;
            synchronized (this) {
                if (failure != null) {
                    return;
                }
                failure = cause;
                dropped = new ArrayList<>(queue);
                queue.clear();
            }
            for (Entry e : dropped) {
                e.fail(cause);
            }
        }

        @Override
        protected Action process() {
            List<ByteBuffer> buffers = gather;
            buffers.clear();
            synchronized (this) {
                while (!queue.isEmpty() && writing.size() < MAX_GATHER) {
                    Entry e = queue.poll();
                    writing.add(e);
                    for (ByteBuffer b : e.buffers) {
                        buffers.add(b);
                    }
                }
            }
            if (writing.isEmpty()) {
                synchronized (this) {
                    busy = !queue.isEmpty();
                }
                return Action.IDLE;
            }
            if (buffers.isEmpty()) {
                succeeded(); // entries without bytes: only their callbacks
            } else if (buffers.size() == 1) {
                getEndPoint().write(this, buffers.get(0));
            } else {
                getEndPoint().write(this, buffers.toArray(ByteBuffer[]::new));
            }
            buffers.clear();
            return Action.SCHEDULED;
        }

        @Override
        protected void onSuccess() {
            // The callbacks may queue frames, never start a write: Jetty runs process() again only after this.
            List<Entry> done = writing;
            writing = written;
            written = done;
            for (int i = 0; i < done.size(); i++) {
                done.get(i).succeed();
            }
            done.clear();
        }

        @Override
        protected void onCompleteFailure(Throwable cause) {
            List<Entry> done = new ArrayList<>(writing);
            writing.clear();
            close(cause);
            for (Entry e : done) {
                e.fail(cause);
            }
            lost(cause);
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }
    }

    /** The read passes running on one thread, and the legs whose batches they filled. */
    private static final class Pass {
        private int depth;                                       // read loops running on this thread
        private final List<FrameLeg> legs = new ArrayList<>(4);  // legs with a batch to hand over at the end

        void add(FrameLeg leg) {
            if (!legs.contains(leg)) {
                legs.add(leg);
            }
        }

        /**
         * The outermost read pass ended: every batch goes to its flusher. A write that completes inline may
         * start another read pass on this thread, which flushes what it batched itself.
         */
        void flush() {
            while (!legs.isEmpty()) {
                legs.remove(legs.size() - 1).flushBatch();
            }
        }
    }

    /** A frame waiting to be written: its buffers, the pooled buffer they are in (or null), its callback. */
    private record Entry(ByteBuffer[] buffers, RetainableByteBuffer owned, Callback callback) {
        void succeed() {
            if (owned != null) {
                owned.release();
            }
            callback.succeeded();
        }

        void fail(Throwable cause) {
            if (owned != null) {
                owned.release();
            }
            callback.failed(cause);
        }
    }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();
    private static final ByteBuffer EMPTY_SLICE = ByteBuffer.allocate(0);

    /** One inbound event, handed to the engine once the parser has returned. */
    private static final class Event implements Completion {
        private int kind;                   // DATA, PING, PONG or CLOSE
        private boolean text;               // a data event's kind of message
        private boolean compressed;         // a data event's message is compressed end to end
        private boolean masked;             // a data event's slice is still masked, with maskKey from its first byte
        private int maskKey;
        private ByteBuffer payload;         // the data slice or the control payload
        private boolean last;               // a data event ends its message
        private CloseStatus status;         // a CLOSE event's status
        private volatile RetainableByteBuffer lent; // the read buffer the data slice is in, released once

        private static final int DATA = 0;
        private static final int PING = 1;
        private static final int PONG = 2;
        private static final int CLOSE = 3;

        void data(boolean isText, boolean isCompressed, ByteBuffer slice, boolean isLast, RetainableByteBuffer buffer) {
            kind = DATA;
            text = isText;
            compressed = isCompressed;
            masked = false;
            payload = slice;
            last = isLast;
            lent = buffer;
        }

        /** Marks the data event's slice as still masked, with this key from its first byte. */
        void masked(int key) {
            masked = true;
            maskKey = key;
        }

        static Event ping(ByteBuffer payload) {
            Event e = new Event();
            e.kind = PING;
            e.payload = payload;
            return e;
        }

        static Event pong(ByteBuffer payload) {
            Event e = new Event();
            e.kind = PONG;
            e.payload = payload;
            return e;
        }

        static Event close(CloseStatus status) {
            Event e = new Event();
            e.kind = CLOSE;
            e.status = status;
            return e;
        }

        void deliver(FrameLeg leg) {
            switch (kind) {
                case DATA -> {
                    if (masked) {
                        leg.handler.onMasked(text, payload, maskKey, last, this);
                    } else if (compressed) {
                        leg.handler.onCompressed(text, payload, last, this);
                    } else if (text) {
                        leg.handler.onText(payload, last, this);
                    } else {
                        leg.handler.onBinary(payload, last, this);
                    }
                }
                case PING -> leg.handler.onPing(payload);
                case PONG -> leg.handler.onPong(payload);
                default -> leg.onPeerClose(status);
            }
        }

        @Override
        public void succeeded() {
            release();
        }

        @Override
        public void failed(Throwable cause) {
            release();
        }

        private void release() {
            RetainableByteBuffer b = lent;
            if (b != null) {
                lent = null;
                b.release();
            }
        }
    }
}
