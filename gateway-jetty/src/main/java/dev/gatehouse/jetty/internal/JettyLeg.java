package dev.gatehouse.jetty.internal;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * One WebSocket leg on Jetty's {@link Session} API: a listener that forwards inbound events to the engine's
 * {@link ChannelHandler}, and the {@link Channel} the engine sends through. It does not auto-demand, and
 * overrides {@link #onWebSocketOpen}, so Jetty reads nothing until the engine demands. Public because
 * Jetty's client requires a public endpoint class.
 */
public final class JettyLeg implements Session.Listener, Channel {

    private static final Logger LOG = LoggerFactory.getLogger(JettyLeg.class);
    private static final int INPUT_BUFFER_SIZE = 64 * 1024;

    private final ChannelHandler handler;
    private final Consumer<JettyLeg> onOpen;
    private final Duration idleTimeout;
    private volatile Session session; // set once, when the leg opens
    private final InboundRelease release = new InboundRelease(); // reused: one inbound frame at a time
    private boolean closeCalled;      // whether the engine called close(); guarded by this
    private Callback heldCloseReply;  // the peer's CLOSE, answered when the engine calls close(); guarded by this

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

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        session.setIdleTimeout(idleTimeout);
        session.setMaxTextMessageSize(Long.MAX_VALUE);
        session.setMaxBinaryMessageSize(Long.MAX_VALUE);
        // Reads of up to 64 KiB relay bulk messages in few fragments; Jetty releases the buffer whenever a
        // read finds nothing, so idle connections do not hold it.
        session.setInputBufferSize(INPUT_BUFFER_SIZE);
        onOpen.accept(this);
    }

    @Override
    public void onWebSocketPartialText(String payload, boolean fin) {
        handler.onText(payload, fin);
    }

    @Override
    public void onWebSocketPartialBinary(ByteBuffer payload, boolean fin, Callback callback) {
        release.callback = callback;
        handler.onBinary(payload, fin, release);
    }

    @Override
    public void onWebSocketPing(ByteBuffer payload) {
        handler.onPing(payload);
    }

    @Override
    public void onWebSocketPong(ByteBuffer payload) {
        handler.onPong(payload);
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        CloseStatus status = statusCode >= 1000 && statusCode <= 4999
                ? CloseStatus.of(statusCode, reason == null ? "" : reason)
                : CloseStatus.ABNORMAL;
        boolean answerNow;
        synchronized (this) {
            // A close the engine did not start is answered only when the engine calls close(): Jetty sends
            // its CLOSE reply when the callback completes, unless the session was closed first.
            answerNow = closeCalled || status.code() == CloseStatus.ABNORMAL.code();
            if (!answerNow) {
                heldCloseReply = callback;
            }
        }
        if (answerNow) {
            callback.succeed();
        }
        handler.onClose(status);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        handler.onError(cause);
    }

    @Override
    public void sendText(String fragment, boolean last, Completion completion) {
        AfterReturn callback = new AfterReturn(completion);
        session.sendPartialText(fragment, last, callback);
        callback.returned();
    }

    @Override
    public void sendBinary(ByteBuffer fragment, boolean last, Completion completion) {
        AfterReturn callback = new AfterReturn(completion);
        session.sendPartialBinary(fragment, last, callback);
        callback.returned();
    }

    @Override
    public void sendPing(ByteBuffer payload) {
        session.sendPing(payload, Callback.NOOP);
    }

    @Override
    public void sendPong(ByteBuffer payload, Completion completion) {
        session.sendPong(payload, Callback.from(completion::succeeded, completion::failed));
    }

    @Override
    public void close(CloseStatus status) {
        Callback reply;
        synchronized (this) {
            closeCalled = true;
            reply = heldCloseReply;
            heldCloseReply = null;
        }
        session.close(status.code(), status.reason(), Callback.NOOP);
        if (reply != null) {
            reply.succeed();
        }
    }

    @Override
    public void abort() {
        Callback reply;
        synchronized (this) {
            closeCalled = true;
            reply = heldCloseReply;
            heldCloseReply = null;
        }
        Session s = session;
        if (s != null) {
            s.disconnect();
        }
        if (reply != null) {
            reply.succeed();
        }
    }

    @Override
    public void demand() {
        Session s = session;
        try {
            if (s != null) {
                s.demand();
            }
        } catch (RuntimeException e) {
            LOG.debug("Demand on a closing session ignored", e);
        }
    }

    /**
     * Releases the inbound binary frame being relayed. A leg delivers its next frame only on demand, and
     * the engine releases a frame before it demands the next, so one instance per leg serves every frame.
     */
    private static final class InboundRelease implements Completion {
        private volatile Callback callback; // the frame's Jetty callback, set before it is handed over

        @Override
        public void succeeded() {
            Callback c = callback;
            callback = null;
            c.succeed();
        }

        @Override
        public void failed(Throwable cause) {
            Callback c = callback;
            callback = null;
            c.fail(cause);
        }
    }

    /**
     * Delivers a send's completion only once the send call has returned. Jetty's partial-send methods
     * reset their message state after handing the frame over, and the frame's callback may run on another
     * thread before that; the completion starts the next send on this session, which must see the reset
     * state, or Jetty would take a new message for a continuation.
     */
    private static final class AfterReturn extends AtomicInteger implements Callback {
        private static final long serialVersionUID = 1L;
        private static final int PENDING = 0;
        private static final int RETURNED = 1;
        private static final int SUCCEEDED = 2;
        private static final int FAILED = 3;

        private final transient Completion completion;
        private transient Throwable failure; // written before the state becomes FAILED

        AfterReturn(Completion completion) {
            this.completion = completion;
        }

        @Override
        public void succeed() {
            if (!compareAndSet(PENDING, SUCCEEDED)) {
                completion.succeeded();
            }
        }

        @Override
        public void fail(Throwable cause) {
            failure = cause;
            if (!compareAndSet(PENDING, FAILED)) {
                completion.failed(cause);
            }
        }

        /** The send call returned: runs a completion that came before. */
        void returned() {
            int state = getAndSet(RETURNED);
            if (state == SUCCEEDED) {
                completion.succeeded();
            } else if (state == FAILED) {
                completion.failed(failure);
            }
        }
    }
}
