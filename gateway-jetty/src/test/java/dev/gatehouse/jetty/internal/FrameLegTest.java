package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ByteArrayEndPoint;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * {@link FrameLeg} alone, on Jetty's in-memory endpoint: how the end of a connection meets the read loop, and
 * what goes on the wire after the gateway's CLOSE.
 */
class FrameLegTest {

    static class Rec implements ChannelHandler {
        final List<String> events = new CopyOnWriteArrayList<>();
        volatile boolean inHandler;
        volatile boolean overlapped;
        Runnable onFirstText;
        void enter() { if (inHandler) overlapped = true; inHandler = true; }
        void exit() { inHandler = false; }
        @Override public void onText(ByteBuffer b, boolean last, Completion r) {
            enter();
            events.add("text:" + StandardCharsets.UTF_8.decode(b.duplicate()));
            Runnable x = onFirstText; onFirstText = null;
            if (x != null) x.run();
            exit();
            r.succeeded();
        }
        @Override public void onBinary(ByteBuffer b, boolean last, Completion r) { events.add("bin"); r.succeeded(); }
        @Override public void onPing(ByteBuffer p) { events.add("ping"); }
        @Override public void onPong(ByteBuffer p) { events.add("pong"); }
        @Override public void onClose(CloseStatus s) { enter(); events.add("close:" + s.code()); exit(); }
        @Override public void onError(Throwable c) { events.add("error"); }
        @Override public void onProtocolError(CloseStatus s) { events.add("protocol:" + s.code()); }
    }

    private static byte[] cat(byte[]... parts) {
        int n = 0; for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n); for (byte[] p : parts) b.put(p); return b.array();
    }

    /**
     * The connection ends (Jetty's {@code onClose}, on another thread) while the engine handles an event of the
     * read loop's: the engine hears of the end only once it returned, gets no event after it, and the read
     * buffer goes back to the pool.
     */
    @Test
    void anEndThatComesDuringAnEventIsToldAfterItWithNoLaterEventAndNoLeakedBuffer() throws Exception {
        ArrayByteBufferPool.Tracking pool = new ArrayByteBufferPool.Tracking();
        ByteArrayEndPoint ep = new ByteArrayEndPoint();
        ep.addInput(ByteBuffer.wrap(cat(Wire.masked(0x81, "a".getBytes()), Wire.masked(0x81, "b".getBytes()))));
        Rec h = new Rec();
        AtomicReference<FrameLeg> ref = new AtomicReference<>();
        FrameLeg leg = new FrameLeg(ep, Runnable::run, pool, FrameLeg.Role.SERVER, 0, h, l -> { }, Duration.ZERO);
        ref.set(leg);
        ep.setConnection(leg);
        leg.onOpen();
        h.onFirstText = () -> {
            Thread t = new Thread(() -> ref.get().onClose(null));
            t.start();
            try { t.join(); } catch (InterruptedException e) { throw new RuntimeException(e); }
        };
        leg.demand();
        leg.demand();
        assertFalse(h.overlapped, "onClose ran while onText was running");
        assertEquals(List.of("text:a", "close:1006"), h.events);
        assertEquals(0, pool.getLeaks().size(), "read buffer leaked");
    }

    /** A peer that breaks the protocol after the gateway's CLOSE gets no second CLOSE (RFC 6455, 5.5.1). */
    @Test
    void aProtocolErrorAfterTheGatewaysCloseSendsNoSecondClose() throws Exception {
        ArrayByteBufferPool.Tracking pool = new ArrayByteBufferPool.Tracking();
        ByteArrayEndPoint ep = new ByteArrayEndPoint();
        Rec h = new Rec();
        FrameLeg leg = new FrameLeg(ep, Runnable::run, pool, FrameLeg.Role.SERVER, 0, h, l -> { }, Duration.ZERO);
        ep.setConnection(leg);
        leg.onOpen();
        leg.close(CloseStatus.of(1001, "bye"));
        ep.addInput(ByteBuffer.wrap(Wire.masked(0x83, new byte[0]))); // reserved opcode 3
        leg.demand();
        ByteBuffer out = ep.takeOutput();
        int closes = 0;
        while (out.remaining() >= 2) {
            int b0 = out.get() & 0xFF; int len = out.get() & 0x7F;
            if ((b0 & 0x0F) == 8) closes++;
            out.position(out.position() + len);
        }
        assertEquals(1, closes, "CLOSE frames on the wire");
        assertEquals(List.of("protocol:1002"), h.events);
    }
}
