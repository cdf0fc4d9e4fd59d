package dev.gatehouse.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void runsEveryScenarioWithDefaultsWhenGivenNothing() {
        Options o = Options.parse();
        assertEquals(List.of(Scenario.values()), o.scenarios);
        assertEquals(Duration.ofSeconds(5), o.duration);
        assertEquals(Duration.ofSeconds(2), o.warmup);
        assertEquals(Duration.ofSeconds(2), o.warmup(Scenario.PIPELINED));
        assertEquals(Duration.ofSeconds(10), o.warmup(Scenario.HANDSHAKES_HS256));
        assertEquals(2, o.rounds);
        assertEquals(Duration.ofSeconds(10), o.hold);
        assertEquals(9000, o.connections(Scenario.IDLE));
        assertEquals(200, o.connections(Scenario.THROUGHPUT));
        assertFalse(o.quick);
    }

    @Test
    void keepsScenariosInTheOrderGivenWithoutDuplicates() {
        Options o = Options.parse("latency", "throughput", "latency");
        assertEquals(List.of(Scenario.LATENCY, Scenario.THROUGHPUT), o.scenarios);
    }

    @Test
    void quickShortensEverythingUnlessOverridden() {
        Options o = Options.parse("--quick", "--duration", "3s", "idle");
        assertEquals(Duration.ofSeconds(3), o.duration);
        assertEquals(Duration.ofMillis(500), o.warmup);
        assertEquals(Duration.ofMillis(500), o.warmup(Scenario.HANDSHAKES));
        assertEquals(1, o.rounds);
        assertEquals(1000, o.connections(Scenario.IDLE));
        assertTrue(o.quick);
    }

    @Test
    void connectionsOverrideEveryScenario() {
        Options o = Options.parse("--connections", "10", "all");
        assertEquals(10, o.connections(Scenario.THROUGHPUT));
        assertEquals(10, o.connections(Scenario.IDLE));
        assertEquals(10, o.connections(Scenario.HANDSHAKES));
    }

    @Test
    void runsTheJwtHandshakesRightAfterThePlainOnes() {
        List<Scenario> all = Options.parse("all").scenarios;
        int plain = all.indexOf(Scenario.HANDSHAKES);
        assertEquals(List.of(Scenario.HANDSHAKES, Scenario.HANDSHAKES_HS256, Scenario.HANDSHAKES_RS256),
                all.subList(plain, plain + 3));
        assertEquals(Auth.NONE, Scenario.HANDSHAKES.auth());
        assertEquals(Auth.JWT_HS256, Scenario.parse("handshakes-hs256").auth());
        assertEquals(Auth.JWT_RS256, Scenario.parse("handshakes-rs256").auth());
        assertEquals(16, Options.parse("handshakes-rs256").connections(Scenario.HANDSHAKES_RS256));
    }

    @Test
    void runsTheWebSocketApiScenariosRightAfterThroughputWithItsShape() {
        List<Scenario> all = Options.parse("all").scenarios;
        int text = all.indexOf(Scenario.THROUGHPUT_TEXT);
        assertEquals(List.of(Scenario.THROUGHPUT, Scenario.THROUGHPUT_TEXT, Scenario.API_INPROCESS, Scenario.API_HTTP),
                all.subList(text - 1, text + 3));
        Options o = Options.parse("throughput", "api-inprocess", "api-http");
        for (Scenario api : List.of(Scenario.API_INPROCESS, Scenario.API_HTTP)) {
            assertEquals(Scenario.Kind.ECHO, api.kind());
            assertEquals(o.connections(Scenario.THROUGHPUT), o.connections(api));
            assertEquals(Scenario.THROUGHPUT.inFlight(), api.inFlight());
            assertEquals(Scenario.THROUGHPUT.size(), api.size());
            assertEquals(Scenario.THROUGHPUT.text(), api.text());
            assertEquals(Auth.NONE, api.auth());
            assertTrue(api.webSocketApi());
        }
        assertFalse(Scenario.THROUGHPUT.webSocketApi());
        assertEquals("200×1 64 B binary, in-process route", Scenario.API_INPROCESS.shape(200));
        assertEquals("200×1 64 B binary, HTTP route", Scenario.API_HTTP.shape(200));
    }

    @Test
    void runsTheHttpClientAfterTheGatewayInEachApiHttpRound() {
        assertEquals(List.of(Side.DIRECT, Side.GATEWAY, Side.HTTP_CLIENT), Scenario.API_HTTP.sides());
        assertEquals(List.of(Side.DIRECT, Side.GATEWAY), Scenario.API_INPROCESS.sides());
        assertEquals(List.of(Side.DIRECT, Side.GATEWAY), Scenario.THROUGHPUT.sides());
        assertEquals("http-client", Side.HTTP_CLIENT.toString());
    }

    @Test
    void aReferenceRelayLeavesOutTheWebSocketApiScenarios() {
        List<Scenario> all = Options.parse("--relay", "jetty-frames").scenarios;
        assertFalse(all.contains(Scenario.API_INPROCESS));
        assertFalse(all.contains(Scenario.API_HTTP));
        assertEquals(Scenario.values().length - 6, all.size(),
                "api-inprocess, api-http, fanout, post-connection, post-connection-cross, handshakes-shared-limit");
        assertEquals("api-http: needs --relay gatehouse (a reference relay has no WebSocket API routes)",
                assertThrows(UsageException.class, () -> Options.parse("api-http", "--relay", "jetty-listener")).getMessage());
        assertEquals(List.of(Scenario.THROUGHPUT, Scenario.API_INPROCESS), Options.parse("throughput", "api-inprocess").scenarios);
    }

    @Test
    void aReferenceRelayLeavesOutTheManagementScenarios() {
        List<Scenario> all = Options.parse("all", "--relay", "jetty-listener").scenarios;
        assertFalse(all.contains(Scenario.FANOUT));
        assertFalse(all.contains(Scenario.POST_CONNECTION));
        assertEquals("fanout: needs --relay gatehouse (a reference relay has no management API)",
                assertThrows(UsageException.class, () -> Options.parse("fanout", "--relay", "jetty-frames")).getMessage());
        assertEquals("post-connection: needs --relay gatehouse (a reference relay has no management API)",
                assertThrows(UsageException.class, () -> Options.parse("--relay", "jetty-frames", "post-connection"))
                        .getMessage());
    }

    @Test
    void runsTheManagementScenariosThroughTheGatewayOnlyJustBeforeIdle() {
        List<Scenario> all = Options.parse("all").scenarios;
        int fanout = all.indexOf(Scenario.FANOUT);
        assertEquals(List.of(Scenario.HANDSHAKES_RS256, Scenario.FANOUT, Scenario.POST_CONNECTION, Scenario.IDLE),
                all.subList(fanout - 1, fanout + 3));
        for (Scenario s : List.of(Scenario.FANOUT, Scenario.POST_CONNECTION)) {
            assertEquals(List.of(Side.GATEWAY), s.sides(), "nothing else has a management API");
            assertEquals(GatewayRole.PUSH_PATH, s.gatewayPath());
            assertTrue(s.management());
            assertTrue(s.gatehouseOnly());
            assertFalse(s.webSocketApi());
            assertTrue(s.text());
            assertEquals(64, s.size());
        }
        assertEquals(Scenario.Kind.FANOUT, Scenario.parse("fanout").kind());
        assertEquals(Scenario.Kind.POST_CONNECTION, Scenario.parse("post-connection").kind());
        Options o = Options.parse("fanout", "post-connection");
        assertEquals(1000, o.connections(Scenario.FANOUT));
        assertEquals(200, o.connections(Scenario.POST_CONNECTION));
        assertEquals("1000 members × 4 POSTs in flight, 64 B text", Scenario.FANOUT.shape(1000));
        assertEquals("200 conns × 1 POST in flight, 64 B text", Scenario.POST_CONNECTION.shape(200));
        assertFalse(Scenario.THROUGHPUT.management());
        assertTrue(Scenario.API_HTTP.gatehouseOnly());
    }

    @Test
    void namesAScenariosOwnRecordingAfterTheSharedOne() {
        assertEquals(Path.of("/tmp/gw-handshakes-hs256.jfr"), Orchestrator.jfrFile(Path.of("/tmp/gw.jfr"), "handshakes-hs256"));
        assertEquals(Path.of("/tmp/gw-handshakes-rs256"), Orchestrator.jfrFile(Path.of("/tmp/gw"), "handshakes-rs256"));
    }

    @Test
    void anExplicitWarmupAppliesToEveryScenario() {
        Options o = Options.parse("--warmup", "3s");
        assertEquals(Duration.ofSeconds(3), o.warmup(Scenario.THROUGHPUT));
        assertEquals(Duration.ofSeconds(3), o.warmup(Scenario.HANDSHAKES));
    }

    @Test
    void runsGatehouseUnlessAReferenceRelayIsChosen() {
        assertEquals("gatehouse", Options.parse().relay);
        assertEquals("jetty-frames", Options.parse("--relay", "jetty-frames").relay);
        assertEquals("endpoint-tunnel", Options.parse("--relay", "endpoint-tunnel").relay);
    }

    @Test
    void parsesDurationsInSeveralUnits() {
        assertEquals(Duration.ofMillis(250), Args.duration("--x", "250ms"));
        assertEquals(Duration.ofMillis(1500), Args.duration("--x", "1.5s"));
        assertEquals(Duration.ofMinutes(2), Args.duration("--x", "2m"));
        assertEquals(Duration.ofSeconds(7), Args.duration("--x", "7"));
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        assertEquals("unknown option --fast", assertThrows(UsageException.class, () -> Options.parse("--fast")).getMessage());
        assertEquals("--rounds: 0 (expected: >= 1)",
                assertThrows(UsageException.class, () -> Options.parse("--rounds", "0")).getMessage());
        assertEquals("--duration: soon (expected: a duration such as 500ms, 5s or 2m)",
                assertThrows(UsageException.class, () -> Options.parse("--duration", "soon")).getMessage());
        assertEquals("--duration: 0 (expected: > 0)",
                assertThrows(UsageException.class, () -> Options.parse("--duration", "0s")).getMessage());
        assertEquals("--hold: missing value", assertThrows(UsageException.class, () -> Options.parse("--hold")).getMessage());
        assertEquals("--relay: nginx (expected one of gatehouse, jetty-listener, jetty-frames, jetty-frames-nonblocking, "
                + "endpoint-tunnel)",
                assertThrows(UsageException.class, () -> Options.parse("--relay", "nginx")).getMessage());
        assertTrue(assertThrows(UsageException.class, () -> Options.parse("bulk")).getMessage()
                .startsWith("unknown scenario bulk (expected: throughput, throughput-text,"));
    }

    @Test
    void authModesAreParsedByName() {
        assertEquals(Auth.NONE, Auth.parse("none"));
        assertEquals(Auth.JWT_HS256, Auth.parse("jwt-hs256"));
        assertEquals(Auth.JWT_RS256, Auth.parse("JWT-RS256"));
        assertEquals("--auth: jwt (expected: one of none, jwt-hs256, jwt-rs256)",
                assertThrows(UsageException.class, () -> Auth.parse("jwt")).getMessage());
    }

    @Test
    void runsTheClusterScenariosAfterIdleComparingOneNodeWithTheCluster() {
        List<Scenario> all = Options.parse("all").scenarios;
        assertEquals(List.of(Scenario.IDLE, Scenario.POST_CONNECTION_CROSS, Scenario.HANDSHAKES_SHARED_LIMIT),
                all.subList(all.size() - 3, all.size()));
        assertEquals(List.of(Scenario.POST_CONNECTION_CROSS, Scenario.HANDSHAKES_SHARED_LIMIT),
                Options.parse("post-connection-cross", "handshakes-shared-limit").scenarios);
        assertEquals(List.of(Side.LOCAL, Side.CLUSTER), Scenario.POST_CONNECTION_CROSS.sides());
        assertEquals(List.of(Side.LOCAL, Side.CLUSTER, Side.CLUSTER_OPEN, Side.LOCAL_RATE, Side.CLUSTER_RATE),
                Scenario.HANDSHAKES_SHARED_LIMIT.sides());
        assertEquals("cluster-open", Side.CLUSTER_OPEN.toString());
        assertEquals("local-rate", Side.LOCAL_RATE.toString());
        assertEquals("cluster-rate", Side.CLUSTER_RATE.toString());
        for (Scenario s : List.of(Scenario.POST_CONNECTION_CROSS, Scenario.HANDSHAKES_SHARED_LIMIT)) {
            assertTrue(s.cluster());
            assertTrue(s.gatehouseOnly());
        }
        assertFalse(Scenario.POST_CONNECTION.cluster());
        assertEquals(GatewayRole.PUSH_PATH, Scenario.POST_CONNECTION_CROSS.gatewayPath());
        assertEquals(GatewayRole.LIMITED_PATH, Scenario.HANDSHAKES_SHARED_LIMIT.gatewayPath());
        assertEquals(GatewayRole.LIMITED_PATH, Scenario.HANDSHAKES_SHARED_LIMIT.gatewayPath(Side.LOCAL));
        assertEquals(GatewayRole.LIMITED_PATH, Scenario.HANDSHAKES_SHARED_LIMIT.gatewayPath(Side.CLUSTER));
        assertEquals("/echo", Scenario.HANDSHAKES_SHARED_LIMIT.gatewayPath(Side.CLUSTER_OPEN));
        assertEquals(GatewayRole.RATE_LIMITED_PATH, Scenario.HANDSHAKES_SHARED_LIMIT.gatewayPath(Side.LOCAL_RATE));
        assertEquals(GatewayRole.RATE_LIMITED_PATH, Scenario.HANDSHAKES_SHARED_LIMIT.gatewayPath(Side.CLUSTER_RATE));
        assertEquals(GatewayRole.PUSH_PATH, Scenario.POST_CONNECTION_CROSS.gatewayPath(Side.CLUSTER));
        assertEquals(Auth.JWT_HS256, Scenario.HANDSHAKES_SHARED_LIMIT.auth());
        assertEquals("16 workers, HS256 JWT each, limit 10,000 conns per principal", Scenario.HANDSHAKES_SHARED_LIMIT.shape(16));
        assertEquals(Options.HANDSHAKE_WARMUP, Options.parse("handshakes-shared-limit").warmup(Scenario.HANDSHAKES_SHARED_LIMIT));
        assertEquals("handshakes-shared-limit: needs --relay gatehouse (a reference relay has no cluster)",
                assertThrows(UsageException.class, () -> Options.parse("handshakes-shared-limit", "--relay", "jetty-frames"))
                        .getMessage());
    }
}
