package dev.gatehouse.jetty;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.ExtensionConfig;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;

/**
 * A WebSocket client at Jetty's frame level, for what the JDK client cannot send: frames cut inside a
 * UTF-8 sequence, text that is not UTF-8 (Jetty's core layer does not validate outgoing text). It records
 * every frame it receives, control frames included.
 */
final class FrameClient implements AutoCloseable {

    /** A received frame, its payload copied. */
    record Received(byte opCode, boolean fin, byte[] payload) {
    }

    private final WebSocketCoreClient client = new WebSocketCoreClient();
    private final Recorder recorder = new Recorder();
    private final CoreSession session;

    FrameClient(URI uri, String... extensions) throws Exception {
        client.start();
        CoreClientUpgradeRequest upgrade = CoreClientUpgradeRequest.from(client, uri, recorder);
        upgrade.addExtensions(extensions);
        session = client.connect(upgrade).get(5, TimeUnit.SECONDS);
    }

    /** The extensions the server accepted, by name. */
    List<String> extensions() {
        return session.getNegotiatedExtensions().stream().map(ExtensionConfig::getName).toList();
    }

    /** Sends one frame and waits until it is written. */
    void send(byte opCode, boolean fin, byte[] payload) throws Exception {
        FutureCallback written = new FutureCallback();
        session.sendFrame(new Frame(opCode, fin, ByteBuffer.wrap(payload)), written, false);
        written.get(5, TimeUnit.SECONDS);
    }

    /** The next frame received, waiting up to 5 s. */
    Received next() throws InterruptedException {
        Received r = recorder.frames.poll(5, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no frame within 5 s");
        }
        return r;
    }

    /** The payload of the next message, its frames joined, waiting up to 5 s for each frame. */
    byte[] nextMessage() throws InterruptedException {
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        Received r;
        do {
            r = next();
            message.writeBytes(r.payload());
        } while (!r.fin());
        return message.toByteArray();
    }

    /** The status of the CLOSE frame received, waiting up to 5 s. */
    CloseStatus closeStatus() throws InterruptedException {
        CloseStatus s = recorder.closed.poll(5, TimeUnit.SECONDS);
        if (s == null) {
            throw new AssertionError("no close within 5 s");
        }
        return s;
    }

    @Override
    public void close() throws Exception {
        session.abort();
        client.stop();
    }

    private static final class Recorder implements FrameHandler {
        final BlockingQueue<Received> frames = new LinkedBlockingQueue<>();
        final BlockingQueue<CloseStatus> closed = new LinkedBlockingQueue<>();
        private volatile CoreSession session;

        @Override
        public void onOpen(CoreSession coreSession, Callback callback) {
            session = coreSession;
            callback.succeeded();
            coreSession.demand();
        }

        @Override
        public void onFrame(Frame frame, Callback callback) {
            byte[] payload = new byte[frame.getPayloadLength()];
            if (frame.hasPayload()) {
                frame.getPayload().duplicate().get(payload);
            }
            frames.add(new Received(frame.getOpCode(), frame.isFin(), payload));
            if (frame.getOpCode() == org.eclipse.jetty.websocket.core.OpCode.CLOSE) {
                closed.add(CloseStatus.getCloseStatus(frame));
            }
            callback.succeeded();
            session.demand();
        }

        @Override
        public void onError(Throwable cause, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onClosed(CloseStatus closeStatus, Callback callback) {
            closed.add(closeStatus);
            callback.succeeded();
        }
    }
}
