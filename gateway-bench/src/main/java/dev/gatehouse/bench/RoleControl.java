package dev.gatehouse.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.eclipse.jetty.server.Server;

/**
 * The role side of the orchestrator's control channel. A role prints {@code PORT <n>} on stdout once its
 * server listens ({@code PORT <n> <m>} when it also serves the management API on port {@code m}), then answers
 * commands read from stdin, one per line:
 * <ul>
 * <li>{@code gc}: runs a full collection and answers {@code HEAP <bytes used>};</li>
 * <li>{@code quit}: stops the server and exits.</li>
 * </ul>
 * End of input (the orchestrator died or closed the pipe) exits too, so that no role outlives its
 * orchestrator; so does reaching the role's maximum lifetime.
 */
final class RoleControl {

    /** The line that announces the port; the orchestrator waits for it. */
    static final String PORT = "PORT ";
    /** The answer to {@code gc}. */
    static final String HEAP = "HEAP ";

    private RoleControl() {
    }

    /** Announces the port and serves commands until told to quit; never returns. */
    static void serve(Server server, int port, Duration maxLifetime) {
        serve(server, port, 0, maxLifetime);
    }

    /**
     * Announces the port and the management API's ({@code 0}: none), and serves commands until told to quit;
     * never returns.
     */
    static void serve(Server server, int port, int managementPort, Duration maxLifetime) {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(maxLifetime.toMillis());
                System.err.println("maximum lifetime " + maxLifetime + " reached; exiting");
                Runtime.getRuntime().halt(3);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "max-lifetime");
        watchdog.setDaemon(true);
        watchdog.start();
        System.out.println(PORT + port + (managementPort > 0 ? " " + managementPort : ""));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try {
            for (String line; (line = in.readLine()) != null;) {
                String command = line.trim();
                if (command.equals("gc")) {
                    System.gc();
                    System.gc();
                    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                    System.out.println(HEAP + heap.getUsed());
                    System.out.flush();
                } else if (command.equals("quit")) {
                    break;
                } else if (!command.isEmpty()) {
                    System.err.println("unknown command: " + command);
                }
            }
        } catch (IOException e) {
            System.err.println("control channel failed: " + e);
        }
        try {
            server.setStopTimeout(2000);
            server.stop();
        } catch (Exception e) {
            System.err.println("stop failed: " + e);
        }
        System.exit(0);
    }
}
