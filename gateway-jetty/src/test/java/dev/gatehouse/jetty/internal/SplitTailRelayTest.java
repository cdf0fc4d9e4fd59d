package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ByteArrayEndPoint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * The backend-to-client path of two {@link FrameLeg}s on Jetty's in-memory endpoints, relayed the way the
 * engine relays (the next backend frame is read once the send of the last one to the client completed): a
 * backend frame cut by the end of the 64 KiB read buffer, its 10-byte tail in a read of its own, reaches the
 * client as two well-formed fragments of one message, in order and byte for byte, whether the client leg is
 * back-pressured (its writes left pending until the client drains them) or not (the tail then goes out in the
 * leg's batch).
 */
class SplitTailRelayTest {

    private static final int SIZE = 64 * 1024; // a 10-byte header, then 65,526 bytes fill the read buffer

    /** Relays the backend leg's data to the client leg, demanding the next backend frame once a send completed. */
    static final class Relay implements ChannelHandler {
        FrameLeg backend;
        FrameLeg client;
        final List<String> trouble = new ArrayList<>();

        @Override
        public void onText(ByteBuffer utf8, boolean last, Completion release) {
            client.sendText(utf8, last, forwarded(release));
        }

        @Override
        public void onBinary(ByteBuffer fragment, boolean last, Completion release) {
            client.sendBinary(fragment, last, forwarded(release));
        }

        private Completion forwarded(Completion release) {
            return new Completion() {
                @Override
                public void succeeded() {
                    release.succeeded();
                    backend.demand();
                }

                @Override
                public void failed(Throwable cause) {
                    trouble.add("send failed: " + cause);
                    release.succeeded();
                }
            };
        }

        @Override
        public void onPing(ByteBuffer payload) {
            backend.demand();
        }

        @Override
        public void onPong(ByteBuffer payload) {
            backend.demand();
        }

        @Override
        public void onClose(CloseStatus status) {
            trouble.add("close " + status);
        }

        @Override
        public void onError(Throwable cause) {
            trouble.add("error " + cause);
        }

        @Override
        public void onProtocolError(CloseStatus sent) {
            trouble.add("protocol error " + sent);
        }
    }

    /** An in-memory endpoint whose dispatches (fill interest met by queued input) wait for the test to run them. */
    static final class Steps extends ByteArrayEndPoint {
        private final Queue<Runnable> tasks;

        Steps(Queue<Runnable> tasks, int outputSize) {
            super((byte[]) null, outputSize);
            this.tasks = tasks;
        }

        @Override
        protected void execute(Runnable task) {
            tasks.add(task);
        }
    }

    /** A frame as the client reads it. */
    record Frame(int opcode, boolean fin, byte[] payload) {
    }

    /**
     * @param clientWindow how many bytes the client endpoint takes before the leg's write waits for the client
     *                     to drain it: smaller than a frame for a back-pressured client, larger than all the
     *                     traffic for one that keeps up
     */
    @ParameterizedTest
    @ValueSource(ints = {1024, 16 * 1024, 65_526, 65_536, 65_546, 4 * 1024 * 1024})
    void aFrameWhoseTenByteTailComesInAReadOfItsOwnReachesTheClientWhole(int clientWindow) throws Exception {
        ArrayByteBufferPool.Tracking pool = new ArrayByteBufferPool.Tracking();
        Queue<Runnable> tasks = new ArrayDeque<>();
        Steps backendEp = new Steps(tasks, -1);
        Steps clientEp = new Steps(tasks, clientWindow);
        Relay relay = new Relay();
        FrameLeg client = new FrameLeg(clientEp, Runnable::run, pool, FrameLeg.Role.SERVER, 0, new QuietHandler(), l -> { },
                Duration.ZERO);
        FrameLeg backend = new FrameLeg(backendEp, Runnable::run, pool, FrameLeg.Role.CLIENT, 0, relay, l -> { },
                Duration.ZERO);
        relay.client = client;
        relay.backend = backend;
        clientEp.setConnection(client);
        backendEp.setConnection(backend);
        client.onOpen();
        backend.onOpen();

        byte[] first = Wire.bytes(SIZE, 1);
        byte[] second = Wire.bytes(SIZE, 2);
        byte[] wire = Wire.join(Wire.unmasked(0x82, first), Wire.unmasked(0x82, second));
        int cut = 64 * 1024; // the first read ends 10 bytes before the first frame does
        backendEp.addInput(ByteBuffer.wrap(wire, 0, cut));
        backend.demand();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        received.writeBytes(bytes(clientEp.takeOutput())); // the client takes what fits while the tail is unread
        backendEp.addInput(ByteBuffer.wrap(wire, cut, 10)); // the tail, in a read of its own
        backendEp.addInput(ByteBuffer.wrap(wire, cut + 10, wire.length - cut - 10));
        // The client drains what it can, in turns with the reads the gateway's endpoints dispatch, until neither moves.
        boolean settled = false;
        for (int turn = 0; turn < 100_000 && !settled; turn++) {
            byte[] taken = bytes(clientEp.takeOutput());
            received.writeBytes(taken);
            Runnable task = tasks.poll();
            if (task != null) {
                task.run();
            } else {
                settled = taken.length == 0;
            }
        }
        assertTrue(settled, "the relay still moved after 100,000 turns");

        List<Frame> frames = parse(received.toByteArray());
        assertEquals(List.of(), relay.trouble);
        assertEquals(2, messages(frames).size(), "messages in " + describe(frames));
        assertArrayEquals(first, messages(frames).get(0), "first message in " + describe(frames));
        assertArrayEquals(second, messages(frames).get(1), "second message in " + describe(frames));
        Frame head = frames.get(0);
        assertEquals(FrameHeaders.BINARY, head.opcode());
        assertEquals(SIZE - 10, head.payload().length, "the first fragment: what the first read held");
        assertEquals(FrameHeaders.CONTINUATION, frames.get(1).opcode(), "the tail continues the first message");
        assertTrue(frames.get(1).fin(), "the tail ends the first message");
        assertEquals(10, frames.get(1).payload().length, "the tail");
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** The client's view: frames read with the gateway's own parser, as a client would, in order. */
    private static List<Frame> parse(byte[] received) {
        List<Frame> frames = new ArrayList<>();
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        FrameParser parser = FrameParser.of(FrameParser.Sender.SERVER, 0, FrameParser.NO_LIMIT, new FrameParser.Listener() {
            @Override
            public FrameParser.Flow onFrameStart(FrameParser.Header h) {
                payload.reset();
                return FrameParser.Flow.CONTINUE;
            }

            @Override
            public FrameParser.Flow onPayload(FrameParser.Header h, ByteBuffer view, long frameOffset) {
                byte[] b = new byte[view.remaining()];
                view.duplicate().get(b);
                payload.writeBytes(b);
                return FrameParser.Flow.CONTINUE;
            }

            @Override
            public FrameParser.Flow onFrameEnd(FrameParser.Header h) {
                frames.add(new Frame(h.opcode(), h.fin(), payload.toByteArray()));
                return FrameParser.Flow.CONTINUE;
            }
        });
        ByteBuffer b = ByteBuffer.wrap(received);
        parser.parse(b);
        assertEquals(0, b.remaining(), "bytes the parser did not take");
        return frames;
    }

    private static List<byte[]> messages(List<Frame> frames) {
        List<byte[]> messages = new ArrayList<>();
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        for (Frame f : frames) {
            m.writeBytes(f.payload());
            if (f.fin()) {
                messages.add(m.toByteArray());
                m.reset();
            }
        }
        return messages;
    }

    private static String describe(List<Frame> frames) {
        StringBuilder sb = new StringBuilder();
        for (Frame f : frames) {
            sb.append('[').append(f.opcode()).append(f.fin() ? " fin " : " ").append(f.payload().length).append(']');
        }
        return sb.toString();
    }
}
