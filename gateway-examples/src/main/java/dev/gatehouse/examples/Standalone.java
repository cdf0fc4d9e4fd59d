package dev.gatehouse.examples;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Consumer;

import dev.gatehouse.Route;

/**
 * The standalone runner: a WebSocket gateway configured from the command line, no code needed.
 *
 * <pre>{@code
 * java -jar gatehouse-standalone.jar                         # the demo: echo, chat, rooms; page at /
 * java -jar gatehouse-standalone.jar --port 9000 \
 *      --route /chat/{room}=ws://localhost:7000/rooms/{room} --api-key s3cret --idle-timeout 5m
 * java -jar gatehouse-standalone.jar --config gatehouse.yaml --port 9001  # the file, its port replaced
 * }</pre>
 *
 * <p>Run it with a heap cap and the flags that give memory back when idle (README, "JVM flags for the
 * runner"): {@code java -Xms64m -Xmx256m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=10
 * -XX:G1PeriodicGCInterval=15000 -jar gatehouse-standalone.jar}.
 *
 * <p>Once started it prints {@code listening on ws://HOST:PORT} with the real port and the interface it is
 * bound to ({@code 0.0.0.0} for all of them, the default). A bad flag prints one line,
 * {@code error: --flag: problem}, and exits with status 2, as does a bad config file, with
 * {@code error: FILE: KEY.PATH: problem}; a server that cannot start (a port in use) exits with 1;
 * {@code --help} lists the flags and exits with 0. Ctrl-C or SIGTERM drains the gateway, stops, and exits
 * with 0. With {@code --config}, SIGHUP or a change of the file reloads its routes ({@link ConfigReloader}).
 */
public final class Standalone {

    /** Exit status for a command-line mistake. */
    static final int EXIT_USAGE = 2;
    /** Exit status for servers that could not start. */
    static final int EXIT_STARTUP = 1;

    private Standalone() {
    }

    /** What {@link #launch} led to: an exit status, or servers that are running. */
    sealed interface Launch permits Exit, Started {
    }

    /** Nothing is running; the process should exit with this status. */
    record Exit(int status) implements Launch {
    }

    /** The servers are running; the caller owns them. */
    record Started(StandaloneServer server) implements Launch {
    }

    /**
     * Runs the gateway until the process is stopped (Ctrl-C or SIGTERM drains it).
     *
     * @param args the flags; see {@code --help}
     * @throws InterruptedException if the main thread is interrupted while the gateway runs
     */
    public static void main(String[] args) throws InterruptedException {
        // The hook is in place before the listening line: whoever reads that line may stop the runner at once.
        Launch launch = launch(List.of(args), System.out, System.err, Standalone::stopOnShutdown);
        if (launch instanceof Exit exit) {
            System.exit(exit.status());
            return;
        }
        ((Started) launch).server().join();
    }

    /** On Ctrl-C or SIGTERM: drains and stops the servers, then exits with 0. */
    private static void stopOnShutdown(StandaloneServer server) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("stopping: draining connections");
            server.close();
            System.out.println("stopped");
            System.out.flush();
            // A JVM stopped by SIGTERM exits with 143 unless told otherwise: a drained, stopped gateway is a clean stop.
            Runtime.getRuntime().halt(0);
        }, "gatehouse-shutdown"));
    }

    /** {@link #launch(List, PrintStream, PrintStream, Consumer)} with nothing to do before the listening line. */
    static Launch launch(List<String> args, PrintStream out, PrintStream err) {
        return launch(args, out, err, server -> { });
    }

    /**
     * Parses the flags and starts the servers, without ever exiting the JVM: {@link #main} does that.
     *
     * @param out where the listening line, the demo's instructions and {@code --help} go
     * @param err     where a one-line error goes
     * @param started runs once the servers have started, before the listening line is printed
     */
    static Launch launch(List<String> args, PrintStream out, PrintStream err, Consumer<StandaloneServer> started) {
        try {
            RunnerOptions options = RunnerOptions.parse(args);
            if (options.help()) {
                out.print(RunnerOptions.helpText());
                out.flush();
                return new Exit(0);
            }
            StandaloneServer server = StandaloneServer.start(options);
            started.accept(server);
            options.warnings().forEach(w -> err.println("warning: " + w));
            if (options.config().isPresent()) {
                // Before the listening line: whoever reads it may send SIGHUP at once.
                server.closeFirst(ConfigReloader.start(args, System::getenv, options, server, out, err));
            }
            printBanner(out, options, server);
            return new Started(server);
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return new Exit(EXIT_USAGE);
        } catch (StandaloneServer.StartupException e) {
            err.println("error: " + oneLine(e.getMessage()));
            err.flush();
            return new Exit(EXIT_STARTUP);
        }
    }

    private static void printBanner(PrintStream out, RunnerOptions options, StandaloneServer server) {
        String bound = options.host().map(Standalone::uriHost).orElse(ALL_INTERFACES);
        out.println("listening on ws://" + bound + ":" + server.port());
        server.clusterLine().ifPresent(out::println);
        options.management().ifPresent(m ->
                out.println("management on http://" + uriHost(m.host()) + ":" + server.managementPort()));
        if (server.isDemo()) {
            // Bound to all interfaces, the gateway is reached on this machine through the loopback address.
            boolean everywhere = isWildcard(bound);
            String hostPort = (everywhere ? "127.0.0.1" : bound) + ":" + server.port();
            String page = everywhere ? "localhost:" + server.port() : hostPort;
            String key = options.apiKeyRequired() ? "?api_key=YOUR_KEY"
                    : options.jwtRequired() ? "?access_token=YOUR_JWT" : "";
            out.println("demo: open http://" + page + "/" + key + " in two browser tabs and join the same room");
            out.println("demo: or from a terminal: websocat ws://" + hostPort + "/chat/lobby" + key
                    + "  (or: wscat -c ws://" + hostPort + "/echo" + key + ")");
            out.println("demo: chat rooms as a WebSocket API: websocat ws://" + hostPort + DemoRooms.PATH + key
                    + ", then send {\"action\":\"join\",\"room\":\"lobby\"}"
                    + " and {\"action\":\"send\",\"room\":\"lobby\",\"text\":\"hi\"}");
        } else {
            for (Route route : server.routes()) {
                out.println("route " + route.path() + " -> " + route.backend().map(Object::toString).orElse("WebSocket API"));
            }
        }
        out.println("press Ctrl-C to stop");
        out.flush();
    }

    /** What the listening line names when the runner listens on every interface, as it does without a host. */
    static final String ALL_INTERFACES = "0.0.0.0";

    /** A host as it appears in a URI: IPv6 literals in brackets. */
    private static String uriHost(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static boolean isWildcard(String uriHost) {
        return uriHost.equals(ALL_INTERFACES) || uriHost.equals("[::]") || uriHost.equals("[0:0:0:0:0:0:0:0]");
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
