package dev.gatehouse.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Turns samples into the table's rows, and the rows into the printed report. */
final class Report {

    /** Issue 3's targets. */
    static final double THROUGHPUT_RATIO = 0.60;
    static final double PIPELINED_RATIO = 0.90;
    static final double BULK_16K_RATIO = 0.85;
    static final double LATENCY_P50_RATIO = 1.6;
    static final double HANDSHAKE_RATIO = 0.8;
    /** Handshakes with an HS256 JWT verified by the gateway, against plain direct handshakes. */
    static final double HANDSHAKE_HS256_RATIO = 0.75;
    static final double CPU_PER_MESSAGE_US = 14;
    static final double CPU_PER_HANDSHAKE_US = 120;
    static final double RSS_PER_CONNECTION_KIB = 16;
    /** The in-process WebSocket API route's throughput against the proxy route's ({@code throughput}) in the same run. */
    static final double API_INPROCESS_VS_PROXY_RATIO = 0.8;
    /** The HTTP WebSocket API route's gateway CPU per message against Jetty's HttpClient's CPU per POST. */
    static final double API_HTTP_CPU_VS_CLIENT_RATIO = 2.0;

    private static final Set<String> API_SCENARIOS = Set.of(Scenario.API_INPROCESS.flag(), Scenario.API_HTTP.flag());
    private static final Set<String> MANAGEMENT_SCENARIOS =
            Set.of(Scenario.FANOUT.flag(), Scenario.POST_CONNECTION.flag());
    private static final Set<String> CLUSTER_SCENARIOS =
            Set.of(Scenario.POST_CONNECTION_CROSS.flag(), Scenario.HANDSHAKES_SHARED_LIMIT.flag());
    private static final Set<String> JWT_SCENARIOS =
            Set.of(Scenario.HANDSHAKES_HS256.flag(), Scenario.HANDSHAKES_RS256.flag());

    private Report() {
    }

