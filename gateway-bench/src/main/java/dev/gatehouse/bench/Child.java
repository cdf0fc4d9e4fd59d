package dev.gatehouse.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A role running in a child JVM started from the same java binary and classpath as this one. Its stdout is
 * the control channel ({@link RoleControl}); its stderr goes to a log file. Every child started is
 * remembered until it is closed, and a shutdown hook kills whichever are left, so that no run leaves a
 * process behind.
 */
final class Child implements AutoCloseable {

    private static final Set<Child> LIVE = ConcurrentHashMap.newKeySet(); // started and not yet closed
    private static final String EOF = "\u0000eof";

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Child::killAll, "kill-children"));
    }

    private final String role;
    private final Process process;
    private final OutputStream control;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>(); // stdout lines, EOF at the end
    private final int port;
    private final int managementPort; // the management API's port, 0 when the role serves none

    private Child(String role, Process process, Duration startTimeout) {
        this.role = role;
        this.process = process;
        this.control = process.getOutputStream();
        Thread reader = new Thread(this::readStdout, role + "-stdout");
        reader.setDaemon(true);
        reader.start();
        String first = expect(RoleControl.PORT, startTimeout);
        if (first == null) {
            String why = process.isAlive() ? "did not announce its port within " + startTimeout.toMillis() + " ms"
                    : "exited before announcing its port";
            close();
            throw new IllegalStateException(role + " " + why + "; see its log");
        }
        int[] ports = ports(first);
        this.port = ports[0];
        this.managementPort = ports[1];
    }

    /**
     * The ports of a role's {@code PORT <n> [<m>]} line: its server's, then its management API's ({@code 0} when
     * the line names none).
     */
    static int[] ports(String line) {
        String[] f = line.substring(RoleControl.PORT.length()).trim().split(" +");
        return new int[] {Integer.parseInt(f[0]), f.length > 1 ? Integer.parseInt(f[1]) : 0};
    }

    /**
     * Starts {@code java <jvmArgs> -cp <classpath> dev.gatehouse.bench.Main <role> <args>} and waits for its
     * port.
     *
     * @param log where the child's stderr goes
     * @throws IllegalStateException if it does not announce a port in time (the child is killed)
     */
    static Child start(String role, List<String> jvmArgs, List<String> args, Path log, Duration startTimeout) {
        return start(role, jvmArgs, args, Map.of(), log, startTimeout);
    }

    /**
     * {@link #start(String, List, List, Path, Duration)} with more environment variables: the way to hand a child
     * a secret, which would be visible to every user in its command line, and which the failure message of a
     * start (it shows the command) would log.
     */
    static Child start(String role, List<String> jvmArgs, List<String> args, Map<String, String> environment, Path log,
            Duration startTimeout) {
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.add(role);
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectOutput(ProcessBuilder.Redirect.PIPE)
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        pb.environment().putAll(environment);
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + role + ": " + command, e);
        }
        Child child;
        try {
            child = new Child(role, process, startTimeout);
        } catch (RuntimeException e) {
            process.destroyForcibly();
            throw e;
        }
        LIVE.add(child);
        return child;
    }

    /** The java binary running this JVM. */
    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    String role() {
        return role;
    }

    int port() {
        return port;
    }

    /**
     * The port of the role's management API.
     *
     * @throws IllegalStateException if the role serves none
     */
    int managementPort() {
        if (managementPort == 0) {
            throw new IllegalStateException(role + " serves no management API");
        }
        return managementPort;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** User plus system CPU time of the child so far, in nanoseconds. */
    long cpuNanos() {
        return Proc.cpuNanos(pid());
    }

    /** The child's resident set size, in bytes. */
    long rssBytes() {
        return Proc.rssBytes(pid());
    }

    /** The child's soft limit on open files. */
    long maxOpenFiles() {
        return Proc.maxOpenFiles(pid());
    }

    /**
     * Has the child run a full collection and returns its heap in use afterwards, in bytes.
     *
     * @throws IllegalStateException if it does not answer within 30 s
     */
    long collectGarbage() {
        send("gc");
        String answer = expect(RoleControl.HEAP, Duration.ofSeconds(30));
        if (answer == null) {
            throw new IllegalStateException(role + " did not answer gc within 30 s");
        }
        return Long.parseLong(answer.substring(RoleControl.HEAP.length()).trim());
    }

    /**
     * Asks the child to quit, then kills it if it has not within 10 s (a JFR recording is written on the
     * way out), forcibly after 5 s more. Idempotent.
     */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                try {
                    send("quit");
                } catch (UncheckedIOException e) {
                    // the pipe is gone: the child is on its way out
                }
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroy();
                    if (!process.waitFor(5, TimeUnit.SECONDS)) {
                        process.destroyForcibly();
                        process.waitFor(5, TimeUnit.SECONDS);
                    }
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            LIVE.remove(this);
        }
    }

    /** Kills every child still running: the last line of defence, from the shutdown hook. */
    static void killAll() {
        for (Child c : LIVE) {
            c.process.destroyForcibly();
        }
        LIVE.clear();
    }

    private synchronized void send(String command) {
        try {
            control.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            control.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot talk to " + role, e);
        }
    }

    /**
     * The next stdout line that starts with {@code prefix}; other lines (the JVM's own, such as JFR's startup
     * message) are passed to this process's stderr. {@code null} on timeout or end of output.
     */
    private String expect(String prefix, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || line.equals(EOF)) {
                    return null;
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
                System.err.println("[" + role + "] " + line);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private void readStdout() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null;) {
                lines.add(line);
            }
        } catch (IOException e) {
            // the child exited
        } finally {
            lines.add(EOF);
        }
    }
}
