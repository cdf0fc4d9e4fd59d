package dev.gatehouse.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/** The orchestrator's command line: {@code [scenario ...|all] [options]}. */
final class Options {

    static final String USAGE = String.join("\n",
            "usage: java -jar gatehouse-bench.jar [scenario ...|all] [options]",
            "       java -jar gatehouse-bench.jar jmh [JMH options]",
            "",
            "Starts an echo backend and a Gatehouse gateway in child JVMs (-Xmx1g each), drives them from this JVM,",
            "and runs each scenario straight to the backend and through the gateway, interleaved, round after round.",
            "",
            "scenarios: throughput, throughput-text, api-inprocess, api-http, pipelined, bulk-16k, bulk-1m, latency,",
            "           handshakes, handshakes-hs256, handshakes-rs256, fanout, post-connection, idle,",
            "           post-connection-cross, handshakes-shared-limit, all (default)",
            "           (api-inprocess and api-http: throughput through a WebSocket API route; run them with throughput,",
            "           to which they compare; fanout and post-connection: the gateway's HTTP management API, sending",
            "           to a group of 1,000 connections and to single connections, through the gateway only;",
            "           post-connection-cross and handshakes-shared-limit: two gateway nodes in one Hazelcast cluster",
            "           on loopback against one node: POSTs forwarded from node B to node A's connections, and",
            "           handshakes to a route whose per-principal connection limit the cluster counts)",
            "",
            "options:",
            "  --duration D      measured interval of each run (default 5s; --quick: 1s)",
            "  --warmup D        unmeasured load before each measured interval (default 2s, handshake scenarios 10s;",
            "                    --quick: 500ms)",
            "  --rounds N        direct/gateway pairs per scenario; the best run of each side is reported (default 2; --quick: 1)",
            "  --connections N   overrides every selected scenario's connection (or worker) count",
            "  --hold D          how long the idle scenario holds its connections (default 10s; --quick: 1s)",
            "  --quick           short runs for smoke tests (idle: 1,000 connections unless --connections)",
            "  --jfr FILE        records the gateway JVM with Java Flight Recorder (profile settings) into FILE",
            "                    (a JWT handshakes scenario's own gateway into FILE-SCENARIO, e.g. gw-handshakes-hs256.jfr)",
            "  --gateway-jvm-arg A  adds a JVM option to the gateway's child JVMs (repeatable), e.g. -XX:+UseParallelGC",
            "  --relay R         what the gateway JVM runs: gatehouse (default), or a bare reference relay on Jetty's",
            "                    listener API (jetty-listener) or frame level (jetty-frames, jetty-frames-nonblocking),",
            "                    or two endpoints spliced byte for byte after the handshake (endpoint-tunnel), without",
            "                    policies or timers (and without WebSocket API routes or management API: all leaves out",
            "                    the api-* scenarios, fanout and post-connection)",
            "  --logs DIR        where the child JVMs' logs and results.md go (default: a new temporary directory)",
            "  --help            prints this text",
            "",
            "Durations: 500ms, 5s, 2m, or a number of seconds.");

    /** What {@code --relay} accepts: Gatehouse, or a bare reference relay. */
    static final List<String> RELAYS = List.of("gatehouse", "jetty-listener", "jetty-frames", "jetty-frames-nonblocking",
            "endpoint-tunnel");

    /** The handshake scenarios' default warm-up. */
    static final Duration HANDSHAKE_WARMUP = Duration.ofSeconds(10);

    final List<Scenario> scenarios;
    final Duration duration;
    final Duration warmup;   // the warm-up of every scenario but the handshakes'
    final Duration handshakeWarmup; // the handshake scenarios' warm-up
    final int rounds;
    final OptionalInt connections;
    final Duration hold;
    final boolean quick;
    final Path jfr;   // null: no recording
    final List<String> gatewayJvmArgs;
    final String relay;
    final Path logs;  // null: a temporary directory
    final boolean help;

    private Options(List<Scenario> scenarios, Duration duration, Duration warmup, Duration handshakeWarmup, int rounds, OptionalInt connections,
            Duration hold, boolean quick, Path jfr, List<String> gatewayJvmArgs, String relay, Path logs, boolean help) {
        this.scenarios = List.copyOf(scenarios);
        this.duration = duration;
        this.warmup = warmup;
        this.handshakeWarmup = handshakeWarmup;
        this.rounds = rounds;
        this.connections = connections;
        this.hold = hold;
        this.quick = quick;
        this.jfr = jfr;
        this.gatewayJvmArgs = List.copyOf(gatewayJvmArgs);
        this.relay = relay;
        this.logs = logs;
        this.help = help;
    }