    /**
     * The rows of one scenario from its samples: each side's best run.
     *
     * @param problem why the scenario did not complete (timeout, crash), or {@code null}
     * @param proxy   the best gateway run of {@code throughput} in the same run, to which the WebSocket API
     *                scenarios compare; {@code null} when it did not run
     */
    static List<Table.Row> rows(Scenario s, int connections, List<Sample> samples, String problem, Sample proxy) {
        if (s.cluster()) {
            return clusterRows(s, connections, samples, problem);
        }
        Sample d = Orchestrator.best(samples, Side.DIRECT);
        Sample g = Orchestrator.best(samples, Side.GATEWAY);
        Sample h = Orchestrator.best(samples, Side.HTTP_CLIENT);
        String name = s.flag();
        String shape = s.shape(connections);
        List<Table.Row> rows = new ArrayList<>();
        String failure = problem;
        if (failure == null && (failed(d) || failed(g) || failed(h))) {
            failure = "FAILED";
        }
        if (d == null && g == null) {
            rows.add(new Table.Row(name, shape, "-", "-", "-", "-", failure == null ? "FAILED" : failure));
            return rows;
        }
        Rows r = new Rows(name, d, g, failure, rows);
        switch (s.kind()) {
            case ECHO: {
                Goal goal = s == Scenario.THROUGHPUT || s == Scenario.THROUGHPUT_TEXT ? Goal.ratioAtLeast(THROUGHPUT_RATIO)
                        : s == Scenario.PIPELINED ? Goal.ratioAtLeast(PIPELINED_RATIO)
                        : s == Scenario.BULK_16K ? Goal.ratioAtLeast(BULK_16K_RATIO)
                        : Goal.none();
                if (s.bulk()) {
                    r.add("MB/s, " + shape, "mbps", "mbps", Table::decimal, goal);
                } else {
                    r.add("msg/s, " + shape, "rate", "rate", Table::count, goal);
                }
                if (s.webSocketApi()) {
                    // "direct" here is the proxy route's figure: the same load through /echo on the same gateway.
                    new Rows(name, proxy, g, failure, rows).add("msg/s: proxy route (throughput) vs this route", "rate",
                            "rate", Table::count, s == Scenario.API_INPROCESS
                                    ? Goal.ratioAtLeast(API_INPROCESS_VS_PROXY_RATIO) : Goal.none());
                }
                r.add("CPU µs/msg: backend vs gateway", "cpu.backend", "cpu.gateway", Table::decimal,
                        s == Scenario.THROUGHPUT ? Goal.gatewayAtMost(CPU_PER_MESSAGE_US, "µs") : Goal.none());
                if (s == Scenario.API_HTTP) {
                    // "direct" here is Jetty's HttpClient alone, POSTing the same events to the same endpoint.
                    Rows c = new Rows(name, h, g, failure, rows);
                    c.add("POST/s: HttpClient alone (no gateway)", "rate", "-", Table::count, Goal.none());
                    c.add("CPU µs: HttpClient per POST vs gateway per msg", "cpu.client", "cpu.gateway",
                            Table::decimal, Goal.ratioAtMost(API_HTTP_CPU_VS_CLIENT_RATIO));
                }
                break;
            }
            case LATENCY:
                r.add("p50 µs, " + shape, "p50", "p50", Table::decimal, Goal.ratioAtMost(LATENCY_P50_RATIO));
                r.add("p90 µs", "p90", "p90", Table::decimal, Goal.none());
                r.add("p99 µs", "p99", "p99", Table::decimal, Goal.none());
                r.add("p99.9 µs", "p99.9", "p99.9", Table::decimal, Goal.none());
                break;
            case HANDSHAKES: {
                // The direct side never authenticates: a JWT scenario compares token-verifying gateway
                // handshakes with plain backend ones. RS256 and the JWT modes' CPU are informative.
                Goal goal = s == Scenario.HANDSHAKES ? Goal.ratioAtLeast(HANDSHAKE_RATIO)
                        : s == Scenario.HANDSHAKES_HS256 ? Goal.ratioAtLeast(HANDSHAKE_HS256_RATIO)
                        : Goal.none();
                r.add("handshakes/s, " + shape, "rate", "rate", Table::count, goal);
                r.add("CPU µs/handshake: backend vs gateway", "cpu.backend", "cpu.gateway", Table::decimal,
                        s == Scenario.HANDSHAKES ? Goal.gatewayAtMost(CPU_PER_HANDSHAKE_US, "µs") : Goal.none());
                break;
            }
            case FANOUT: {
                // Gateway only: nothing else has a management API, so the direct column stays empty.
                r.add("deliveries/s, " + shape + ", gateway only (no direct equivalent)", "rate", "rate", Table::count,
                        Goal.none());
                r.add("POST/s: POST /groups/{g}/:send", "posts", "posts", Table::count, Goal.none());
                r.add("gateway CPU µs/delivery", "cpu.gateway", "cpu.gateway", Table::decimal, Goal.none());
                r.add("gateway CPU µs/POST", "cpu.gateway.post", "cpu.gateway.post", Table::decimal, Goal.none());
                rows.add(deliveryCheck(name, "lost / duplicated deliveries, every run", samples, failure, Side.GATEWAY));
                break;
            }
            case POST_CONNECTION: {
                r.add("POST/s, " + shape + ", gateway only (no direct equivalent)", "rate", "rate", Table::count,
                        Goal.none());
                r.add("gateway CPU µs/POST", "cpu.gateway", "cpu.gateway", Table::decimal, Goal.none());
                rows.add(deliveryCheck(name, "lost / duplicated messages, every run", samples, failure, Side.GATEWAY));
                break;
            }
            default: {
                String heldD = held(d);
                String heldG = held(g);
                boolean allG = g != null && g.get("opened") == g.get("requested") && g.get("echoed") == g.get("requested");
                rows.add(new Table.Row(name, "held, then echoed, of " + connections, heldD, heldG, "-", "all",
                        failure != null ? failure : g == null ? "n/a" : allG ? "met" : "MISSED"));
                r.add("RSS KiB/conn: backend vs gateway", "rss.perconn", "rss.perconn", v -> Table.decimal(v / 1024),
                        Goal.gatewayAtMost(RSS_PER_CONNECTION_KIB, "KiB"), 1.0 / 1024);
                r.add("heap KiB/conn after GC: backend vs gateway", "heap.perconn", "heap.perconn",
                        v -> Table.decimal(v / 1024), Goal.none(), 1.0 / 1024);
            }
        }
        return rows;
    }

