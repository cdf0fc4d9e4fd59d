package dev.gatehouse.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ReportTest {

    private static Sample sample(Scenario s, Side side, int round, double rate, double backendCpu, double gatewayCpu) {
        Sample x = new Sample(s, side, round);
        x.put("rate", rate);
        x.put("cpu.backend", backendCpu);
        x.put("cpu.gateway", gatewayCpu);
        return x;
    }

    @Test
    void reportsEachSidesBestRunAndJudgesTheTargets() {
        List<Sample> samples = List.of(
                sample(Scenario.THROUGHPUT, Side.DIRECT, 1, 40_000, 9, 0),
                sample(Scenario.THROUGHPUT, Side.GATEWAY, 1, 20_000, 9, 15),
                sample(Scenario.THROUGHPUT, Side.DIRECT, 2, 50_000, 8, 0),
                sample(Scenario.THROUGHPUT, Side.GATEWAY, 2, 32_000, 9, 12.5));
        List<Table.Row> rows = Report.rows(Scenario.THROUGHPUT, 200, samples, null, null);
        assertEquals(new Table.Row("throughput", "msg/s, 200×1 64 B binary", "50,000", "32,000", "0.64", "≥ 0.60×", "met"),
                rows.get(0));
        assertEquals(new Table.Row("throughput", "CPU µs/msg: backend vs gateway", "8.0", "12.5", "1.56", "≤ 14 µs", "met"),
                rows.get(1));
    }

    @Test
    void marksMissedTargetsAndFailedRuns() {
        Sample d = sample(Scenario.PIPELINED, Side.DIRECT, 1, 100_000, 5, 0);
        Sample g = sample(Scenario.PIPELINED, Side.GATEWAY, 1, 50_000, 5, 10);
        assertEquals("MISSED", Report.rows(Scenario.PIPELINED, 50, List.of(d, g), null, null).get(0).verdict());
        g.error("3 connections closed during the run");
        assertEquals("FAILED", Report.rows(Scenario.PIPELINED, 50, List.of(d, g), null, null).get(0).verdict());
        assertEquals("TIMEOUT after 60 s", Report.rows(Scenario.PIPELINED, 50, List.of(d), "TIMEOUT after 60 s", null).get(0).verdict());
    }

    @Test
    void judgesCpuTargetsOnTheGatewaysOwnFigure() {
        Goal goal = Goal.gatewayAtMost(14, "µs");
        assertEquals("≤ 14 µs", goal.label());
        assertEquals("met", goal.verdict(100, 14));
        assertEquals("MISSED", goal.verdict(1, 14.5));
        assertEquals("n/a", goal.verdict(1, Double.NaN));
        assertEquals("-", Goal.none().verdict(1, 2));
    }

    @Test
    void judgesJwtHandshakesAgainstPlainDirectHandshakes() {
        List<Sample> hs256 = List.of(
                sample(Scenario.HANDSHAKES_HS256, Side.DIRECT, 1, 4000, 200, 0),
                sample(Scenario.HANDSHAKES_HS256, Side.GATEWAY, 1, 3100, 200, 250));
        List<Table.Row> rows = Report.rows(Scenario.HANDSHAKES_HS256, 16, hs256, null, null);
        assertEquals(new Table.Row("handshakes-hs256", "handshakes/s, 16 workers, HS256 JWT (direct: no auth)", "4,000",
                "3,100", "0.78", "≥ 0.75×", "met"), rows.get(0));
        assertEquals("-", rows.get(1).target(), "no CPU target with a JWT");
        List<Sample> rs256 = List.of(
                sample(Scenario.HANDSHAKES_RS256, Side.DIRECT, 1, 4000, 200, 0),
                sample(Scenario.HANDSHAKES_RS256, Side.GATEWAY, 1, 1000, 200, 900));
        Table.Row rs = Report.rows(Scenario.HANDSHAKES_RS256, 16, rs256, null, null).get(0);
        assertEquals("handshakes/s, 16 workers, RS256 JWT (direct: no auth)", rs.metric());
        assertEquals("-", rs.verdict(), "RS256 is informative");
        List<Sample> plain = List.of(
                sample(Scenario.HANDSHAKES, Side.DIRECT, 1, 4000, 200, 0),
                sample(Scenario.HANDSHAKES, Side.GATEWAY, 1, 3100, 200, 110));
        List<Table.Row> plainRows = Report.rows(Scenario.HANDSHAKES, 16, plain, null, null);
        assertEquals("MISSED", plainRows.get(0).verdict(), "0.78 < 0.80");
        assertEquals("met", plainRows.get(1).verdict());
    }

    @Test
    void comparesTheInProcessRouteWithTheProxyRouteOfTheSameRun() {
        Sample proxy = sample(Scenario.THROUGHPUT, Side.GATEWAY, 1, 25_000, 9, 30);
        List<Sample> api = List.of(
                sample(Scenario.API_INPROCESS, Side.DIRECT, 1, 60_000, 12, 0),
                sample(Scenario.API_INPROCESS, Side.GATEWAY, 1, 21_000, 0, 20));
        List<Table.Row> rows = Report.rows(Scenario.API_INPROCESS, 200, api, null, proxy);
        assertEquals(new Table.Row("api-inprocess", "msg/s, 200×1 64 B binary, in-process route", "60,000", "21,000", "0.35",
                "-", "-"), rows.get(0));
        assertEquals(new Table.Row("api-inprocess", "msg/s: proxy route (throughput) vs this route", "25,000", "21,000",
                "0.84", "≥ 0.80×", "met"), rows.get(1));
        assertEquals(new Table.Row("api-inprocess", "CPU µs/msg: backend vs gateway", "12.0", "20.0", "1.67", "-", "-"),
                rows.get(2));
        assertEquals(3, rows.size());
        assertEquals("n/a", Report.rows(Scenario.API_INPROCESS, 200, api, null, null).get(1).verdict(),
                "throughput did not run");
    }

    @Test
    void judgesTheHttpRoutesCpuAgainstHttpClientsCpuPerPost() {
        Sample proxy = sample(Scenario.THROUGHPUT, Side.GATEWAY, 1, 25_000, 9, 30);
        Sample client = sample(Scenario.API_HTTP, Side.HTTP_CLIENT, 1, 15_000, 20, 0);
        client.put("cpu.client", 40);
        List<Sample> api = List.of(
                sample(Scenario.API_HTTP, Side.DIRECT, 1, 60_000, 12, 0),
                sample(Scenario.API_HTTP, Side.GATEWAY, 1, 10_000, 20, 90),
                client);
        List<Table.Row> rows = Report.rows(Scenario.API_HTTP, 200, api, null, proxy);
        assertEquals(5, rows.size());
        assertEquals("msg/s, 200×1 64 B binary, HTTP route", rows.get(0).metric());
        assertEquals(new Table.Row("api-http", "msg/s: proxy route (throughput) vs this route", "25,000", "10,000", "0.40",
                "-", "-"), rows.get(1));
        assertEquals(new Table.Row("api-http", "POST/s: HttpClient alone (no gateway)", "15,000", "-", "-", "-", "-"),
                rows.get(3));
        assertEquals(new Table.Row("api-http", "CPU µs: HttpClient per POST vs gateway per msg", "40.0", "90.0", "2.25",
                "≤ 2.00×", "MISSED"), rows.get(4));
        client.error("3 POSTs failed");
        assertEquals("FAILED", Report.rows(Scenario.API_HTTP, 200, api, null, proxy).get(4).verdict());
    }

    private static Sample push(Scenario s, int round, double rate, double posts, double cpuPerDelivery, double cpuPerPost,
            double lost, double duplicated) {
        Sample x = new Sample(s, Side.GATEWAY, round);
        x.put("rate", rate);
        x.put("posts", posts);
        x.put("cpu.gateway", cpuPerDelivery);
        x.put("cpu.gateway.post", cpuPerPost);
        x.put("lost", lost);
        x.put("duplicated", duplicated);
        x.put("strays", 0);
        return x;
    }

    @Test
    void reportsTheFanoutThroughTheGatewayOnlyWithItsDeliveriesCheckedOverEveryRun() {
        List<Sample> runs = List.of(
                push(Scenario.FANOUT, 1, 30_000, 30, 20, 20_000, 0, 0),
                push(Scenario.FANOUT, 2, 40_000, 40, 18, 18_000, 0, 0));
        List<Table.Row> rows = Report.rows(Scenario.FANOUT, 1000, runs, null, null);
        assertEquals(List.of(
                new Table.Row("fanout", "deliveries/s, 1000 members × 4 POSTs in flight, 64 B text, gateway only (no direct "
                        + "equivalent)", "-", "40,000", "-", "-", "-"),
                new Table.Row("fanout", "POST/s: POST /groups/{g}/:send", "-", "40", "-", "-", "-"),
                new Table.Row("fanout", "gateway CPU µs/delivery", "-", "18.0", "-", "-", "-"),
                new Table.Row("fanout", "gateway CPU µs/POST", "-", "18,000.0", "-", "-", "-"),
                new Table.Row("fanout", "lost / duplicated deliveries, every run", "-", "0 / 0", "-", "0 / 0", "met")),
                rows);
        // A loss in a run that is not the best still shows, and fails the scenario.
        Sample lossy = push(Scenario.FANOUT, 1, 30_000, 30, 20, 20_000, 3, 1);
        lossy.error("3 messages answered as sent never reached their client");
        Table.Row check = Report.rows(Scenario.FANOUT, 1000, List.of(lossy, runs.get(1)), null, null).get(4);
        assertEquals("3 / 1", check.gateway());
        assertEquals("FAILED", check.verdict());
    }

    @Test
    void reportsPostsToSingleConnectionsThroughTheGatewayOnly() {
        List<Table.Row> rows = Report.rows(Scenario.POST_CONNECTION, 200,
                List.of(push(Scenario.POST_CONNECTION, 1, 9_000, 9_000, 80, 80, 0, 0)), null, null);
        assertEquals(List.of(
                new Table.Row("post-connection", "POST/s, 200 conns × 1 POST in flight, 64 B text, gateway only (no direct "
                        + "equivalent)", "-", "9,000", "-", "-", "-"),
                new Table.Row("post-connection", "gateway CPU µs/POST", "-", "80.0", "-", "-", "-"),
                new Table.Row("post-connection", "lost / duplicated messages, every run", "-", "0 / 0", "-", "0 / 0", "met")),
                rows);
        assertEquals("TIMEOUT after 60 s",
                Report.rows(Scenario.POST_CONNECTION, 200, List.of(), "TIMEOUT after 60 s", null).get(0).verdict());
    }

    @Test
    void judgesLatencyAgainstTheDirectMedian() {
        Sample d = new Sample(Scenario.LATENCY, Side.DIRECT, 1);
        d.put("p50", 100);
        Sample g = new Sample(Scenario.LATENCY, Side.GATEWAY, 1);
        g.put("p50", 170);
        Table.Row p50 = Report.rows(Scenario.LATENCY, 10, List.of(d, g), null, null).get(0);
        assertEquals("1.70", p50.ratio());
        assertEquals("≤ 1.60×", p50.target());
        assertEquals("MISSED", p50.verdict());
    }

    @Test
    void judgesIdleMemoryInKibPerConnection() {
        Sample d = new Sample(Scenario.IDLE, Side.DIRECT, 1);
        Sample g = new Sample(Scenario.IDLE, Side.GATEWAY, 1);
        for (Sample s : List.of(d, g)) {
            s.put("requested", 9000);
            s.put("opened", 9000);
            s.put("echoed", 9000);
        }
        d.put("rss.perconn", 4 * 1024);
        g.put("rss.perconn", 15.5 * 1024);
        List<Table.Row> rows = Report.rows(Scenario.IDLE, 9000, List.of(d, g), null, null);
        assertEquals(new Table.Row("idle", "held, then echoed, of 9000", "9,000 / 9,000", "9,000 / 9,000", "-", "all", "met"),
                rows.get(0));
        assertEquals("15.5", rows.get(1).gateway());
        assertEquals("met", rows.get(1).verdict());
    }

    @Test
    void printsAnAlignedMarkdownTable() {
        String table = Table.markdown(List.of(
                new Table.Row("throughput", "msg/s", "50,000", "32,000", "0.64", "≥ 0.60×", "met"),
                new Table.Row("latency", "p50 µs", "95.5", "120.0", "1.26", "≤ 1.60×", "met")));
        String[] lines = table.split("\n");
        assertEquals(4, lines.length);
        assertEquals("| scenario   | metric | direct | gateway | ratio | target  | verdict |", lines[0]);
        assertEquals("|------------|--------|-------:|--------:|------:|---------|---------|", lines[1]);
        assertEquals("| throughput | msg/s  | 50,000 |  32,000 |  0.64 | ≥ 0.60× | met     |", lines[2]);
        assertTrue(lines[3].startsWith("| latency    | p50 µs |   95.5 |   120.0 |  1.26 |"));
    }

    private static Sample node(Scenario s, Side side, int round, double rate, double p50, double p99, double cpuA,
            double cpuNodes) {
        Sample x = new Sample(s, side, round);
        x.put("rate", rate);
        x.put("p50", p50);
        x.put("p99", p99);
        x.put("cpu.gateway", cpuA);
        x.put("cpu.nodes", cpuNodes);
        x.put("cpu.gateway.post", cpuA);
        x.put("cpu.nodes.post", cpuNodes);
        x.put("lost", 0);
        x.put("duplicated", 0);
        x.put("strays", 0);
        return x;
    }

    @Test
    void reportsCrossNodePostsAgainstPostsToTheNodeThatHoldsTheConnections() {
        List<Sample> runs = List.of(
                node(Scenario.POST_CONNECTION_CROSS, Side.LOCAL, 1, 9_000, 400, 2_000, 80, 90),
                node(Scenario.POST_CONNECTION_CROSS, Side.CLUSTER, 1, 3_000, 1_200, 6_000, 100, 300),
                node(Scenario.POST_CONNECTION_CROSS, Side.LOCAL, 2, 10_000, 380, 1_900, 78, 88),
                node(Scenario.POST_CONNECTION_CROSS, Side.CLUSTER, 2, 2_500, 1_500, 7_000, 110, 320));
        List<Table.Row> rows = Report.rows(Scenario.POST_CONNECTION_CROSS, 200, runs, null, null);
        String name = "post-connection-cross";
        assertEquals(List.of(
                new Table.Row(name, "POST/s, 200 conns × 1 POST in flight, 64 B text: to node A (local) vs to node B "
                        + "(forwarded to A)", "10,000", "3,000", "0.30", "-", "-"),
                new Table.Row(name, "POST p50 µs (sent to answered and received)", "380.0", "1,200.0", "3.16", "-", "-"),
                new Table.Row(name, "POST p99 µs", "1,900.0", "6,000.0", "3.16", "-", "-"),
                new Table.Row(name, "CPU µs/POST, node A", "78.0", "100.0", "1.28", "-", "-"),
                new Table.Row(name, "CPU µs/POST, nodes A + B", "88.0", "300.0", "3.41", "-", "-"),
                new Table.Row(name, "lost / duplicated messages, every run", "-", "0 / 0", "-", "0 / 0", "met")),
                rows);
        Sample lossy = node(Scenario.POST_CONNECTION_CROSS, Side.CLUSTER, 3, 1_000, 1_000, 1_000, 1, 1);
        lossy.put("lost", 2);
        lossy.error("2 messages answered as sent never reached their client");
        List<Sample> withLoss = new java.util.ArrayList<>(runs);
        withLoss.add(lossy);
        Table.Row check = Report.rows(Scenario.POST_CONNECTION_CROSS, 200, withLoss, null, null).get(5);
        assertEquals("2 / 0", check.gateway());
        assertEquals("FAILED", check.verdict());
    }

    @Test
    void reportsTheSharedLimitAgainstOneNodeAndAgainstTheClusterWithoutTheLimit() {
        List<Sample> runs = List.of(
                node(Scenario.HANDSHAKES_SHARED_LIMIT, Side.LOCAL, 1, 2_000, 0, 0, 300, Double.NaN),
                node(Scenario.HANDSHAKES_SHARED_LIMIT, Side.CLUSTER, 1, 1_500, 0, 0, 400, 500),
                node(Scenario.HANDSHAKES_SHARED_LIMIT, Side.CLUSTER_OPEN, 1, 1_800, 0, 0, 350, 400),
                node(Scenario.HANDSHAKES_SHARED_LIMIT, Side.LOCAL_RATE, 1, 1_900, 0, 0, 320, Double.NaN),
                node(Scenario.HANDSHAKES_SHARED_LIMIT, Side.CLUSTER_RATE, 1, 1_200, 0, 0, 450, 600));
        String name = "handshakes-shared-limit";
        assertEquals(List.of(
                new Table.Row(name, "handshakes/s, 16 workers, HS256 JWT each, limit 10,000 conns per principal: one node vs "
                        + "node A of a 2-member cluster", "2,000", "1,500", "0.75", "-", "-"),
                new Table.Row(name, "CPU µs/handshake: the one node vs node A", "300.0", "400.0", "1.33", "-", "-"),
                new Table.Row(name, "CPU µs/handshake: the one node vs nodes A + B", "300.0", "500.0", "1.67", "-", "-"),
                new Table.Row(name, "handshakes/s on A: route without the limit vs with", "1,800", "1,500", "0.83", "-", "-"),
                new Table.Row(name, "CPU µs/handshake, A + B: route without the limit vs with", "400.0", "500.0", "1.25",
                        "-", "-"),
                new Table.Row(name, "handshakes/s, rate limit 1,000,000/s per principal (burst 1,000,000): one node, in "
                        + "memory, vs node A, in the cluster's store", "1,900", "1,200", "0.63", "-", "-"),
                new Table.Row(name, "CPU µs/handshake, rate limit: the one node vs node A", "320.0", "450.0", "1.41", "-",
                        "-"),
                new Table.Row(name, "CPU µs/handshake, rate limit: the one node vs nodes A + B", "320.0", "600.0", "1.88",
                        "-", "-"),
                new Table.Row(name, "handshakes/s on A: route without the limit vs with the rate limit", "1,800", "1,200",
                        "0.67", "-", "-"),
                new Table.Row(name, "CPU µs/handshake, A + B: route without the limit vs with the rate limit", "400.0",
                        "600.0", "1.50", "-", "-")),
                Report.rows(Scenario.HANDSHAKES_SHARED_LIMIT, 16, runs, null, null));
        assertEquals(new Table.Row(name, "16 workers, HS256 JWT each, limit 10,000 conns per principal", "-", "-", "-", "-",
                "TIMEOUT after 300 s"), Report.rows(Scenario.HANDSHAKES_SHARED_LIMIT, 16, List.of(), "TIMEOUT after 300 s",
                        null).get(0));
    }

    @Test
    void failsTheSharedLimitsRowsWhenARateLimitedRunFailed() {
        Sample refused = node(Scenario.HANDSHAKES_SHARED_LIMIT, Side.CLUSTER_RATE, 1, 1_000, 0, 0, 450, 600);
        refused.error("12 handshakes failed");
        List<Table.Row> rows = Report.rows(Scenario.HANDSHAKES_SHARED_LIMIT, 16, List.of(
                node(Scenario.HANDSHAKES_SHARED_LIMIT, Side.LOCAL, 1, 2_000, 0, 0, 300, Double.NaN),
                node(Scenario.HANDSHAKES_SHARED_LIMIT, Side.CLUSTER, 1, 1_500, 0, 0, 400, 500),
                refused), null, null);
        assertEquals(10, rows.size());
        assertEquals("1,000", rows.get(5).gateway());
        assertEquals("-", rows.get(5).direct(), "no local-rate run");
        // No row has a goal, so the failure shows in the exit code and the runs rather than in a verdict.
        assertTrue(rows.stream().allMatch(r -> r.verdict().equals("-")));
    }
}
