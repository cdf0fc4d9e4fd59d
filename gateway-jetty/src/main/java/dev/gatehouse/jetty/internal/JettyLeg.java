package dev.gatehouse.jetty.internal;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.exception.CloseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * One WebSocket leg at Jetty's frame level: a {@link FrameHandler} that hands every inbound frame to the
 * engine's {@link ChannelHandler} (data frames as they came, text as raw UTF-8, with the frame's buffer
 * held until the engine releases it), and the {@link Channel} the engine sends through, one frame per
 * fragment. Jetty reads a frame only when the engine demands one, the first one included.
 */
public final class JettyLeg implements FrameHandler, Channel {

    private static final Logger LOG = LoggerFactory.getLogger(JettyLeg.class);
    /** Jetty's read size: bulk messages arrive in few large fragments; idle legs release the buffer. */
    private static final int INPUT_BUFFER_SIZE = 64 * 1024;
    /** The largest fragment Jetty hands over; larger frames arrive split (RFC 6455 allows refragmenting). */
    private static final int MAX_FRAME_SIZE = 64 * 1024;

    private final ChannelHandler handler;
    private final Consumer<JettyLeg> onOpen;
    private final Duration idleTimeout;
    private final InboundRelease release = new InboundRelease(); // reused: one inbound frame at a time
    private final Sent dataSent = new Sent(); // reused: one data send at a time (the SPI's contract)
    private volatile CoreSession session; // set once, when the leg opens
    private boolean inboundText;          // the message being received is text; inbound frames are serial
    private volatile boolean outboundOpen; // a message being sent has not ended; data sends are serial
    private boolean closeCalled;      // whether the engine called close() or abort(); guarded by this
    private boolean closeRequested;   // like closeCalled, but set before Jetty is asked to close; guarded by this
    private boolean closeNotified;    // whether the engine was told of the close; guarded by this
    private Callback heldCloseReply;  // the peer's CLOSE, answered when the engine calls close(); guarded by this
    private boolean ended;            // the engine was told how Jetty ended the leg (onClosed); guarded by this
    private List<Runnable> heldFailures; // failed sends waiting for the engine to hear why; guarded by this

    /**
     * @param handler     the engine's handler of this leg's events
     * @param onOpen      called once the leg is open
     * @param idleTimeout Jetty's own idle timeout for the leg, a safety net behind the engine's timers;
     *                    zero for none
     */
    public JettyLeg(ChannelHandler handler, Consumer<JettyLeg> onOpen, Duration idleTimeout) {
        this.handler = handler;
        this.onOpen = onOpen;
        this.idleTimeout = idleTimeout;
    }

    // ---- FrameHandler: inbound ----

    @Override
    public void onOpen(CoreSession coreSession, Callback callback) {
        coreSession.setIdleTimeout(idleTimeout);
        coreSession.setInputBufferSize(INPUT_BUFFER_SIZE);
        coreSession.setMaxFrameSize(MAX_FRAME_SIZE);
        coreSession.setAutoFragment(true);
        // Message sizes are the engine's to enforce; Jetty's limits apply to its message sinks only.
        coreSession.setMaxTextMessageSize(0);
        coreSession.setMaxBinaryMessageSize(0);
        session = coreSession;
        callback.succeeded();
        onOpen.accept(this);
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
        try {
            dispatch(frame, callback);
        } catch (Throwable t) {
            // The callback may have been completed already: rethrowing would make Jetty fail it again and
            // release the frame's buffer twice. The leg is dropped instead; the engine sees it as lost.
            LOG.error("Frame handling failed; dropping the connection", t);
            CoreSession s = session;
            if (s != null) {
                s.abort();
            }
        }
    }

    private void dispatch(Frame frame, Callback callback) {
        switch (frame.getOpCode()) {
            case OpCode.TEXT:
                inboundText = true;
                data(frame, callback);
                break;
            case OpCode.BINARY:
                inboundText = false;
                data(frame, callback);
                break;
            case OpCode.CONTINUATION:
                data(frame, callback);
                break;
            case OpCode.PING:
                ByteBuffer ping = copy(frame);
                callback.succeeded();
                handler.onPing(ping);
                break;
            case OpCode.PONG:
                ByteBuffer pong = copy(frame);
                callback.succeeded();
                handler.onPong(pong);
                break;
            case OpCode.CLOSE:
                onCloseFrame(toStatus(org.eclipse.jetty.websocket.core.CloseStatus.getCloseStatus(frame)), callback);
                break;
            default:
                callback.failed(new IllegalStateException("unexpected opcode " + frame.getOpCode()));
        }
    }

