package dev.gatehouse.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;


/**
 * Runs the real harness, child JVMs included, on two cheap scenarios (one with a gateway of its own that
 * verifies a JWT); asserts that it works, never on speed.
 */
class OrchestratorTest {

    @Test
    @Timeout(60)
    void runsQuickThroughputAndJwtHandshakeScenariosEndToEndAndStopsItsChildren(@TempDir Path logs) throws Exception {
        long childrenBefore = ProcessHandle.current().children().count();
        int exit = Orchestrator.run("throughput", "handshakes-hs256", "--quick", "--connections", "10", "--duration", "1s", "--warmup", "200ms",
                "--logs", logs.toString());
        assertEquals(0, exit, () -> "exit code; logs: " + logs);
        String results = Files.readString(logs.resolve("results.md"), StandardCharsets.UTF_8);
        assertTrue(results.matches("(?s).*\\| throughput +\\| msg/s, 10×1 64 B binary +\\|.*"), results);
        assertTrue(results.contains("throughput round 1 direct: rate="), results);
        assertTrue(results.contains("throughput round 1 gateway: rate="), results);
        // Exit code 0: every handshake through the HS256 gateway carried a token that it accepted.
        assertTrue(results.matches("(?s).*\\| handshakes-hs256 +\\| handshakes/s, 10 workers, HS256 JWT \\(direct: no auth\\) +\\|.*"),
                results);
        assertTrue(results.contains("handshakes-hs256 round 1 gateway: rate="), results);
        try (var files = Files.list(logs)) {
            Path log = files.filter(f -> f.getFileName().toString().endsWith("-gateway-handshakes-hs256.log")).findFirst()
                    .orElseThrow();
            assertTrue(Files.readString(log, StandardCharsets.UTF_8).contains("--auth jwt-hs256: JwtAuthenticator[algorithms=[HS256]"));
        }
        // Every child JVM is gone once the run returns.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.current().children().count() > childrenBefore && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(childrenBefore, ProcessHandle.current().children().count());
    }

    @Test
    @Timeout(60)
    void runsQuickEchoAndHandshakeScenariosThroughTheEndpointTunnel(@TempDir Path logs) throws Exception {
        long childrenBefore = ProcessHandle.current().children().count();
        int exit = Orchestrator.run("throughput", "handshakes", "--relay", "endpoint-tunnel", "--quick", "--connections", "10",
                "--duration", "500ms", "--warmup", "200ms", "--logs", logs.toString());
        // Exit code 0: every message came back through the splice, and every handshake through it was answered 101.
        assertEquals(0, exit, () -> "exit code; logs: " + logs);
        String results = Files.readString(logs.resolve("results.md"), StandardCharsets.UTF_8);
        assertTrue(results.contains("--relay endpoint-tunnel"), results);
        assertTrue(results.contains("throughput round 1 gateway: rate="), results);
        assertTrue(results.matches("(?s).*handshakes round 1 gateway: rate=[0-9.]+ handshakes=[0-9]+ failures=0 .*"), results);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.current().children().count() > childrenBefore && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(childrenBefore, ProcessHandle.current().children().count());
    }

    @Test
    @Timeout(90)
    void runsQuickWebSocketApiScenariosWhoseRepliesCountAsEchoes(@TempDir Path logs) throws Exception {
        long childrenBefore = ProcessHandle.current().children().count();
        int exit = Orchestrator.run("throughput", "api-inprocess", "api-http", "--quick", "--connections", "10", "--duration", "1s",
                "--warmup", "200ms", "--logs", logs.toString());
        // Exit code 0: every message sent through either route came back as a reply of the right size.
        assertEquals(0, exit, () -> "exit code; logs: " + logs);
        String results = Files.readString(logs.resolve("results.md"), StandardCharsets.UTF_8);
        assertTrue(results.matches("(?s).*\\| api-inprocess +\\| msg/s, 10×1 64 B binary, in-process route +\\|.*"), results);
        assertTrue(results.matches("(?s).*\\| api-inprocess +\\| msg/s: proxy route \\(throughput\\) vs this route +\\| +[0-9,]+ \\|.*"),
                results);
        assertTrue(results.matches("(?s).*\\| api-http +\\| msg/s, 10×1 64 B binary, HTTP route +\\|.*"), results);
        assertTrue(results.matches("(?s).*\\| api-http +\\| CPU µs: HttpClient per POST vs gateway per msg +\\| +[0-9.,]+ \\|.*"),
                results);
        assertTrue(results.contains("api-inprocess round 1 gateway: rate="), results);
        assertTrue(results.contains("api-http round 1 gateway: rate="), results);
        assertTrue(results.contains("api-http round 1 http-client: rate="), results);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.current().children().count() > childrenBefore && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(childrenBefore, ProcessHandle.current().children().count());
    }