    /**
     * Parses the orchestrator's arguments.
     *
     * @throws UsageException naming the bad argument
     */
    static Options parse(String... args) {
        Set<Scenario> scenarios = new LinkedHashSet<>();
        List<Scenario> named = new ArrayList<>(); // the scenarios named on the command line, not through all
        Duration duration = null;
        Duration warmup = null;
        Integer rounds = null;
        OptionalInt connections = OptionalInt.empty();
        Duration hold = null;
        boolean quick = false;
        Path jfr = null;
        List<String> gatewayJvmArgs = new ArrayList<>();
        Path logs = null;
        String relay = "gatehouse";
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--duration":
                    duration = positive(a, Args.duration(a, Args.value(args, i++)));
                    break;
                case "--warmup":
                    warmup = Args.duration(a, Args.value(args, i++));
                    break;
                case "--rounds":
                    rounds = Args.integer(a, Args.value(args, i++), 1);
                    break;
                case "--connections":
                    connections = OptionalInt.of(Args.integer(a, Args.value(args, i++), 1));
                    break;
                case "--hold":
                    hold = Args.duration(a, Args.value(args, i++));
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--jfr":
                    jfr = Path.of(Args.value(args, i++)).toAbsolutePath();
                    break;
                case "--gateway-jvm-arg":
                    gatewayJvmArgs.add(Args.value(args, i++));
                    break;
                case "--relay":
                    relay = Args.value(args, i++);
                    if (!RELAYS.contains(relay)) {
                        throw new UsageException("--relay: " + relay + " (expected one of " + String.join(", ", RELAYS) + ")");
                    }
                    break;
                case "--logs":
                    logs = Path.of(Args.value(args, i++)).toAbsolutePath();
                    break;
                case "--help":
                case "-h":
                    help = true;
                    break;
                case "all":
                    for (Scenario s : Scenario.values()) {
                        scenarios.add(s);
                    }
                    break;
                default:
                    if (a.startsWith("-")) {
                        throw new UsageException("unknown option " + a);
                    }
                    Scenario one = Scenario.parse(a);
                    scenarios.add(one);
                    named.add(one);
            }
        }
        List<Scenario> chosen = new ArrayList<>(scenarios);
        if (chosen.isEmpty()) {
            chosen.addAll(List.of(Scenario.values()));
        }
        if (!relay.equals("gatehouse")) {
            // A reference relay has no WebSocket API routes and no management API: named, such a scenario is an
            // error; from all, left out.
            for (Scenario s : named) {
                if (s.gatehouseOnly()) {
                    throw new UsageException(s.flag() + ": needs --relay gatehouse (a reference relay has no "
                            + (s.webSocketApi() ? "WebSocket API routes" : s.cluster() ? "cluster" : "management API") + ")");
                }
            }
            chosen.removeIf(Scenario::gatehouseOnly);
        }
        return new Options(chosen,
                duration != null ? duration : quick ? Duration.ofSeconds(1) : Duration.ofSeconds(5),
                warmup != null ? warmup : quick ? Duration.ofMillis(500) : Duration.ofSeconds(2),
                warmup != null ? warmup : quick ? Duration.ofMillis(500) : HANDSHAKE_WARMUP,
                rounds != null ? rounds : quick ? 1 : 2,
                connections,
                hold != null ? hold : quick ? Duration.ofSeconds(1) : Duration.ofSeconds(10),
                quick, jfr, gatewayJvmArgs, relay, logs, help);
    }

    /**
     * A scenario's warm-up. The handshake scenarios warm up longer by default: the upgrade path through two
     * HTTP stacks is wide, and both the backend's and the gateway's handshake rates still rise for seconds
     * after the 2 s that suffice for the relay.
     */
    Duration warmup(Scenario s) {
        return s.kind() == Scenario.Kind.HANDSHAKES ? handshakeWarmup : warmup;
    }

    /** The connection (or worker) count of a scenario after {@code --connections} and {@code --quick}. */
    int connections(Scenario s) {
        if (connections.isPresent()) {
            return connections.getAsInt();
        }
        if (quick && s == Scenario.IDLE) {
            return 1000;
        }
        return s.connections();
    }

    private static Duration positive(String option, Duration d) {
        if (d.isZero()) {
            throw new UsageException(option + ": 0 (expected: > 0)");
        }
        return d;
    }
}