    /**
     * The rows of a cluster scenario: one node ({@link Side#LOCAL}) in the direct column against the cluster
     * ({@link Side#CLUSTER}) in the gateway column, each side's best run; for
     * {@link Scenario#HANDSHAKES_SHARED_LIMIT} also the cluster without the limit ({@link Side#CLUSTER_OPEN})
     * against it with the limit, and the rate limit counted in memory on one node ({@link Side#LOCAL_RATE}) against
     * it counted in the cluster's store on A ({@link Side#CLUSTER_RATE}), then A without the limit against A with it.
     */
    static List<Table.Row> clusterRows(Scenario s, int connections, List<Sample> samples, String problem) {
        Sample local = Orchestrator.best(samples, Side.LOCAL);
        Sample cluster = Orchestrator.best(samples, Side.CLUSTER);
        Sample open = Orchestrator.best(samples, Side.CLUSTER_OPEN);
        Sample localRate = Orchestrator.best(samples, Side.LOCAL_RATE);
        Sample clusterRate = Orchestrator.best(samples, Side.CLUSTER_RATE);
        String name = s.flag();
        String shape = s.shape(connections);
        List<Table.Row> rows = new ArrayList<>();
        String failure = problem;
        if (failure == null && (failed(local) || failed(cluster) || failed(open) || failed(localRate)
                || failed(clusterRate))) {
            failure = "FAILED";
        }
        if (local == null && cluster == null) {
            rows.add(new Table.Row(name, shape, "-", "-", "-", "-", failure == null ? "FAILED" : failure));
            return rows;
        }
        Rows r = new Rows(name, local, cluster, failure, rows);
        if (s == Scenario.POST_CONNECTION_CROSS) {
            r.add("POST/s, " + shape + ": to node A (local) vs to node B (forwarded to A)", "rate", "rate",
                    Table::count, Goal.none());
            r.add("POST p50 µs (sent to answered and received)", "p50", "p50", Table::decimal, Goal.none());
            r.add("POST p99 µs", "p99", "p99", Table::decimal, Goal.none());
            r.add("CPU µs/POST, node A", "cpu.gateway.post", "cpu.gateway.post", Table::decimal, Goal.none());
            r.add("CPU µs/POST, nodes A + B", "cpu.nodes.post", "cpu.nodes.post", Table::decimal, Goal.none());
            rows.add(deliveryCheck(name, "lost / duplicated messages, every run", samples, failure, Side.LOCAL,
                    Side.CLUSTER));
        } else {
            r.add("handshakes/s, " + shape + ": one node vs node A of a 2-member cluster", "rate", "rate",
                    Table::count, Goal.none());
            r.add("CPU µs/handshake: the one node vs node A", "cpu.gateway", "cpu.gateway", Table::decimal, Goal.none());
            r.add("CPU µs/handshake: the one node vs nodes A + B", "cpu.gateway", "cpu.nodes", Table::decimal,
                    Goal.none());
            Rows o = new Rows(name, open, cluster, failure, rows);
            o.add("handshakes/s on A: route without the limit vs with", "rate", "rate", Table::count, Goal.none());
            o.add("CPU µs/handshake, A + B: route without the limit vs with", "cpu.nodes", "cpu.nodes", Table::decimal,
                    Goal.none());
            Rows rate = new Rows(name, localRate, clusterRate, failure, rows);
            rate.add("handshakes/s, rate limit " + Table.count(Scenario.SHARED_RATE) + "/s per principal (burst "
                    + Table.count(Scenario.SHARED_RATE) + "): one node, in memory, vs node A, in the cluster's store",
                    "rate", "rate", Table::count, Goal.none());
            rate.add("CPU µs/handshake, rate limit: the one node vs node A", "cpu.gateway", "cpu.gateway",
                    Table::decimal, Goal.none());
            rate.add("CPU µs/handshake, rate limit: the one node vs nodes A + B", "cpu.gateway", "cpu.nodes",
                    Table::decimal, Goal.none());
            Rows openRate = new Rows(name, open, clusterRate, failure, rows);
            openRate.add("handshakes/s on A: route without the limit vs with the rate limit", "rate", "rate",
                    Table::count, Goal.none());
            openRate.add("CPU µs/handshake, A + B: route without the limit vs with the rate limit", "cpu.nodes",
                    "cpu.nodes", Table::decimal, Goal.none());
        }
        return rows;
    }

