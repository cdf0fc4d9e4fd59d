package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A JDK {@link WebSocket.Listener} that records whole messages, pings and the close as events. */
final class Recorder implements WebSocket.Listener {

    sealed interface Event {
    }

    record Text(String text) implements Event {
    }

    record Binary(ByteBuffer bytes) implements Event {
    }

    record Ping() implements Event {
    }

    record Close(int code, String reason) implements Event {
    }

    record Error(Throwable cause) implements Event {
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

    @Override
    public void onOpen(WebSocket ws) {
        ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
            events.add(new Text(text.toString()));
            text.setLength(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] chunk = new byte[data.remaining()];
        data.get(chunk);
        binary.write(chunk, 0, chunk.length);
        if (last) {
            events.add(new Binary(ByteBuffer.wrap(binary.toByteArray())));
            binary.reset();
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
        events.add(new Ping());
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        events.add(new Close(statusCode, reason));
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        events.add(new Error(error));
    }

    /** The next event, pings included; fails after 5 s. */
    Event next() throws InterruptedException {
        Event e = events.poll(5, TimeUnit.SECONDS);
        assertNotNull(e, "no event within 5 s");
        return e;
    }

    /** The next event that is not a ping. */
    Event nextData() throws InterruptedException {
        Event e = next();
        while (e instanceof Ping) {
            e = next();
        }
        return e;
    }

    void assertText(String expected) throws InterruptedException {
        assertEquals(new Text(expected), nextData());
    }

    void assertBinary(ByteBuffer expected) throws InterruptedException {
        assertEquals(new Binary(expected), nextData());
    }

    void assertClose(int code, String reason) throws InterruptedException {
        assertEquals(new Close(code, reason), nextData());
    }

    void assertPing() throws InterruptedException {
        Event e = next();
        assertInstanceOf(Ping.class, e, () -> "expected a ping, got " + e);
    }

    /** Fails if a message or close has arrived and not been asserted. */
    void assertNoMessages() {
        Event e = events.poll();
        while (e instanceof Ping) {
            e = events.poll();
        }
        assertNull(e, "unexpected event");
    }
}
