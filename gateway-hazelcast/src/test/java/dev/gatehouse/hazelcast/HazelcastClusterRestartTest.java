package dev.gatehouse.hazelcast;

import static dev.gatehouse.hazelcast.Nodes.await;
import static dev.gatehouse.hazelcast.Nodes.call;
import static dev.gatehouse.hazelcast.Nodes.idsOf;
import static dev.gatehouse.hazelcast.Nodes.knows;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;

import dev.gatehouse.Audience;
import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.hazelcast.internal.DirectoryEntry;
import dev.gatehouse.hazelcast.internal.HazelcastNode;
import dev.gatehouse.spi.Cluster;

/**
 * A node whose embedded member stops without the cluster's {@code close()}: a new member is started, and the node
 * goes on with it, its connections in the directory again. The restart waits for the test ({@code beforeRestart}),
 * so that what happens while the member is down is seen for sure.
 */
class HazelcastClusterRestartTest {

    private static final Duration BOUND = Duration.ofSeconds(30);

    private final Nodes nodes = new Nodes();

    @AfterEach
    void abortClients() {
        nodes.abortClients();
    }

    @Test
    void aRestartedMemberRegistersTheNodesConnectionsAgain() throws Exception {
        String clusterName = "gatehouse-restart-" + UUID.randomUUID();
        int base = ClusterNode.freePort();
        CountDownLatch mayRestart = new CountDownLatch(1);
        try (ClusterNode a = new ClusterNode("a", ClusterNode.loopback(clusterName, base));
                ClusterNode b = new ClusterNode("b", HazelcastCluster.builder()
                        .embedded(ClusterNode.loopback(clusterName, base))
                        .beforeRestart(() -> awaitQuietly(mayRestart)).build())) {
            await("both members see each other", BOUND, () -> a.cluster.members() == 2 && b.cluster.members() == 2);
            Nodes.Client onA = nodes.connect(a, "/api?user=ann-restart");
            Nodes.Client onB = nodes.connect(b, "/api?user=bob-restart&group=restart-room");
            await("each node knows the other's client", BOUND, () -> knows(a, onB) && knows(b, onA));
            String before = b.cluster.nodeId();
            HazelcastInstance first = b.cluster.instance();

            first.getLifecycleService().terminate();

            // While the member is down: b serves its own connections, and fails fast for the others' (503).
            HttpResponse<String> local = call(b, "POST", "/@connections/" + onB.id(), "text/plain", "while down");
            assertEquals(200, local.statusCode(), local::body);
            onB.events().assertText("while down");
            HttpResponse<String> remote = call(b, "POST", "/@connections/" + onA.id(), "text/plain", "x");
            assertEquals(503, remote.statusCode(), remote::body);
            assertEquals(String.valueOf(NodeUnreachableException.RETRY_AFTER_SECONDS),
                    remote.headers().firstValue("Retry-After").orElseThrow());
            Nodes.Client late = nodes.connect(b, "/api?user=bob-restart");

            mayRestart.countDown();

            await("b runs on a new member", BOUND, () -> b.cluster.instance() != first
                    && !b.cluster.nodeId().equals(before) && a.cluster.members() == 2);
            String after = b.cluster.nodeId();
            IMap<String, DirectoryEntry> directory = a.cluster.instance().getMap(HazelcastNode.DIRECTORY);
            await("b's connections are in the directory under its new id", BOUND, () ->
                    entryOf(directory, onB.id()).equals(after) && entryOf(directory, late.id()).equals(after));
            assertEquals(Set.of(onB.id(), late.id()), idsOf(a, Audience.user("bob-restart")));
            assertEquals(Set.of(onB.id()), idsOf(a, Audience.group("restart-room")));

            HttpResponse<String> post = call(a, "POST", "/@connections/" + onB.id(), "text/plain", "after restart");
            assertEquals(200, post.statusCode(), post::body);
            onB.events().assertText("after restart");
            HttpResponse<String> toLate = call(a, "POST", "/@connections/" + late.id(), "text/plain", "to late");
            assertEquals(200, toLate.statusCode(), toLate::body);
            late.events().assertText("to late");
            HttpResponse<String> back = call(b, "POST", "/@connections/" + onA.id(), "text/plain", "from b");
            assertEquals(200, back.statusCode(), back::body);
            onA.events().assertText("from b");
            assertNotEquals(before, after);
            assertFalse(first.getLifecycleService().isRunning());
        }
    }

