package dev.gatehouse.hazelcast.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;

import dev.gatehouse.hazelcast.HazelcastCluster;

/** The cluster's connection slots on one real member: atomic takes, releases by id, abandoned takes, restores. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionCountsTest {

    private HazelcastInstance member;
    private IMap<String, ConnectionCounts.Slots> map;

    @BeforeAll
    void start() throws java.io.IOException {
        Config c = new Config().setClusterName("counts-" + UUID.randomUUID());
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        c.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) { // no fixed port: one that was free
            c.getNetworkConfig().setPort(Math.min(free.getLocalPort(), 65_000)).setPortAutoIncrement(true);
        }
        member = Hazelcast.newHazelcastInstance(c);
        map = member.getMap(ConnectionCounts.MAP);
    }

    @AfterAll
    void stop() {
        member.shutdown();
    }

    private ConnectionCounts counts(String node) {
        return counts(node, (key, change) -> change.start().toCompletableFuture().join());
    }

    private ConnectionCounts counts(String node, java.util.function.BiConsumer<String, OrderedWrites.Change> writes) {
        Fallbacks fallbacks = new Fallbacks(HazelcastCluster.Fallback.CLOSED, () -> null);
        return new ConnectionCounts(() -> map, node, Duration.ofSeconds(5), fallbacks, writes);
    }

    private int total(String key) {
        ConnectionCounts.Slots s = map.get(key);
        return s == null ? 0 : s.total();
    }

    @Test
    void nodesRacingForTheLastSlotsNeverTakeMoreThanTheLimit() throws Exception {
        ConnectionCounts a = counts("a");
        ConnectionCounts b = counts("b");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> takes = new java.util.ArrayList<>();
            for (int i = 0; i < 40; i++) {
                ConnectionCounts node = i % 2 == 0 ? a : b;
                takes.add(pool.submit(() -> node.acquire("race", 5)));
            }
            int taken = 0;
            for (Future<Boolean> f : takes) {
                taken += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertEquals(5, taken);
            assertEquals(5, total("race"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aReleaseGivesBackOneSlotAndTheEntryLeavesWhenEmpty() {
        ConnectionCounts a = counts("a");
        assertTrue(a.acquire("release", 2));
        assertTrue(a.acquire("release", 2));
        assertFalse(a.acquire("release", 2));

        a.release("release");
        assertEquals(1, total("release"));
        assertTrue(a.acquire("release", 2));
        a.release("release");
        a.release("release");
        a.release("release"); // one more than held: nothing

        assertNull(map.get("release"), "nothing is left under the key");
    }

    @Test
    void aSlotGivenBackCountsAsFreeForTheNextTakeBeforeTheEngineHeardOfIt() {
        List<OrderedWrites.Change> held = new java.util.ArrayList<>();
        ConnectionCounts a = counts("a", (key, change) -> held.add(change)); // the writes lag behind
        assertTrue(a.acquire("reconnect", 1));
        a.release("reconnect");

        assertTrue(a.acquire("reconnect", 1), "the client that just left may come back at once");
        assertFalse(a.acquire("reconnect", 1));
        held.forEach(c -> c.start().toCompletableFuture().join()); // the late release of the first slot: harmless
        assertEquals(1, total("reconnect"));
    }

    @Test
    void anAbandonedTakeIsGivenBackOrNeverApplies() {
        map.executeOnKey("abandon", new ConnectionCounts.Acquire("a", 1, 3, List.of()));
        map.executeOnKey("abandon", new ConnectionCounts.Abandon("a", 1));
        assertNull(map.get("abandon"), "a take that ran is given back");

        map.executeOnKey("late", new ConnectionCounts.Abandon("a", 7));
        assertFalse(map.executeOnKey("late", new ConnectionCounts.Acquire("a", 7, 3, List.of())), "a take after its abandon");
        assertEquals(0, total("late"));
        assertTrue(map.executeOnKey("late", new ConnectionCounts.Acquire("a", 8, 3, List.of())), "another take still works");
        assertEquals(1, total("late"));
    }

    @Test
    void aGoneNodesSlotsAreForgottenAndARestartedNodeCountsItsSlotsAgain() {
        ConnectionCounts a = counts("node-a");
        ConnectionCounts b = counts("node-b");
        assertTrue(a.acquire("forget", 3));
        assertTrue(a.acquire("forget", 3));
        assertTrue(b.acquire("forget", 3));

        b.forget("node-a");
        assertEquals(1, total("forget"));

        a.restore("node-a2"); // its member came back under a new id
        assertEquals(3, total("forget"));
        assertFalse(b.acquire("forget", 3));
        a.release("forget");
        assertEquals(2, total("forget"), "the release goes to the new id");
    }
}