    /**
     * The row of a management scenario's delivery check: messages lost and duplicated over all its runs of these
     * sides (a message that reached a connection it was not meant for counts as duplicated); both must be zero.
     * Any failed run fails it, the best or not.
     */
    private static Table.Row deliveryCheck(String scenario, String metric, List<Sample> samples, String failure,
            Side... sides) {
        Set<Side> counted = Set.of(sides);
        double lost = 0;
        double duplicated = 0;
        boolean measured = false;
        boolean failed = false;
        for (Sample x : samples) {
            if (!counted.contains(x.side())) {
                continue;
            }
            failed |= !x.errors().isEmpty();
            if (!Double.isNaN(x.get("lost"))) {
                measured = true;
                lost += x.get("lost");
                duplicated += x.get("duplicated") + x.get("strays");
            }
        }
        String figure = measured ? Table.count(lost) + " / " + Table.count(duplicated) : "-";
        String verdict = failure != null ? failure : failed ? "FAILED" : !measured ? "n/a"
                : lost == 0 && duplicated == 0 ? "met" : "MISSED";
        return new Table.Row(scenario, metric, "-", figure, "-", "0 / 0", verdict);
    }

    private static boolean failed(Sample s) {
        return s != null && !s.errors().isEmpty();
    }

    private static String held(Sample s) {
        if (s == null) {
            return "-";
        }
        return Table.count(s.get("opened")) + " / " + Table.count(s.get("echoed"));
    }

    /** Adds rows from a direct and a gateway sample. */
    private static final class Rows {
        private final String scenario;
        private final Sample direct;
        private final Sample gateway;
        private final String failure;
        private final List<Table.Row> out;

        Rows(String scenario, Sample direct, Sample gateway, String failure, List<Table.Row> out) {
            this.scenario = scenario;
            this.direct = direct;
            this.gateway = gateway;
            this.failure = failure;
            this.out = out;
        }

        void add(String metric, String directKey, String gatewayKey, java.util.function.DoubleFunction<String> format,
                Goal goal) {
            add(metric, directKey, gatewayKey, format, goal, 1);
        }

        /** {@code scale} converts the figures into the goal's unit. */
        void add(String metric, String directKey, String gatewayKey, java.util.function.DoubleFunction<String> format,
                Goal goal, double scale) {
            double d = direct == null ? Double.NaN : direct.get(directKey);
            double g = gateway == null ? Double.NaN : gateway.get(gatewayKey);
            String verdict = failure != null && goal != Goal.none() ? failure : goal.verdict(d * scale, g * scale);
            out.add(new Table.Row(scenario, metric, format.apply(d), format.apply(g), Table.ratio(d, g), goal.label(),
                    verdict));
        }
    }

