package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.OutgoingEntry;
import org.eclipse.jetty.websocket.core.exception.ProtocolException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * The order in which a leg tells the engine about a send that failed and about how the leg ended, against
 * a session that plays Jetty's part: when Jetty closes a leg by itself (a protocol error), it refuses sends
 * at once but reports the error only once its CLOSE is written.
 */
class JettyLegTest {

    private final List<String> events = new CopyOnWriteArrayList<>(); // what the engine heard, in order
    private final Session session = new Session();
    private JettyLeg leg;

    @BeforeEach
    void openTheLeg() {
        leg = new JettyLeg(new Engine(), l -> { }, Duration.ZERO);
        leg.onOpen(session, Callback.NOOP);
    }

    private void sendText(String text) {
        leg.sendText(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), true, new Completion() {
            @Override
            public void succeeded() {
                events.add("sent " + text);
            }

            @Override
            public void failed(Throwable cause) {
                events.add("send of " + text + " failed");
            }
        });
    }

    /** Jetty's report of a protocol error it answered with 1002, then its close of the connection. */
    private void jettyReportsTheProtocolError() {
        leg.onError(new ProtocolException("bad frame"), Callback.from(
                () -> leg.onClosed(new org.eclipse.jetty.websocket.core.CloseStatus(1002, "bad frame"), Callback.NOOP)));
    }

    @Test
    void aSendRefusedAfterJettyClosedTheLegForAProtocolErrorFailsOnlyOnceTheEngineKnowsWhy() {
        sendText("before");
        session.outputOpen = false; // Jetty sent its 1002: it refuses sends, and reports the error once that is written

        sendText("between");
        assertEquals(List.of("sent before"), events, "the failure was reported before the protocol error");

        jettyReportsTheProtocolError();
        assertEquals(List.of("sent before", "protocol error 1002 \"bad frame\"", "close 1002", "send of between failed"),
                events);

        sendText("after");
        assertEquals("send of after failed", events.get(events.size() - 1));
    }

    @Test
    void aSendFailingOnAnOpenLegFailsAtOnce() {
        session.failSends = true; // a write that failed while Jetty still counts the leg open

        sendText("lost");

        assertEquals(List.of("send of lost failed"), events);
    }

    @Test
    void aSendRefusedAfterTheEnginesOwnCloseFailsAtOnce() {
        leg.close(CloseStatus.NORMAL);
        session.outputOpen = false;

        sendText("late");

        assertEquals(List.of("send of late failed"), events);
    }

    /** Plays Jetty's session: sends succeed while its output is open, and fail after. */
    private static final class Session extends CoreSession.Empty {
        volatile boolean outputOpen = true;
        volatile boolean failSends;

        @Override
        public boolean isOutputOpen() {
            return outputOpen;
        }

        @Override
        public void sendFrame(OutgoingEntry entry) {
            if (outputOpen && !failSends) {
                entry.getCallback().succeeded();
            } else {
                entry.getCallback().failed(new ClosedChannelException());
            }
        }
    }

    /** Records what the engine hears of the leg's end; frames do not arrive in these tests. */
    private final class Engine implements ChannelHandler {
        @Override
        public void onText(ByteBuffer utf8, boolean last, Completion release) {
            throw new AssertionError("no frame expected");
        }

        @Override
        public void onBinary(ByteBuffer fragment, boolean last, Completion release) {
            throw new AssertionError("no frame expected");
        }

        @Override
        public void onPing(ByteBuffer payload) {
            throw new AssertionError("no frame expected");
        }

        @Override
        public void onPong(ByteBuffer payload) {
            throw new AssertionError("no frame expected");
        }

        @Override
        public void onClose(CloseStatus status) {
            events.add("close " + status.code());
        }

        @Override
        public void onError(Throwable cause) {
            events.add("error " + cause);
        }

        @Override
        public void onProtocolError(CloseStatus sent) {
            events.add("protocol error " + sent.code() + " \"" + sent.reason() + "\"");
        }
    }
}