    @Test
    @Timeout(90)
    void runsQuickManagementScenariosThroughTheGatewayOnlyAndEveryMessageArrivesOnce(@TempDir Path logs) throws Exception {
        long childrenBefore = ProcessHandle.current().children().count();
        int exit = Orchestrator.run("fanout", "post-connection", "--quick", "--connections", "10", "--duration", "1s",
                "--warmup", "200ms", "--logs", logs.toString());
        // Exit code 0: every POST was answered as expected, and every message reached each of its clients once.
        assertEquals(0, exit, () -> "exit code; logs: " + logs);
        String results = Files.readString(logs.resolve("results.md"), StandardCharsets.UTF_8);
        assertTrue(results.matches("(?s).*\\| fanout +\\| deliveries/s, 10 members × 4 POSTs in flight, 64 B text, gateway only "
                + "\\(no direct equivalent\\) +\\| +- \\| +[0-9,]+ \\|.*"), results);
        assertTrue(results.matches("(?s).*\\| fanout +\\| lost / duplicated deliveries, every run +\\| +- \\| +0 / 0 \\| +- \\| "
                + "0 / 0 +\\| met +\\|.*"), results);
        assertTrue(results.matches("(?s).*\\| post-connection +\\| POST/s, 10 conns × 1 POST in flight, 64 B text, gateway only "
                + "\\(no direct equivalent\\) +\\| +- \\| +[0-9,]+ \\|.*"), results);
        assertTrue(results.matches("(?s).*\\| post-connection +\\| lost / duplicated messages, every run +\\| +- \\| +0 / 0 \\|.*"),
                results);
        assertTrue(results.contains("fanout round 1 gateway: setup.ids.seconds="), results);
        assertTrue(results.contains(" members=10 "), results);
        assertFalse(results.contains("round 1 direct"), "no direct run: " + results);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.current().children().count() > childrenBefore && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(childrenBefore, ProcessHandle.current().children().count());
    }

    @Test
    @Timeout(240)
    void runsQuickClusterScenariosOnTwoNodesAndStopsEveryNode(@TempDir Path logs) throws Exception {
        long childrenBefore = ProcessHandle.current().children().count();
        int exit = Orchestrator.run("post-connection-cross", "handshakes-shared-limit", "--quick", "--connections", "4",
                "--duration", "1s", "--warmup", "500ms", "--logs", logs.toString());
        // Exit code 0: every POST forwarded from node B reached its client on node A once, and no handshake failed.
        assertEquals(0, exit, () -> "exit code; logs: " + logs);
        String results = Files.readString(logs.resolve("results.md"), StandardCharsets.UTF_8);
        assertTrue(results.matches("(?s).*\\| post-connection-cross +\\| POST/s, 4 conns × 1 POST in flight, 64 B text: to "
                + "node A \\(local\\) vs to node B \\(forwarded to A\\) +\\| +[0-9,]+ \\| +[0-9,]+ \\|.*"), results);
        assertTrue(results.matches("(?s).*\\| post-connection-cross +\\| lost / duplicated messages, every run +\\| +- \\| "
                + "+0 / 0 \\| +- \\| 0 / 0 +\\| met +\\|.*"), results);
        assertTrue(results.contains("post-connection-cross round 1 cluster: setup.ids.seconds="), results);
        assertTrue(results.contains(" setup.directory.seconds="), "waited for B's directory: " + results);
        assertTrue(results.contains("handshakes-shared-limit round 1 local: "), results);
        assertTrue(results.contains("handshakes-shared-limit round 1 cluster-open: "), results);
        assertTrue(results.contains("handshakes-shared-limit round 1 local-rate: "), results);
        assertTrue(results.contains("handshakes-shared-limit round 1 cluster-rate: "), results);
        assertTrue(results.matches("(?s).*\\| handshakes-shared-limit +\\| handshakes/s, rate limit 1,000,000/s per "
                + "principal \\(burst 1,000,000\\): one node, in memory, vs node A, in the cluster's store +\\| +[0-9,]+ "
                + "\\| +[0-9,]+ \\|.*"), results);
        String nodeB = Files.readString(logs.resolve("04-gateway-post-connection-cross-b.log"), StandardCharsets.UTF_8);
        assertTrue(nodeB.contains("gateway: node b in cluster gatehouse-bench-"), nodeB);
        assertTrue(nodeB.contains(", 2 member(s)"), nodeB);
        assertFalse(nodeB.contains("without proper access to required Java packages"), "Hazelcast's JVM options: " + nodeB);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (ProcessHandle.current().children().count() > childrenBefore && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(childrenBefore, ProcessHandle.current().children().count());
    }

    @Test
    void makesEachNodeAMemberOfTheScenariosClusterWaitingForTheOthers() {
        assertEquals(List.of("--cluster", "c1", "--cluster-port", "5801", "--node", "b", "--cluster-members", "2"),
                Orchestrator.clusterArgs("c1", 5801, "b", 2));
    }

    @Test
    void givesTheSharedLimitNodesTheConnectionLimitAndTheRateLimit() {
        assertEquals(List.of("--max-per-principal", "10000", "--shared-rate-limit", "1000000"), Orchestrator.limitArgs());
    }
}