    @Test
    void aRestartedMemberCountsItsSlotsAgainAndHearsTheRevocationsAgain() throws Exception {
        String clusterName = "gatehouse-restart-spi-" + UUID.randomUUID();
        int base = ClusterNode.freePort();
        CountDownLatch mayRestart = new CountDownLatch(1);
        BlockingQueue<Cluster.Revocation> heardByB = new LinkedBlockingQueue<>();
        Cluster.Handler onA = request -> CompletableFuture.completedFuture("a".getBytes(StandardCharsets.UTF_8));
        Cluster.Handler onB = new Cluster.Handler() {
            @Override
            public CompletionStage<byte[]> handle(byte[] request) {
                return CompletableFuture.completedFuture("b".getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public void revoked(Cluster.Revocation revocation) {
                heardByB.add(revocation);
            }

            @Override
            public List<Cluster.Entry> entries() {
                return List.of(new Cluster.Entry("conn-on-b", Optional.of("una"), Set.of()));
            }
        };
        // The CLOSED fallback: a take that the engine did not answer is refused, never granted by a fallback.
        try (HazelcastCluster a = HazelcastCluster.builder().embedded(ClusterNode.loopback(clusterName, base))
                        .limitsFallback(HazelcastCluster.Fallback.CLOSED).limitsTimeout(Duration.ofSeconds(10)).build();
                HazelcastCluster b = HazelcastCluster.builder().embedded(ClusterNode.loopback(clusterName, base))
                        .limitsFallback(HazelcastCluster.Fallback.CLOSED).limitsTimeout(Duration.ofSeconds(10))
                        .beforeRestart(() -> awaitQuietly(mayRestart)).build()) {
            Cluster.Node nodeA = a.join("a", onA);
            Cluster.Node nodeB = b.join("b", onB);
            await("both members see each other", BOUND, () -> nodeA.members() == 2 && nodeB.members() == 2);
            assertTrue(nodeB.acquire("una@/api", 2));
            assertTrue(nodeB.acquire("una@/api", 2));
            assertFalse(nodeA.acquire("una@/api", 2));
            Instant now = Instant.now();
            nodeA.remember(new Cluster.Revocation("una", now, now.plus(Duration.ofHours(1))));
            assertEquals("una", heardByB.poll(5, TimeUnit.SECONDS).subject());
            String before = nodeB.id();

            b.instance().getLifecycleService().terminate();
            ExecutionException down = assertThrows(ExecutionException.class, () -> nodeB.forward(nodeA.id(),
                    new byte[] {1}).toCompletableFuture().get(5, TimeUnit.SECONDS));
            assertTrue(down.getCause() instanceof NodeUnreachableException, down::toString);
            mayRestart.countDown();

            // The object the gateway holds goes on: a new id, the revocation heard again, its entry registered again.
            assertEquals("una", heardByB.poll(BOUND.toSeconds(), TimeUnit.SECONDS).subject());
            await("b's entry is in the directory under its new id", BOUND, () -> !nodeB.id().equals(before)
                    && nodeA.locate("conn-on-b").toCompletableFuture().join().equals(Optional.of(nodeB.id())));
            assertArrayEquals("a".getBytes(StandardCharsets.UTF_8),
                    nodeB.forward(nodeA.id(), new byte[] {1}).toCompletableFuture().get(5, TimeUnit.SECONDS));
            assertArrayEquals("b".getBytes(StandardCharsets.UTF_8),
                    nodeA.forward(nodeB.id(), new byte[] {1}).toCompletableFuture().get(5, TimeUnit.SECONDS));

            // b's two slots count under its new id: once b gives one back, the cluster has room for one more.
            nodeB.release("una@/api");
            await("a takes the slot b gave back", BOUND, () -> nodeA.acquire("una@/api", 2));
            assertFalse(nodeA.acquire("una@/api", 2));
        }
    }

    private static String entryOf(IMap<String, DirectoryEntry> directory, String id) {
        DirectoryEntry e = directory.get(id);
        return e == null ? "" : e.getNode();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(BOUND.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
