package dev.gatehouse.hazelcast.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Serializable;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent.LifecycleState;
import com.hazelcast.instance.impl.LifecycleServiceImpl;
import com.hazelcast.map.IMap;

import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.hazelcast.HazelcastCluster;
import dev.gatehouse.spi.Cluster;

/** A node on real members on loopback: broadcasts around a slow member, merges, and what a node leaves behind. */
class HazelcastNodeTest {

    /** Holds the tasks that keep a member's executor busy (both members run in this JVM); released after each test. */
    static volatile CountDownLatch busy = new CountDownLatch(0);

    private final String name = "node-" + UUID.randomUUID();
    private final List<HazelcastInstance> members = new java.util.ArrayList<>();
    private int base;

    @AfterEach
    void stop() {
        busy.countDown();
        members.forEach(HazelcastInstance::shutdown);
    }

    private HazelcastInstance member() throws IOException {
        if (base == 0) {
            try (ServerSocket free = new ServerSocket(0)) {
                base = Math.min(free.getLocalPort(), 65_000);
            }
        }
        Config c = new Config().setClusterName(name);
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.wait.seconds.before.join", "0");
        c.getNetworkConfig().setPort(base).setPortAutoIncrement(true).setPortCount(10);
        c.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true).addMember("127.0.0.1");
        HazelcastInstance m = Hazelcast.newHazelcastInstance(c);
        members.add(m);
        return m;
    }

    private static HazelcastNode node(HazelcastInstance m, byte answer) {
        Cluster.Handler handler = request -> CompletableFuture.completedFuture(new byte[] {answer});
        return new HazelcastNode(m, false, handler, new Fallbacks(HazelcastCluster.Fallback.CLOSED, () -> null),
                Duration.ofSeconds(10));
    }

    /** A task that holds an executor thread until the test ends. */
    static final class Busy implements Callable<byte[]>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] call() throws Exception {
            busy.await(60, TimeUnit.SECONDS);
            return new byte[0];
        }
    }

    @Test
    void aBroadcastCountsTheNodesThatAnsweredAndLeavesOutOneThatDidNotInTime() throws Exception {
        HazelcastInstance a = member();
        HazelcastInstance b = member();
        await(() -> a.getCluster().getMembers().size() == 2 && b.getCluster().getMembers().size() == 2);
        HazelcastNode na = node(a, (byte) 1);
        HazelcastNode nb = node(b, (byte) 2);
        busy = new CountDownLatch(1);
        try {
            for (int i = 0; i < 16; i++) { // every thread of b's request executor
                a.getExecutorService(HazelcastNode.EXECUTOR).submitToMember(new Busy(), b.getCluster().getLocalMember());
            }

            List<byte[]> answers = na.broadcast(new byte[] {0}).toCompletableFuture().get(30, TimeUnit.SECONDS);

            assertEquals(1, answers.size(), "a's own answer, without b's");
            assertEquals(1, answers.get(0)[0]);
        } finally {
            busy.countDown();
            na.close();
            nb.close();
        }
    }

    @Test
    void aNodeWhoseMergeFailedGoesOnWithItsMember() throws Exception {
        HazelcastInstance m = member();
        HazelcastNode n = node(m, (byte) 1);
        try {
            LifecycleServiceImpl life = (LifecycleServiceImpl) m.getLifecycleService();
            life.fireLifecycleEvent(LifecycleState.MERGING);
            assertTrue(n.locate("x").toCompletableFuture().isCompletedExceptionally(), "away while merging");
            life.fireLifecycleEvent(LifecycleState.MERGE_FAILED);

            await(() -> !n.locate("x").toCompletableFuture().handle((v, x) -> x != null).join());
            assertEquals(Optional.empty(), n.locate("x").toCompletableFuture().get(10, TimeUnit.SECONDS));
        } finally {
            n.close();
        }
    }

    @Test
    void aClosedNodeLeavesNeitherEntriesNorSlotsBehindOnAMemberThatLivesOn() throws Exception {
        HazelcastInstance m = member();
        HazelcastNode first = node(m, (byte) 1);
        assertTrue(first.acquire("alice", 1));
        first.register(new Cluster.Entry("conn-1", Optional.of("alice"), Set.of()));

        first.close(); // its gateway was rebuilt; the application's member runs on

        IMap<String, DirectoryEntry> directory = m.getMap(HazelcastNode.DIRECTORY);
        assertNull(directory.get("conn-1"));
        HazelcastNode second = node(m, (byte) 1);
        try {
            assertTrue(second.acquire("alice", 1), "the closed node's slot is free");
        } finally {
            second.close();
        }
    }

    @Test
    void aNodeThatJoinsForgetsTheSlotsOfNodesThatLeftUnseen() throws Exception {
        HazelcastInstance m = member();
        IMap<String, ConnectionCounts.Slots> slots = m.getMap(ConnectionCounts.MAP);
        ConnectionCounts ghost = new ConnectionCounts(() -> slots, "ghost", Duration.ofSeconds(5),
                new Fallbacks(HazelcastCluster.Fallback.CLOSED, () -> null),
                (key, change) -> change.start().toCompletableFuture().join());
        assertTrue(ghost.acquire("bob", 1)); // then the ghost node died while no node listened

        HazelcastNode n = node(m, (byte) 1);
        try {
            await(() -> slots.get("bob") == null);
            assertTrue(n.acquire("bob", 1));
        } finally {
            n.close();
        }
    }

    @Test
    void aRevocationMadeWhileTheEngineIsAwayIsStoredOnceItIsBack() throws Exception {
        HazelcastInstance first = member();
        HazelcastNode n = node(first, (byte) 1);
        try {
            first.getLifecycleService().terminate();
            java.time.Instant now = java.time.Instant.now();
            n.remember(new Cluster.Revocation("mallory", now, now.plusSeconds(600)));

            HazelcastInstance second = member(); // the engine started again
            n.restarted(second);

            await(() -> second.getMap(RevocationStore.MAP).containsKey("mallory"));
        } finally {
            n.close();
        }
    }

    @Test
    void aClientNodeThatDoesNotAnswerInTimeIsUnreachableNotAnError() throws Exception {
        HazelcastInstance m = member();
        ClientConfig cc = new ClientConfig().setClusterName(name);
        cc.getNetworkConfig().addAddress("127.0.0.1:" + m.getCluster().getLocalMember().getAddress().getPort());
        HazelcastInstance c1 = HazelcastClient.newHazelcastClient(cc);
        HazelcastInstance c2 = HazelcastClient.newHazelcastClient(cc);
        Fallbacks fallbacks = new Fallbacks(HazelcastCluster.Fallback.CLOSED, () -> null);
        HazelcastNode x = new HazelcastNode(c1, true, r -> CompletableFuture.completedFuture(new byte[] {1}), fallbacks,
                Duration.ofSeconds(10));
        HazelcastNode y = new HazelcastNode(c2, true, r -> new CompletableFuture<>(), fallbacks, // never answers
                Duration.ofSeconds(10));
        try {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> x.forward(y.id(), new byte[] {0}).toCompletableFuture().get(30, TimeUnit.SECONDS));

            assertTrue(e.getCause() instanceof NodeUnreachableException, "503, not 500: " + e.getCause());
        } finally {
            x.close();
            y.close();
            c1.shutdown();
            c2.shutdown();
        }
    }

    /** Polls what no event signals (the engine's maps, a node's state after an event) every 10 ms, for 10 s. */
    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        CountDownLatch never = new CountDownLatch(1);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            never.await(10, TimeUnit.MILLISECONDS);
        }
    }
}
