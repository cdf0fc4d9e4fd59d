package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.jetty.RecordingListener;

/**
 * The runner's exit statuses as a shell sees them: the runner in a JVM of its own, started as {@code java -jar}
 * would, and stopped with SIGTERM.
 */
class StandaloneProcessTest {

    /** Long enough for a JVM to start and stop on a loaded machine; only a failing run waits this long. */
    private static final long WAIT_SECONDS = 60;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        processes.forEach(Process::destroyForcibly);
    }

    /** Starts the runner's main class with these flags, on the tests' class path. */
    private Process runner(String... args) throws IOException {
        return runner(Map.of(), args);
    }

    /** Starts the runner's main class with these environment variables (besides the tests') and flags. */
    private Process runner(Map<String, String> environment, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), Standalone.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process process = builder.start();
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

    private static int exitStatus(Process process) throws InterruptedException {
        assertTrue(process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "the runner did not exit");
        return process.exitValue();
    }

    @Test
    void exitsWith0AfterSigtermDrainedAndStoppedIt() throws Exception {
        Process process = runner("--host", "127.0.0.1", "--port", "0", "--route", "/echo=ws://127.0.0.1:9/echo");
        BlockingQueue<String> lines = lines(process);
        assertTrue(awaitLine(lines, "listening on ").matches("listening on ws://127\\.0\\.0\\.1:\\d+"));

        process.toHandle().destroy(); // SIGTERM, leaving the output open to read (Process.destroy() closes it)

        assertEquals(0, exitStatus(process));
        awaitLine(lines, "stopped");
    }

    @Test
    void exitsWith2ForABadFlag() throws Exception {
        Process process = runner("--idle-timeout", "soon");

        assertEquals(2, exitStatus(process));
        assertEquals("error: --idle-timeout: bad duration \"soon\" (expected e.g. 500ms, 30s, 5m)",
                awaitLine(lines(process), "error: "));
    }

    @Test
    void exitsWith1WhenItCannotListen() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Process process = runner("--host", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort()),
                    "--route", "/echo=ws://127.0.0.1:9/echo");

            assertEquals(1, exitStatus(process));
            assertTrue(awaitLine(lines(process), "error: ").startsWith("error: cannot listen on 127.0.0.1:"
                    + taken.getLocalPort() + ": "));
        }
    }

    @Test
    void exitsWith2NamingTheKeyAndTheVariableWhenASecretsEnvironmentVariableIsNotSet(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, "auth:\n  apiKeys: [\"${GATEHOUSE_TEST_UNSET_KEY}\"]\n");
        Process process = runner(Map.of(), "--config", file.toString(), "--port", "0");

        assertEquals(2, exitStatus(process));
        assertEquals("error: " + file + ": auth.apiKeys[0]: ${GATEHOUSE_TEST_UNSET_KEY}: the environment variable "
                + "GATEHOUSE_TEST_UNSET_KEY is not set (expected an API key)", awaitLine(lines(process), "error: "));
    }

    @Test
    void readsASecretFromTheEnvironment(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, "host: 127.0.0.1\nauth:\n  apiKeys: [\"${GATEHOUSE_TEST_KEY}\"]\n"
                + "routes:\n  - {path: /echo, backend: \"ws://127.0.0.1:9/echo\"}\n");
        Process process = runner(Map.of("GATEHOUSE_TEST_KEY", "from-the-environment"), "--config", file.toString(),
                "--port", "0");
        BlockingQueue<String> lines = lines(process);
        String listening = awaitLine(lines, "listening on ");
        URI echo = URI.create(listening.replace("listening on ", "") + "/echo");

        ExecutionException refused = assertThrows(ExecutionException.class, () -> HttpClient.newHttpClient()
                .newWebSocketBuilder().buildAsync(echo, new RecordingListener()).get(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(401, ((WebSocketHandshakeException) refused.getCause()).getResponse().statusCode());
        ExecutionException dialled = assertThrows(ExecutionException.class, () -> HttpClient.newHttpClient()
                .newWebSocketBuilder().header("X-API-Key", "from-the-environment")
                .buildAsync(echo, new RecordingListener()).get(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(502, ((WebSocketHandshakeException) dialled.getCause()).getResponse().statusCode(),
                "past authentication: no backend listens on port 9");
        process.toHandle().destroy();
        assertEquals(0, exitStatus(process));
    }
}
