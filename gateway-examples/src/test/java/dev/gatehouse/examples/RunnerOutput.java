package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A runner process's output, line by line, for the tests that start the runner as a process of its own. */
final class RunnerOutput {

    private RunnerOutput() {
    }

    /** The process's output lines as they come, read on a thread of their own. */
    static BlockingQueue<String> lines(Process process) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(read failed: " + e + ")");
            }
        }, "runner-output");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    /** Waits up to {@code seconds} for a line starting with {@code prefix}, skipping others (log lines). */
    static String awaitLine(BlockingQueue<String> lines, String prefix, long seconds) throws InterruptedException {
        List<String> skipped = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            assertNotNull(line, () -> "no line starting with \"" + prefix + "\"; output: " + skipped);
            if (line.startsWith(prefix)) {
                return line;
            }
            skipped.add(line);
        }
    }
}
