package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.gatehouse.jetty.RecordingListener;

/** The standalone runner launched in-process, with its output captured, and clients for it. */
final class Runner implements AutoCloseable {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern LISTENING = Pattern.compile("(?m)^listening on ws://([^\\s]+):(\\d+)$");

    final Standalone.Launch launch;
    final String out;
    final String err;
    private final List<WebSocket> sockets = new ArrayList<>();

    private Runner(Standalone.Launch launch, String out, String err) {
        this.launch = launch;
        this.out = out;
        this.err = err;
    }

    /** Launches the runner with these flags, as {@code java -jar} would. */
    static Runner launch(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Standalone.Launch launch;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            launch = Standalone.launch(List.of(args), o, e);
        }
        return new Runner(launch, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Launches on 127.0.0.1 and a free port, then these flags. */
    static Runner started(String... args) {
        List<String> all = new ArrayList<>(List.of("--host", "127.0.0.1", "--port", "0"));
        all.addAll(List.of(args));
        Runner r = launch(all.toArray(new String[0]));
        assertInstanceOf(Standalone.Started.class, r.launch, () -> "not started; stderr: " + r.err);
        return r;
    }

    /** The port of the printed {@code listening on ws://HOST:PORT} line. */
    int port() {
        Matcher m = LISTENING.matcher(out);
        assertTrue(m.find(), () -> "no listening line in: " + out);
        return Integer.parseInt(m.group(2));
    }

    URI ws(String path) {
        return URI.create("ws://127.0.0.1:" + port() + path);
    }

    URI http(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    /** Opens a WebSocket through the gateway; closed with the runner. */
    WebSocket connect(String path, RecordingListener events, Map<String, String> headers) throws Exception {
        WebSocket.Builder b = HTTP.newWebSocketBuilder();
        headers.forEach(b::header);
        WebSocket ws = b.buildAsync(ws(path), events).get(5, TimeUnit.SECONDS);
        synchronized (sockets) {
            sockets.add(ws);
        }
        return ws;
    }

    WebSocket connect(String path, RecordingListener events) throws Exception {
        return connect(path, events, Map.of());
    }

    /** The HTTP status with which the gateway refuses an upgrade. */
    int refusal(String path, Map<String, String> headers) throws Exception {
        WebSocket.Builder b = HTTP.newWebSocketBuilder();
        headers.forEach(b::header);
        try {
            WebSocket ws = b.buildAsync(ws(path), new RecordingListener()).get(5, TimeUnit.SECONDS);
            ws.abort();
            throw new AssertionError("the upgrade of " + path + " was accepted");
        } catch (ExecutionException | CompletionException e) {
            WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
            return refused.getResponse().statusCode();
        }
    }

    HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(java.net.http.HttpRequest.newBuilder(http(path)).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The lines written to stderr. */
    List<String> errLines() {
        return err.lines().toList();
    }

    @Override
    public void close() {
        synchronized (sockets) {
            sockets.forEach(WebSocket::abort);
        }
        if (launch instanceof Standalone.Started started) {
            started.server().close();
        }
    }
}
