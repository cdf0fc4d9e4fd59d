package dev.gatehouse.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the selected scenarios: starts the backend and gateway JVMs, runs every scenario straight to the
 * backend and through the gateway, interleaved (direct, gateway, direct, gateway, ... for
 * {@code --rounds}; {@code api-http} adds a third run to each round, Jetty's HttpClient POSTing to the
 * backend's HTTP echo; the management scenarios run through the gateway only), and prints one table. Each side's figures come from its best run (highest rate,
 * lowest median latency), because a busy machine only ever makes a run slower. Every scenario has a hard
 * time bound, and the whole run one more; every child JVM is stopped in a {@code finally} block, by a
 * shutdown hook if the orchestrator is interrupted, and by itself if its stdin closes.
 *
 * <p>A scenario with an {@link Auth} mode other than {@link Auth#NONE} runs its gateway side against a
 * gateway of its own, started on the shared backend with {@code --auth MODE --auth-key FILE} and fresh keys
 * from {@link Auth#newKeys()}; the key file is deleted as soon as that gateway has started. Its direct side
 * is unchanged: the shared backend, no credential.
 *
 * <p>The shared gateway also serves its HTTP management API, on a loopback connector of its own, behind an API
 * key made afresh for each start ({@link ManagementClient#newKey()}). The key goes to the child in its
 * environment ({@link GatewayRole#MANAGEMENT_KEY_ENV}), not on its command line, and is never printed.
 *
 * <p>The cluster scenarios ({@link Scenario#cluster()}) start gateways of their own on the shared backend: nodes A
 * and B, which form a Hazelcast cluster of their own on loopback (a fresh cluster name and member port range for
 * each scenario), and for {@link Scenario#HANDSHAKES_SHARED_LIMIT} a gateway without a cluster; all are stopped
 * when the scenario ends, however it ends.
 */
final class Orchestrator {

    /** Heap of each child JVM: the idle scenario's 9,000 bridged connections must fit in it. */
    static final List<String> CHILD_JVM = List.of("-Xmx1g");
    /**
     * The JVM options that Hazelcast asks for on Java 9 and later ("for the best performance results"), given to
     * the cluster scenarios' nodes.
     */
    static final List<String> HAZELCAST_JVM = List.of("--add-modules", "java.se",
            "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.management/sun.management=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration RUN_SLACK = Duration.ofSeconds(120);

    private final Options options;
    private final Path logs;
    private final String commandLine;
    private final List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
    private final List<String> notes = new ArrayList<>();
    private Child backend; // the shared backend, null until needed or after a timeout
    private Child gateway; // the shared gateway, likewise
    private ManagementClient.Access management; // the shared gateway's management API and its key, or null
    private volatile Child authGateway; // the current scenario's own gateway (a JWT mode), or null
    private final List<Child> clusterChildren = Collections.synchronizedList(new ArrayList<>()); // a cluster scenario's
    private int childCount;

    private Orchestrator(Options options, Path logs, String commandLine) {
        this.options = options;
        this.logs = logs;
        this.commandLine = commandLine;
    }

    /**
     * Runs the benchmark with these arguments and prints the report on stdout, progress on stderr.
     *
     * @return the exit code: 0 when every run completed (targets missed or not), 1 if any failed or timed out
     */
    static int run(String... args) throws InterruptedException {
        Options options = Options.parse(args);
        if (options.help) {
            System.out.println(Options.USAGE);
            return 0;
        }
        if (!Files.isReadable(Path.of("/proc/self/stat"))) {
            System.err.println("gatehouse-bench: needs Linux's /proc to measure CPU and memory");
            return 1;
        }
        Path logs;
        try {
            logs = options.logs != null ? Files.createDirectories(options.logs) : Files.createTempDirectory("gatehouse-bench-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the log directory", e);
        }
        String commandLine = "java -jar gateway-bench/target/gatehouse-bench.jar" + (args.length == 0 ? "" : " " + String.join(" ", args));
        return new Orchestrator(options, logs, commandLine).execute();
    }

    private int execute() throws InterruptedException {
        long filesNeeded = options.scenarios.stream()
                .mapToLong(s -> s == Scenario.IDLE ? options.connections(s) + 512L : options.connections(s) * 2L + 256)
                .max().orElse(0);
        long files = Proc.maxOpenFiles(ProcessHandle.current().pid());
        if (files < filesNeeded) {
            System.err.println("gatehouse-bench: this process may open " + files + " files, and the selected scenarios need "
                    + filesNeeded + " (the gateway needs about twice as many): raise `ulimit -n`, or lower --connections");
            return 1;
        }
        Duration total = RUN_SLACK;
        for (Scenario s : options.scenarios) {
            total = total.plus(bound(s));
        }
        startWatchdog(total);
        String loadAtStart = loadAverage();
        System.err.println("gatehouse-bench: " + options.scenarios.size() + " scenario(s), hard bound " + total.toSeconds()
                + " s; child logs in " + logs);
        List<Outcome> outcomes = new ArrayList<>();
        boolean failed = false;
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "scenario");
            t.setDaemon(true);
            return t;
        });
        try {
            for (Scenario s : options.scenarios) {
                List<Sample> mine = Collections.synchronizedList(new ArrayList<>());
                Future<?> f = worker.submit((Callable<Void>) () -> {
                    runScenario(s, mine);
                    return null;
                });
                String problem = null;
                try {
                    f.get(bound(s).toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    f.cancel(true);
                    problem = "TIMEOUT after " + bound(s).toSeconds() + " s";
                    stopSharedChildren(); // in an unknown state: start afresh for the next scenario
                } catch (ExecutionException e) {
                    problem = "FAILED: " + e.getCause();
                    e.getCause().printStackTrace();
                    stopSharedChildren();
                }
                List<Sample> done;
                synchronized (mine) {
                    done = new ArrayList<>(mine);
                }
                samples.addAll(done);
                outcomes.add(new Outcome(s, done, problem));
                failed |= problem != null || done.stream().anyMatch(x -> !x.errors().isEmpty());
            }
        } finally {
            worker.shutdownNow();
            stopSharedChildren();
        }
        // The WebSocket API scenarios compare with the proxy route's throughput of the same run, whenever it ran.
        Sample proxy = outcomes.stream().filter(o -> o.scenario() == Scenario.THROUGHPUT).findFirst()
                .map(o -> best(o.samples(), Side.GATEWAY)).orElse(null);
        List<Table.Row> rows = new ArrayList<>();
        for (Outcome o : outcomes) {
            rows.addAll(Report.rows(o.scenario(), options.connections(o.scenario()), o.samples(), o.problem(), proxy));
        }
        String report = Report.render(rows, samples, notes, commandLine, options, loadAtStart, loadAverage());
        System.out.println(report);
        try {
            Files.writeString(logs.resolve("results.md"), report, StandardCharsets.UTF_8);
        } catch (IOException e) {
            System.err.println("cannot write " + logs.resolve("results.md") + ": " + e);
        }
        return failed ? 1 : 0;
    }

    /**
     * What one scenario left: its samples, and why it did not complete ({@code null} when it did).
     */
    private record Outcome(Scenario scenario, List<Sample> samples, String problem) {
    }

    /** A scenario's hard time bound: generous, so that only a stuck run reaches it. */
    Duration bound(Scenario s) {
        Duration run = options.warmup(s).plus(options.duration).plusSeconds(90);
        if (s == Scenario.IDLE) {
            return Duration.ofSeconds(2 * (60 + 60 + 180 + 60 + 60 + 30)).plus(options.hold.multipliedBy(2));
        }
        return run.multipliedBy((long) s.sides().size() * options.rounds)
                .plus(START_TIMEOUT.multipliedBy(s.cluster() ? 5 : 2));
    }

    private void runScenario(Scenario s, List<Sample> out) throws InterruptedException {
        if (s == Scenario.IDLE) {
            runIdle(out);
            return;
        }
        ensureSharedChildren();
        if (s.cluster()) {
            runCluster(s, out);
            return;
        }
        Child target = gateway;
        Auth.Keys keys = Auth.Keys.NONE;
        try {
            if (s.auth() != Auth.NONE) {
                keys = s.auth().newKeys();
                Path jfr = options.jfr == null ? null : jfrFile(options.jfr, s.flag());
                if (jfr != null) {
                    notes.add("The " + s.flag() + " gateway JVM was recorded with JFR into " + jfr + ".");
                }
                authGateway = startGateway(backend, s.flag(), jfr == null ? List.of() : jfrArgs(jfr), keys, Map.of());
                target = authGateway;
            }
            for (int round = 1; round <= options.rounds; round++) {
                for (Side side : s.sides()) {
                    Run run = new Run(s, side, round, uri(s, side, backend, target), backend,
                            side == Side.HTTP_CLIENT ? null : target, options.connections(s), options.warmup(s),
                            options.duration, options.hold);
                    // The direct side never sends a credential: the backend does not authenticate.
                    Sample sample = runOnce(run, side == Side.DIRECT ? Auth.Keys.NONE : keys, management);
                    out.add(sample);
                    System.err.println("  " + sample.describe());
                }
            }
        } finally {
            stopAuthGateway();
        }
    }

    private static Sample runOnce(Run run, Auth.Keys keys, ManagementClient.Access management) throws InterruptedException {
        switch (run.scenario().kind()) {
            case ECHO:
                return run.side() == Side.HTTP_CLIENT ? PostLoad.run(run) : EchoLoad.run(run);
            case LATENCY:
                return LatencyLoad.run(run);
            case HANDSHAKES:
                return HandshakeLoad.run(run, keys);
            case FANOUT:
            case POST_CONNECTION:
                return PushLoad.run(run, management);
            default:
                throw new IllegalArgumentException("scenario " + run.scenario().flag() + " runs on its own processes");
        }
    }

    /**
     * A cluster scenario: nodes A and B (and for {@link Scenario#HANDSHAKES_SHARED_LIMIT} a gateway without a
     * cluster) on the shared backend, each side of each round in turn; stops them all before it returns or
     * throws.
     */
    private void runCluster(Scenario s, List<Sample> out) throws InterruptedException {
        boolean limit = s == Scenario.HANDSHAKES_SHARED_LIMIT;
        Auth.Keys keys = limit ? s.auth().newKeys() : Auth.Keys.NONE;
        List<String> limitArgs = limit ? limitArgs() : List.of();
        String name = "gatehouse-bench-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        int base = freeMemberPort();
        String key = ManagementClient.newKey();
        Map<String, String> env = Map.of(GatewayRole.MANAGEMENT_KEY_ENV, key);
        try {
            Child local = null;
            if (limit) {
                local = startClusterChild(s, "local", keys, env, limitArgs);
            }
            Child a = startClusterChild(s, "a", keys, env, concat(limitArgs, clusterArgs(name, base, "a", 1)));
            Child b = startClusterChild(s, "b", keys, env, concat(limitArgs, clusterArgs(name, base, "b", 2)));
            ManagementClient.Access atA = new ManagementClient.Access(URI.create("http://127.0.0.1:" + a.managementPort()), key);
            ManagementClient.Access atB = new ManagementClient.Access(URI.create("http://127.0.0.1:" + b.managementPort()), key);
            for (int round = 1; round <= options.rounds; round++) {
                for (Side side : s.sides()) {
                    boolean alone = limit && (side == Side.LOCAL || side == Side.LOCAL_RATE);
                    Child target = alone ? local : a;
                    Child peer = alone ? null : b;
                    String path = s.gatewayPath(side);
                    Run run = new Run(s, side, round, URI.create("ws://127.0.0.1:" + target.port() + path), backend, target,
                            options.connections(s), options.warmup(s), options.duration, options.hold, peer);
                    Sample sample = limit ? HandshakeLoad.run(run, keys)
                            : PushLoad.run(run, atA, side == Side.CLUSTER ? atB : atA);
                    out.add(sample);
                    System.err.println("  " + sample.describe());
                }
            }
        } finally {
            stopClusterChildren();
        }
    }

    /**
     * The gateway role's options for {@link Scenario#HANDSHAKES_SHARED_LIMIT}'s routes: the connection limit
     * ({@link GatewayRole#LIMITED_PATH}) and the rate limit ({@link GatewayRole#RATE_LIMITED_PATH}).
     */
    static List<String> limitArgs() {
        return List.of("--max-per-principal", Integer.toString(Scenario.SHARED_LIMIT),
                "--shared-rate-limit", Integer.toString(Scenario.SHARED_RATE));
    }

    /**
     * The gateway role's options that make it node {@code node} of cluster {@code name} on the member ports from
     * {@code base}, announced once the cluster has {@code members} members.
     */
    static List<String> clusterArgs(String name, int base, String node, int members) {
        return List.of("--cluster", name, "--cluster-port", Integer.toString(base), "--node", node,
                "--cluster-members", Integer.toString(members));
    }

    private static List<String> concat(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        return all;
    }

    private Child startClusterChild(Scenario s, String node, Auth.Keys keys, Map<String, String> env, List<String> args) {
        List<String> jvm = new ArrayList<>(HAZELCAST_JVM);
        if (options.jfr != null) {
            Path jfr = jfrFile(options.jfr, s.flag() + "-" + node);
            notes.add("The " + s.flag() + " gateway " + node + " was recorded with JFR into " + jfr + ".");
            jvm.addAll(jfrArgs(jfr));
        }
        Child c = startGateway(backend, s.flag() + "-" + node, jvm, keys, env, args);
        clusterChildren.add(c);
        return c;
    }

    private void stopClusterChildren() {
        List<Child> all;
        synchronized (clusterChildren) {
            all = new ArrayList<>(clusterChildren);
            clusterChildren.clear();
        }
        Collections.reverse(all);
        for (Child c : all) {
            c.close();
        }
    }

    /** A port that was free a moment ago, as the base of the members' ports (they may take the next nine). */
    private static int freeMemberPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return Math.min(socket.getLocalPort(), 65_000);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port for the cluster's members", e);
        }
    }

    /** The idle scenario, on freshly started processes for each side. */
    private void runIdle(List<Sample> out) throws InterruptedException {
        int n = options.connections(Scenario.IDLE);
        for (Side side : List.of(Side.DIRECT, Side.GATEWAY)) {
            Child idleBackend = null;
            Child idleGateway = null;
            try {
                idleBackend = startBackend("idle-" + side);
                if (side == Side.GATEWAY) {
                    idleGateway = startGateway(idleBackend, "idle", List.of(), Auth.Keys.NONE, Map.of());
                }
                Child measured = side == Side.GATEWAY ? idleGateway : idleBackend;
                long needed = IdleLoad.filesNeeded(side, n);
                long limit = measured.maxOpenFiles();
                Sample sample;
                if (limit < needed) {
                    sample = new Sample(Scenario.IDLE, side, 1);
                    sample.error("the " + measured.role() + " may open " + limit + " files and " + n + " connections need "
                            + needed + ": raise `ulimit -n`, or lower --connections");
                } else {
                    Run run = new Run(Scenario.IDLE, side, 1, uri(side == Side.DIRECT ? idleBackend : idleGateway), idleBackend,
                            idleGateway, n, options.warmup, options.duration, options.hold);
                    sample = IdleLoad.run(run);
                }
                out.add(sample);
                System.err.println("  " + sample.describe());
            } finally {
                if (idleGateway != null) {
                    idleGateway.close();
                }
                if (idleBackend != null) {
                    idleBackend.close();
                }
            }
        }
    }

    private void ensureSharedChildren() {
        if (backend != null && backend.isAlive() && gateway != null && gateway.isAlive()) {
            return;
        }
        stopSharedChildren();
        backend = startBackend("shared");
        List<String> jfr = List.of();
        if (options.jfr != null) {
            jfr = jfrArgs(options.jfr);
            notes.add("The shared gateway JVM (all scenarios but idle and the JWT handshakes) was recorded with JFR into "
                    + options.jfr + ".");
        }
        // The shared gateway serves the management API, behind a fresh key that only this process and the
        // gateway's environment hold, whenever the gateway JVM runs Gatehouse (a reference relay has no API).
        String key = options.relay.equals("gatehouse") ? ManagementClient.newKey() : null;
        gateway = startGateway(backend, "shared", jfr, Auth.Keys.NONE,
                key == null ? Map.of() : Map.of(GatewayRole.MANAGEMENT_KEY_ENV, key));
        management = key == null ? null
                : new ManagementClient.Access(URI.create("http://127.0.0.1:" + gateway.managementPort()), key);
    }

    private static List<String> jfrArgs(Path file) {
        return List.of("-XX:StartFlightRecording=filename=" + file + ",settings=profile,dumponexit=true");
    }

    /** The recording of a scenario's own gateway: {@code gw.jfr} becomes {@code gw-handshakes-hs256.jfr}. */
    static Path jfrFile(Path shared, String scenario) {
        String name = shared.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String mine = dot > 0 ? name.substring(0, dot) + "-" + scenario + name.substring(dot) : name + "-" + scenario;
        return shared.resolveSibling(mine);
    }

    private Child startBackend(String tag) {
        System.err.println("starting backend (" + tag + ")");
        return Child.start("backend", CHILD_JVM, List.of("--port", "0"), log("backend-" + tag), START_TIMEOUT);
    }

    /**
     * Starts a gateway on {@code backendChild} that authenticates with {@code keys}' mode. A JWT mode's
     * verification key goes to the child in a file readable only by this user, deleted once the child has
     * started (it reads the file before it listens). {@code environment} is added to the child's, e.g. the
     * management API's key.
     */
    private Child startGateway(Child backendChild, String tag, List<String> extraJvm, Auth.Keys keys,
            Map<String, String> environment) {
        return startGateway(backendChild, tag, extraJvm, keys, environment, List.of());
    }

    /** {@link #startGateway(Child, String, List, Auth.Keys, Map)} with more of the role's options. */
    private Child startGateway(Child backendChild, String tag, List<String> extraJvm, Auth.Keys keys,
            Map<String, String> environment, List<String> extraArgs) {
        System.err.println("starting gateway (" + tag + ", auth " + keys.mode().flag() + ")");
        List<String> jvm = new ArrayList<>(CHILD_JVM);
        jvm.addAll(options.gatewayJvmArgs);
        jvm.addAll(extraJvm);
        List<String> args = new ArrayList<>(List.of("--backend", "ws://127.0.0.1:" + backendChild.port(), "--port", "0",
                "--auth", keys.mode().flag(), "--relay", options.relay));
        args.addAll(extraArgs);
        Path keyFile = null;
        try {
            String jwk = keys.verificationJwk();
            if (jwk != null) {
                keyFile = Files.createTempFile("gatehouse-bench-" + keys.mode().flag() + "-", ".jwk.json");
                Files.writeString(keyFile, jwk, StandardCharsets.UTF_8);
                args.add("--auth-key");
                args.add(keyFile.toString());
            }
            return Child.start("gateway", jvm, args, environment, log("gateway-" + tag), START_TIMEOUT);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the gateway's key file", e);
        } finally {
            if (keyFile != null) {
                try {
                    Files.deleteIfExists(keyFile);
                } catch (IOException e) {
                    System.err.println("cannot delete " + keyFile + ": " + e);
                }
            }
        }
    }

    private Path log(String name) {
        return logs.resolve(String.format("%02d-%s.log", ++childCount, name));
    }

    private void stopAuthGateway() {
        Child g = authGateway;
        authGateway = null;
        if (g != null) {
            g.close();
        }
    }

    private void stopSharedChildren() {
        stopAuthGateway();
        stopClusterChildren();
        management = null;
        if (gateway != null) {
            gateway.close();
            gateway = null;
        }
        if (backend != null) {
            backend.close();
            backend = null;
        }
    }

    private static URI uri(Child child) {
        return URI.create("ws://127.0.0.1:" + child.port() + "/echo");
    }

    /**
     * Where a run's load goes: the backend's WebSocket echo (direct), the scenario's route on the gateway, or
     * the backend's HTTP echo (the HTTP client side).
     */
    static URI uri(Scenario s, Side side, Child backendChild, Child gatewayChild) {
        switch (side) {
            case DIRECT:
                return uri(backendChild);
            case GATEWAY:
                return URI.create("ws://127.0.0.1:" + gatewayChild.port() + s.gatewayPath());
            default:
                return URI.create("http://127.0.0.1:" + backendChild.port() + HttpEcho.PATH);
        }
    }

    private static void startWatchdog(Duration bound) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(bound.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("gatehouse-bench: the hard bound of " + bound.toSeconds() + " s passed; killing everything");
            Child.killAll();
            Runtime.getRuntime().halt(4);
        }, "watchdog");
        t.setDaemon(true);
        t.start();
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    static String now() {
        return ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    }

    /** The best sample of a side: highest rate, or lowest median latency. */
    static Sample best(List<Sample> samples, Side side) {
        Comparator<Sample> better = samples.isEmpty() || samples.get(0).scenario().kind() != Scenario.Kind.LATENCY
                ? Comparator.comparingDouble((Sample x) -> nanToMin(x.get("rate")))
                : Comparator.comparingDouble((Sample x) -> -nanToMax(x.get("p50")));
        return samples.stream().filter(x -> x.side() == side).max(better).orElse(null);
    }

    private static double nanToMin(double v) {
        return Double.isNaN(v) ? Double.NEGATIVE_INFINITY : v;
    }

    private static double nanToMax(double v) {
        return Double.isNaN(v) ? Double.POSITIVE_INFINITY : v;
    }
}