    /**
     * Hands a data frame over. A frame straight from Jetty's parser is lent as it is: its network buffer
     * stays retained until the engine releases it, even if the connection closes meanwhile. A frame an
     * extension made (permessage-deflate's inflated chunks) is copied first, because the extension returns
     * its buffer to the pool when the connection closes, whether or not the frame was released.
     */
    private void data(Frame frame, Callback callback) {
        ByteBuffer payload;
        Completion done;
        if (!frame.hasPayload()) {
            payload = EMPTY;
            callback.succeeded();
            done = NOTHING_TO_RELEASE;
        } else if (frame instanceof Frame.Parsed) {
            payload = frame.getPayload();
            release.callback = callback;
            done = release;
        } else {
            payload = copy(frame);
            callback.succeeded();
            done = NOTHING_TO_RELEASE;
        }
        if (inboundText) {
            handler.onText(payload, frame.isFin(), done);
        } else {
            handler.onBinary(payload, frame.isFin(), done);
        }
    }

    /**
     * The peer's CLOSE. One the engine did not start is answered only when the engine calls close(): Jetty
     * sends its reply when the callback completes, unless this leg's own CLOSE went first.
     */
    private void onCloseFrame(CloseStatus status, Callback callback) {
        boolean answerNow;
        synchronized (this) {
            closeNotified = true;
            answerNow = closeCalled;
            if (!answerNow) {
                heldCloseReply = callback;
            }
        }
        if (answerNow) {
            callback.succeeded();
        }
        handler.onClose(status);
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
        if (cause instanceof CloseException && org.eclipse.jetty.websocket.core.CloseStatus
                .isTransmittableStatusCode(((CloseException) cause).getStatusCode())) {
            // Jetty found the peer breaking the protocol and has sent it this CLOSE (1002, 1007, 1009).
            String reason = cause.getMessage() == null ? "" : cause.getMessage();
            handler.onProtocolError(CloseStatus.of(((CloseException) cause).getStatusCode(), reason));
        } else {
            handler.onError(cause);
        }
        callback.succeeded(); // onClosed follows
    }

    @Override
    public void onClosed(org.eclipse.jetty.websocket.core.CloseStatus closeStatus, Callback callback) {
        boolean notify;
        Callback held;
        synchronized (this) {
            notify = !closeNotified;
            closeNotified = true;
            held = heldCloseReply;
            heldCloseReply = null;
        }
        if (held != null) {
            held.succeeded(); // the connection is gone: nothing left to answer
        }
        if (notify) {
            handler.onClose(toStatus(closeStatus));
        }
        List<Runnable> failures;
        synchronized (this) {
            ended = true;
            failures = heldFailures;
            heldFailures = null;
        }
        if (failures != null) {
            failures.forEach(Runnable::run);
        }
        callback.succeeded();
    }

    /**
     * Fails a send, but only once the engine knows why when Jetty closed the leg by itself: for a protocol
     * error Jetty sends its CLOSE and refuses sends at once, yet calls {@link #onError} only once that CLOSE
     * is written; a send failed meanwhile would make the engine see a lost connection instead.
     * {@link #onClosed} always follows, and runs the failures held until then.
     */
    private void fail(Runnable failure) {
        synchronized (this) {
            CoreSession s = session;
            if (!ended && !closeRequested && s != null && !s.isOutputOpen()) {
                if (heldFailures == null) {
                    heldFailures = new ArrayList<>(2);
                }
                heldFailures.add(failure);
                return;
            }
        }
        failure.run();
    }

    /** Jetty's close status as the engine sees it: reserved and unknown codes mean a lost connection. */
    private static CloseStatus toStatus(org.eclipse.jetty.websocket.core.CloseStatus s) {
        int code = s == null ? CloseStatus.NO_STATUS.code() : s.getCode();
        if (code == CloseStatus.NO_STATUS.code()) {
            return CloseStatus.NO_STATUS;
        }
        if (code < 1000 || code > 4999 || code == CloseStatus.ABNORMAL.code() || code == 1015) {
            return CloseStatus.ABNORMAL;
        }
        String reason = s.getReason();
        return CloseStatus.of(code, reason == null ? "" : reason);
    }

