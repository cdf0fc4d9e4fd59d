package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.Gateway;
import dev.gatehouse.hazelcast.HazelcastCluster;
import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.jetty.TestBackend;

/** The config file's {@code cluster} block: two runners, one cluster. */
class StandaloneClusterTest {

    private static final String KEY = "mgmt-key-0123456789";

    @TempDir
    Path dir;

    @Test
    void postOnOneRunnersManagementApiReachesAClientOfAnother() throws Exception {
        int portA = freePort();
        int portB = freePort();
        String cluster = "runner-cluster-" + portA;
        try (TestBackend backend = new TestBackend();
                Runner a = Runner.started("--config", config("a.yaml", cluster, portA, portA, portB, backend));
                Runner b = Runner.started("--config", config("b.yaml", cluster, portB, portA, portB, backend))) {
            assertTrue(a.out.contains("cluster " + cluster + ": member 127.0.0.1:" + portA + ", 1 member(s)\n"), a.out);
            assertTrue(b.out.contains("cluster " + cluster + ": member 127.0.0.1:" + portB + ", 2 member(s)\n"), b.out);
            Gateway gatewayA = server(a).gateway();
            Gateway gatewayB = server(b).gateway();

            RecordingListener events = new RecordingListener();
            a.connect("/echo", events);
            await("runner a holds the connection", () -> gatewayA.connections().count() == 1);
            String id = gatewayA.connections().list().get(0).id();
            await("runner b's directory holds " + id,
                    () -> gatewayB.connections().info(id).toCompletableFuture().join().isPresent());

            URI uri = URI.create("http://127.0.0.1:" + server(b).managementPort() + "/@connections/" + id);
            HttpResponse<String> sent = Runner.HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                    .header("X-API-Key", KEY).header("Content-Type", "text/plain")
                    .POST(HttpRequest.BodyPublishers.ofString("hello from b")).build(), HttpResponse.BodyHandlers.ofString());

            assertEquals(200, sent.statusCode(), sent.body());
            events.assertText("hello from b");
        }
    }

    @Test
    void aRouteRateLimitIsSharedByTheRunnersOfTheCluster() throws Exception {
        int portA = freePort();
        int portB = freePort();
        String cluster = "runner-limits-" + portA;
        // 3 handshakes, then one an hour: the test sees the burst only
        String limits = "    rateLimit: {permits: 1, per: 1h, burst: 3, key: route}\n";
        String fallback = "  limitsFallback: closed\n  limitsTimeout: 5s\n";
        try (TestBackend backend = new TestBackend();
                Runner a = Runner.started("--config", config("a.yaml", cluster, portA, portA, portB, backend, fallback, limits));
                Runner b = Runner.started("--config", config("b.yaml", cluster, portB, portA, portB, backend, fallback, limits))) {
            assertTrue(b.out.contains("cluster " + cluster + ": member 127.0.0.1:" + portB + ", 2 member(s)\n"), b.out);
            HazelcastCluster joined = server(a).cluster().orElseThrow();
            assertEquals(HazelcastCluster.Fallback.CLOSED, joined.limitsFallback());
            assertEquals(Duration.ofSeconds(5), joined.limitsTimeout());

            a.connect("/echo", new RecordingListener());
            b.connect("/echo", new RecordingListener());
            a.connect("/echo", new RecordingListener());

            assertEquals(429, b.refusal("/echo", Map.of()));
            assertEquals(429, a.refusal("/echo", Map.of()));
        }
    }

    @Test
    void refusesAClusterPortThatIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0);
                TestBackend backend = new TestBackend()) {
            int port = taken.getLocalPort();
            String file = config("c.yaml", "runner-taken-" + port, port, port, port, backend);
            try (Runner r = Runner.launch("--host", "127.0.0.1", "--port", "0", "--config", file)) {
                assertInstanceOf(Standalone.Exit.class, r.launch, r.out);
                assertEquals(1, r.errLines().size(), r.err);
                assertTrue(r.err.startsWith("error: cannot join cluster runner-taken-" + port + " on port " + port + ": "),
                        r.err);
            }
        }
    }

    private String config(String name, String cluster, int port, int memberA, int memberB, TestBackend backend)
            throws IOException {
        return config(name, cluster, port, memberA, memberB, backend, "", "");
    }

    /** A runner's file, with more keys (each line indented) in its cluster block and its route. */
    private String config(String name, String cluster, int port, int memberA, int memberB, TestBackend backend,
            String clusterKeys, String routeKeys) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, """
                management:
                  port: 0
                  apiKeys: [%s]
                cluster:
                  name: %s
                  port: %d
                  members: [127.0.0.1:%d, 127.0.0.1:%d]
                %sroutes:
                  - path: /echo
                    backend: %s
                %s""".formatted(KEY, cluster, port, memberA, memberB, clusterKeys, backend.url("/echo"), routeKeys),
                StandardCharsets.UTF_8);
        return file.toString();
    }

    private static StandaloneServer server(Runner r) {
        return assertInstanceOf(Standalone.Started.class, r.launch).server();
    }

    /** A port that was free a moment ago. */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Polls a condition that no event signals (another runner's view of the directory) every 20 ms, for 20 s at most. */
    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        CountDownLatch never = new CountDownLatch(1);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            never.await(20, TimeUnit.MILLISECONDS);
        }
    }
}
