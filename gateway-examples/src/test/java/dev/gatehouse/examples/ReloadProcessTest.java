package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.jetty.TestBackend;

/**
 * The runner reloading its config file as an operator sees it: the runner in a JVM of its own, told with
 * {@code kill -HUP} or by a change of the file; clients connected before a reload keep their connections.
 */
class ReloadProcessTest {

    /** Long enough for a JVM to start on a loaded machine; only a failing run waits this long. */
    private static final long WAIT_SECONDS = 60;

    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        processes.forEach(Process::destroyForcibly);
    }

    private Process runner(Path config) throws IOException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), Standalone.class.getName(),
                "--host", "127.0.0.1", "--port", "0", "--config", config.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(process);
        return process;
    }

    private static BlockingQueue<String> lines(Process process) {
        return RunnerOutput.lines(process);
    }

    /** Waits for a line starting with {@code prefix}, skipping others (log lines); fails after the wait. */
    private static String awaitLine(BlockingQueue<String> lines, String prefix) throws InterruptedException {
        return RunnerOutput.awaitLine(lines, prefix, WAIT_SECONDS);
    }

    private static String routes(TestBackend backend, String... paths) {
        StringBuilder sb = new StringBuilder("routes:\n");
        for (String p : paths) {
            sb.append("  - {path: ").append(p).append(", backend: \"").append(backend.url("/echo")).append("\"}\n");
        }
        return sb.toString();
    }

    /** Replaces the file in one step, as careful tools do, so that no reader sees half of it. */
    private static void replace(Path file, String content) throws IOException {
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, content);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static URI base(BlockingQueue<String> lines) throws InterruptedException {
        return URI.create(awaitLine(lines, "listening on ").substring("listening on ".length()));
    }

    /** Connects a client through the runner and checks that it echoes. */
    private WebSocket echoing(URI base, String path) throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(base.resolve(path), events).get(WAIT_SECONDS, TimeUnit.SECONDS);
        closing.add(ws::abort);
        ws.sendText("hello " + path, true);
        events.assertText("hello " + path);
        return ws;
    }

    private void assertEchoes(WebSocket ws, RecordingListener events, String text) throws Exception {
        ws.sendText(text, true).get(WAIT_SECONDS, TimeUnit.SECONDS);
        events.assertText(text);
    }

    private int refusal(URI base, String path) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> http.newWebSocketBuilder()
                .buildAsync(base.resolve(path), new RecordingListener()).get(WAIT_SECONDS, TimeUnit.SECONDS));
        return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
    }

    @Test
    void sighupReloadsTheFileAndOpenConnectionsStay(@TempDir Path dir) throws Exception {
        TestBackend backend = new TestBackend();
        closing.add(backend);
        // The runner reads the file through a link in a directory of its own, and the test changes the file where
        // the link points: the runner's watch of its directory sees nothing, so only the signal can reload it.
        Path target = Files.createDirectory(dir.resolve("real")).resolve("gw.yaml");
        Files.writeString(target, routes(backend, "/one"));
        Path link = Files.createSymbolicLink(Files.createDirectory(dir.resolve("linked")).resolve("gw.yaml"), target);
        Process process = runner(link);
        BlockingQueue<String> lines = lines(process);
        URI base = base(lines);
        RecordingListener events = new RecordingListener();
        WebSocket before = http.newWebSocketBuilder().buildAsync(base.resolve("/one"), events)
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
        closing.add(before::abort);
        assertEquals(404, refusal(base, "/two"));

        Files.writeString(target, routes(backend, "/one", "/two"));
        new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start().waitFor();

        assertEquals("reload: version 2, routes: 1 added, 0 changed, 0 removed", awaitLine(lines, "reload: "));
        echoing(base, "/two");
        assertEchoes(before, events, "still here");
        assertTrue(process.isAlive(), "SIGHUP reloads, it does not stop the runner");
    }

    @Test
    void aChangedFileIsAppliedAndABadOneRefusedWhileTheRunningRoutesServe(@TempDir Path dir) throws Exception {
        TestBackend backend = new TestBackend();
        closing.add(backend);
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, routes(backend, "/one", "/gone"));
        Process process = runner(file);
        BlockingQueue<String> lines = lines(process);
        URI base = base(lines);
        RecordingListener events = new RecordingListener();
        WebSocket before = http.newWebSocketBuilder().buildAsync(base.resolve("/gone"), events)
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
        closing.add(before::abort);

        replace(file, routes(backend, "/one", "/two"));

        assertEquals("reload: version 2, routes: 1 added, 0 changed, 1 removed", awaitLine(lines, "reload: "));
        echoing(base, "/two");
        assertEquals(404, refusal(base, "/gone"));
        assertEchoes(before, events, "a removed route's connection stays");

        replace(file, routes(backend, "/one", "/three") + "settings: {idleTimeout: soon}\n");

        assertEquals("error: " + file + ": settings.idleTimeout: bad duration \"soon\" (expected e.g. 500ms, 30s, 5m)",
                awaitLine(lines, "error: "));
        echoing(base, "/two");
        assertEquals(404, refusal(base, "/three"), "nothing of the bad file was applied");

        replace(file, routes(backend, "/one", "/three"));

        assertEquals("reload: version 3, routes: 1 added, 0 changed, 1 removed", awaitLine(lines, "reload: "));
        echoing(base, "/three");
    }
}