    private static ByteBuffer copy(Frame frame) {
        if (!frame.hasPayload()) {
            return EMPTY;
        }
        ByteBuffer payload = frame.getPayload();
        ByteBuffer copy = ByteBuffer.allocate(payload.remaining());
        copy.put(payload.duplicate()).flip();
        return copy;
    }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

    /** The release of a frame whose Jetty callback was already completed. */
    private static final Completion NOTHING_TO_RELEASE = new Completion() {
        @Override
        public void succeeded() {
        }

        @Override
        public void failed(Throwable cause) {
        }
    };

    // ---- Channel: outbound ----

    @Override
    public void sendText(ByteBuffer utf8, boolean last, Completion completion) {
        sendData(OpCode.TEXT, utf8, last, completion);
    }

    @Override
    public void sendBinary(ByteBuffer fragment, boolean last, Completion completion) {
        sendData(OpCode.BINARY, fragment, last, completion);
    }

    private void sendData(byte opCode, ByteBuffer payload, boolean last, Completion completion) {
        byte op = outboundOpen ? OpCode.CONTINUATION : opCode;
        outboundOpen = !last;
        dataSent.completion = completion;
        session.sendFrame(new Frame(op, last, payload), dataSent, false);
    }

    @Override
    public void sendPing(ByteBuffer payload) {
        session.sendFrame(new Frame(OpCode.PING).setPayload(payload), Callback.NOOP, false);
    }

    @Override
    public void sendPong(ByteBuffer payload, Completion completion) {
        Sent sent = new Sent();
        sent.completion = completion;
        session.sendFrame(new Frame(OpCode.PONG).setPayload(payload), sent, false);
    }

    @Override
    public void close(CloseStatus status) {
        synchronized (this) {
            closeRequested = true;
        }
        // Our CLOSE goes first, so that a peer's CLOSE arriving meanwhile is held (and then released below)
        // rather than answered with its own code before ours is sent.
        if (status.code() == CloseStatus.NO_STATUS.code()) {
            session.close(Callback.NOOP);
        } else {
            session.close(status.code(), status.reason(), Callback.NOOP);
        }
        Callback reply;
        synchronized (this) {
            closeCalled = true;
            reply = heldCloseReply;
            heldCloseReply = null;
        }
        if (reply != null) {
            reply.succeeded();
        }
    }

    @Override
    public void abort() {
        Callback reply;
        synchronized (this) {
            closeCalled = true;
            closeRequested = true;
            reply = heldCloseReply;
            heldCloseReply = null;
        }
        CoreSession s = session;
        if (s != null) {
            s.abort();
        }
        if (reply != null) {
            reply.succeeded();
        }
    }

    @Override
    public void demand() {
        CoreSession s = session;
        try {
            if (s != null) {
                s.demand();
            }
        } catch (RuntimeException e) {
            LOG.debug("Demand on a closing session ignored", e);
        }
    }

    /**
     * A send's Jetty callback, reporting to the engine's completion. The data sends of a leg share one: the
     * engine starts the next only after the previous one's completion ran, which may start it at once, so
     * the completion is taken before it runs.
     */
    private final class Sent implements Callback {
        private volatile Completion completion; // the send in flight's completion; null between sends

        @Override
        public void succeeded() {
            Completion c = completion;
            completion = null;
            c.succeeded();
        }

        @Override
        public void failed(Throwable cause) {
            Completion c = completion;
            completion = null;
            fail(() -> c.failed(cause));
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }
    }

    /**
     * Releases the inbound data frame being relayed. A leg delivers its next frame only on demand, and the
     * engine releases a frame before it demands the next, so one instance per leg serves every frame.
     */
    private static final class InboundRelease implements Completion {
        private volatile Callback callback; // the frame's Jetty callback, set before it is handed over

        @Override
        public void succeeded() {
            Callback c = callback;
            callback = null;
            c.succeeded();
        }

        @Override
        public void failed(Throwable cause) {
            Callback c = callback;
            callback = null;
            c.failed(cause);
        }
    }
}