    /** The whole report: machine, method, the table, each run's figures, notes. */
    static String render(List<Table.Row> rows, List<Sample> samples, List<String> notes, String commandLine,
            Options options, String loadAtStart, String loadAtEnd) {
        StringBuilder sb = new StringBuilder();
        sb.append("## Gatehouse benchmark, ").append(Orchestrator.now()).append("\n\n");
        sb.append("- machine: ").append(Proc.field(Path.of("/proc/cpuinfo"), "model name")).append(", ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPUs (nproc), ")
                .append(Proc.field(Path.of("/proc/meminfo"), "MemTotal")).append(" memory; ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version")).append('\n');
        sb.append("- java: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version")).append("; children run with ")
                .append(String.join(" ", Orchestrator.CHILD_JVM))
                .append(options.gatewayJvmArgs.isEmpty() ? "" : "; the gateway also with " + String.join(" ", options.gatewayJvmArgs))
                .append('\n');
        sb.append("- load average (1, 5, 15 min): ").append(loadAtStart).append(" at the start, ").append(loadAtEnd)
                .append(" at the end\n");
        sb.append("- command: `").append(commandLine).append("`\n");
        sb.append("- method: warm-up ").append(options.warmup.toMillis()).append(" ms (handshake scenarios: ")
                .append(options.handshakeWarmup.toMillis()).append(" ms) then ")
                .append(options.duration.toMillis()).append(" ms measured per run; ").append(options.rounds)
                .append(" round(s) of direct then gateway, interleaved; each side's best run is shown. CPU from ")
                .append("/proc/<pid>/stat (utime+stime, ").append(Proc.clockTicksPerSecond())
                .append(" ticks/s) over the measured interval; RSS from /proc/<pid>/status after a full GC.\n\n");
        sb.append(Table.markdown(rows)).append('\n');
        sb.append("direct = straight to the backend; gateway = through Gatehouse; ratio = gateway / direct. ")
                .append("CPU and RSS rows compare the backend's own cost in the direct run with the gateway's in the ")
                .append("gateway run; \"msg\" is one echoed message (a round trip: the gateway relays two frames). ")
                .append("MB = 10^6 bytes of echoed payload.");
        if (rows.stream().anyMatch(r -> API_SCENARIOS.contains(r.scenario()))) {
            sb.append(" In api-inprocess and api-http the gateway side goes through a WebSocket API route whose ")
                    .append("$default integration replies with the message (in the gateway, or from the backend's HTTP ")
                    .append("echo); their direct side is the backend's WebSocket echo. Their \"proxy route\" row has ")
                    .append("throughput's gateway figure in its direct column, and api-http's HttpClient rows have Jetty's ")
                    .append("HttpClient POSTing the same events to the same HTTP echo without a gateway (CPU of the load ")
                    .append("generator's JVM per POST) in theirs.");
        }
        if (rows.stream().anyMatch(r -> MANAGEMENT_SCENARIOS.contains(r.scenario()))) {
            sb.append(" fanout and post-connection drive the gateway's HTTP management API, which has no direct ")
                    .append("equivalent: they run through the gateway only, and their direct column is empty. Their ")
                    .append("connections go to a WebSocket API route whose integration only tells each one its id. ")
                    .append("fanout: every connection in one group, a closed loop of POST /groups/{g}/:send, each ")
                    .append("complete once answered 202 and received by every member; a delivery is one message ")
                    .append("received by one client. post-connection: POST /@connections/{id}, each complete once ")
                    .append("answered 200 and received by its client. Lost and duplicated count over every run.");
        }
        if (rows.stream().anyMatch(r -> CLUSTER_SCENARIOS.contains(r.scenario()))) {
            sb.append(" post-connection-cross and handshakes-shared-limit run gateway nodes A and B that form one ")
                    .append("Hazelcast cluster on loopback; their direct column is one node, their gateway column the ")
                    .append("cluster. post-connection-cross: post-connection's load with the connections on A, POSTed ")
                    .append("to A itself (direct column) or to B, which forwards each through Hazelcast to A (gateway ")
                    .append("column); latency is a closed loop's, from each POST's send to its answer and delivery. ")
                    .append("handshakes-shared-limit: HS256 handshakes, one principal per worker, to a route with a ")
                    .append("per-principal connection limit on a gateway without a cluster (direct column) or on A, ")
                    .append("which counts it on the key's partition, on A or B (gateway column); its next rows ")
                    .append("compare A's route without the limit (direct column) with the limited one. Its \"rate ")
                    .append("limit\" rows do the same with a route whose per-principal rate limit (a token bucket ")
                    .append("never emptied) is counted in memory on the gateway without a cluster (direct column) or in ")
                    .append("the cluster's limiter store, an entry processor on the key's partition, on A (gateway ")
                    .append("column), then compare A's route without the limit with the rate-limited one.");
        }
        if (rows.stream().anyMatch(r -> JWT_SCENARIOS.contains(r.scenario()))) {
            sb.append(" In handshakes-hs256 and handshakes-rs256 only the gateway authenticates: it verifies a JWT ")
                    .append("(signature, iss, aud, exp) on every handshake. Their direct side is the same plain, ")
                    .append("unauthenticated backend handshake as in handshakes.");
        }
        sb.append("\n\n");
        sb.append("### Runs\n\n```\n");
        for (Sample s : samples) {
            sb.append(s.describe()).append('\n');
        }
        sb.append("```\n");
        for (String note : notes) {
            sb.append('\n').append(note).append('\n');
        }
        return sb.toString();
    }
}
