package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A JDK {@link WebSocket.Listener} that records whole messages, pings and the close as events on a queue.
 * By default it requests messages one by one as they arrive; with {@code autoRequest=false} the test
 * decides when to read.
 */
public final class RecordingListener implements WebSocket.Listener {

    public sealed interface Event {
    }

    public record Text(String text) implements Event {
    }

    public record Binary(byte[] bytes) implements Event {
    }

    public record Ping(byte[] payload) implements Event {
    }

    public record Close(int code, String reason) implements Event {
    }

    public record Error(Throwable cause) implements Event {
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final boolean autoRequest;
    private final StringBuilder text = new StringBuilder();
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    volatile WebSocket webSocket;

    public RecordingListener() {
        this(true);
    }

    public RecordingListener(boolean autoRequest) {
        this.autoRequest = autoRequest;
    }

    @Override
    public void onOpen(WebSocket ws) {
        this.webSocket = ws;
        if (autoRequest) {
            ws.request(1);
        }
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
            events.add(new Text(text.toString()));
            text.setLength(0);
        }
        if (autoRequest) {
            ws.request(1);
        }
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] chunk = new byte[data.remaining()];
        data.get(chunk);
        binary.write(chunk, 0, chunk.length);
        if (last) {
            events.add(new Binary(binary.toByteArray()));
            binary.reset();
        }
        if (autoRequest) {
            ws.request(1);
        }
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
        byte[] payload = new byte[message.remaining()];
        message.get(payload);
        events.add(new Ping(payload));
        if (autoRequest) {
            ws.request(1);
        }
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        events.add(new Close(statusCode, reason));
        closed.complete(null);
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        events.add(new Error(error));
        closed.complete(null);
    }

    CompletableFuture<Void> closed() {
        return closed;
    }

    public Event next() throws InterruptedException {
        Event e = events.poll(5, TimeUnit.SECONDS);
        assertNotNull(e, "no event within 5 s");
        return e;
    }

    /** The next event that is not a ping. */
    public Event nextData() throws InterruptedException {
        Event e;
        do {
            e = next();
        } while (e instanceof Ping);
        return e;
    }

    public void assertText(String expected) throws InterruptedException {
        Event e = nextData();
        assertEquals(new Text(expected), e instanceof Text ? e : fail(e));
    }

    public void assertBinary(byte[] expected) throws InterruptedException {
        Event e = nextData();
        assertInstanceOf(Binary.class, e, () -> "expected binary, got " + e);
        assertArrayEquals(expected, ((Binary) e).bytes());
    }

    public void assertClose(int code, String reason) throws InterruptedException {
        Event e = nextData();
        assertEquals(new Close(code, reason), e);
    }

    public Ping assertPing() throws InterruptedException {
        Event e = next();
        assertInstanceOf(Ping.class, e, () -> "expected a ping, got " + e);
        return (Ping) e;
    }

    public void assertNoMoreEvents() {
        Event e = events.poll();
        while (e instanceof Ping) {
            e = events.poll();
        }
        assertNull(e, "unexpected event");
    }

    private static Event fail(Event e) {
        return e;
    }
}
