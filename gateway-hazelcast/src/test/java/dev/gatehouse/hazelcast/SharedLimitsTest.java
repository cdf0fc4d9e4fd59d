package dev.gatehouse.hazelcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.hazelcast.core.EntryView;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;

import dev.gatehouse.Policy;
import dev.gatehouse.hazelcast.internal.HazelcastLimiterStore;
import dev.gatehouse.policy.LimitKey;
import dev.gatehouse.policy.QuotaPolicy;
import dev.gatehouse.policy.RateLimitPolicy;
import dev.gatehouse.spi.LimiterStore;

/**
 * Rate limits and quotas shared by the nodes of a cluster through {@link HazelcastCluster#limiterStore()}: two
 * nodes, each a Jetty server with its own embedded member on loopback, admit exactly the budget of a limit under
 * concurrent handshakes spread over both; the store's entries carry a time to live; and a store whose engine
 * cannot answer applies its fallback and reports it.
 *
 * <p>The limiters run on a fixed clock, so that no token comes back and no window ends during a test: what is
 * admitted depends on the count alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SharedLimitsTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final InstantSource FIXED = InstantSource.fixed(Instant.parse("2031-03-04T12:00:00Z"));
    private static final LimiterStore.Bucket NO_REFILL = new LimiterStore.Bucket(10, 1e-6);

    private final String clusterName = "gatehouse-limits-" + UUID.randomUUID();
    private ClusterNode a;
    private ClusterNode b;

    @BeforeAll
    void startTwoNodes() throws Exception {
        int base = ClusterNode.freePort();
        a = node("a", base);
        b = node("b", base);
        await("both members see each other", () -> a.cluster.members() == 2 && b.cluster.members() == 2);
    }

    /** A node with {@code /rate} (10 handshakes, then none) and {@code /quota} (7 per day), both cluster-wide. */
    private ClusterNode node(String name, int base) throws Exception {
        return new ClusterNode(name, ClusterNode.loopback(clusterName, base), o -> o, cluster -> Map.of(
                "/rate", List.<Policy>of(RateLimitPolicy.builder(LimitKey.route())
                        .rate(1, Duration.ofDays(1)).burst(10)
                        .name("shared-rate").store(cluster.limiterStore()).clock(FIXED).build()),
                "/quota", List.<Policy>of(QuotaPolicy.builder(7, Duration.ofDays(1)).key(LimitKey.route())
                        .name("shared-quota").store(cluster.limiterStore()).clock(FIXED).build())));
    }

    @AfterAll
    void stopNodes() throws Exception {
        try (ClusterNode x = a; ClusterNode y = b) {
            // closes both, b first
        }
    }

    @Test
    void aRateLimitSharedByTwoNodesAdmitsExactlyItsBurstUnderConcurrentHandshakes() throws Exception {
        Map<Integer, Integer> statuses = handshakes("/rate", 40);
        assertEquals(Map.of(101, 10, 429, 30), statuses);
    }

    @Test
    void aQuotaSharedByTwoNodesAdmitsExactlyItsLimit() throws Exception {
        Map<Integer, Integer> statuses = handshakes("/quota", 20);
        assertEquals(Map.of(101, 7, 429, 13), statuses);
    }

    @Test
    void concurrentTakesFromTwoMembersTakeExactlyTheBucket() throws Exception {
        String key = "direct-" + UUID.randomUUID();
        LimiterStore.Bucket bucket = new LimiterStore.Bucket(100, 1e-6);
        Instant now = FIXED.instant();
        AtomicInteger taken = new AtomicInteger();
        runOnBothMembers(16, 50, store -> {
            if (store.tryTake(key, bucket, 1, now).allowed()) {
                taken.incrementAndGet();
            }
        });
        assertEquals(100, taken.get());
        LimiterStore.Take refused = a.cluster.limiterStore().tryTake(key, bucket, 1, now);
        assertFalse(refused.allowed());
        assertTrue(refused.retryAfter().compareTo(Duration.ofDays(1)) > 0, refused.toString());
    }

    @Test
    void concurrentIncrementsFromTwoMembersLoseNoCount() throws Exception {
        String key = "window-" + UUID.randomUUID();
        Instant now = FIXED.instant();
        Set<Long> counts = java.util.Collections.synchronizedSet(new TreeSet<>());
        runOnBothMembers(16, 25, store -> counts.add(store.increment(key, Duration.ofHours(1), now).count()));
        assertEquals(400, counts.size());
        assertEquals(400L, counts.stream().mapToLong(Long::longValue).max().orElseThrow());
        LimiterStore.Count next = b.cluster.limiterStore().increment(key, Duration.ofHours(1), now);
        assertEquals(401, next.count());
        assertEquals(Instant.parse("2031-03-04T13:00:00Z"), next.windowEnd());
    }

    @Test
    void entriesLiveUntilTheyStopMattering() {
        IMap<String, Object> map = a.cluster.instance().getMap(HazelcastLimiterStore.MAP);
        Instant now = FIXED.instant();

        String bucketKey = "ttl-bucket-" + UUID.randomUUID();
        LimiterStore.Bucket twoPerHour = new LimiterStore.Bucket(2, 2.0 / 3600);
        assertTrue(b.cluster.limiterStore().tryTake(bucketKey, twoPerHour, 1, now).allowed());
        long oneTokenBack = entry(map, bucketKey).getTtl(); // full again once one token is back: 30 min
        assertTrue(oneTokenBack > 0 && oneTokenBack <= Duration.ofMinutes(30).toMillis(), "ttl " + oneTokenBack);
        assertTrue(b.cluster.limiterStore().tryTake(bucketKey, twoPerHour, 1, now).allowed());
        long twoTokensBack = entry(map, bucketKey).getTtl(); // empty: full again in an hour
        assertTrue(twoTokensBack > oneTokenBack && twoTokensBack <= Duration.ofHours(1).toMillis(),
                "ttl " + twoTokensBack);

        String windowKey = "ttl-window-" + UUID.randomUUID();
        Instant quarterPast = Instant.parse("2031-03-04T12:15:00Z");
        b.cluster.limiterStore().increment(windowKey, Duration.ofHours(1), quarterPast);
        long windowLeft = entry(map, windowKey).getTtl(); // the window ends at 13:00
        assertTrue(windowLeft > 0 && windowLeft <= Duration.ofMinutes(45).toMillis(), "ttl " + windowLeft);
    }

    private static EntryView<String, Object> entry(IMap<String, Object> map, String key) {
        EntryView<String, Object> view = map.getEntryView(key);
        if (view == null) {
            throw new AssertionError("no entry for " + key);
        }
        return view;
    }

    @Test
    void localFallbackCountsOnThisNodeWhenTheMemberIsDown() throws Exception {
        try (Solo solo = Solo.start(HazelcastCluster.Fallback.LOCAL)) {
            LimiterStore store = solo.cluster.limiterStore();
            Instant now = FIXED.instant();
            LimiterStore.Bucket two = new LimiterStore.Bucket(2, 1e-6);
            assertTrue(store.tryTake("k", two, 1, now).allowed()); // counted by the engine, which then goes
            solo.cluster.instance().shutdown();

            assertTrue(store.tryTake("k", two, 1, now).allowed());
            assertTrue(store.tryTake("k", two, 1, now).allowed());
            assertFalse(store.tryTake("k", two, 1, now).allowed());
            assertEquals(1, store.increment("q", Duration.ofHours(1), now).count());
            assertEquals(2, store.increment("q", Duration.ofHours(1), now).count());
            assertEquals(List.of("rate/local", "rate/local", "rate/local", "quota/local", "quota/local"),
                    solo.reported());
        }
    }

    @Test
    void openFallbackAllowsWhenTheMemberIsDown() throws Exception {
        try (Solo solo = Solo.start(HazelcastCluster.Fallback.OPEN)) {
            LimiterStore store = solo.cluster.limiterStore();
            Instant now = FIXED.instant();
            LimiterStore.Bucket one = new LimiterStore.Bucket(1, 1e-6);
            assertTrue(store.tryTake("k", one, 1, now).allowed());
            assertFalse(store.tryTake("k", one, 1, now).allowed()); // the engine's answer
            solo.cluster.instance().shutdown();

            for (int i = 0; i < 3; i++) {
                assertEquals(new LimiterStore.Take(true, Duration.ZERO), store.tryTake("k", one, 1, now));
                assertEquals(1, store.increment("q", Duration.ofHours(1), now).count());
            }
            assertEquals(6, solo.reported().size());
            assertTrue(solo.reported().containsAll(List.of("rate/open", "quota/open")), solo.reported().toString());
        }
    }

    @Test
    void closedFallbackRefusesWhenTheMemberIsDown() throws Exception {
        try (Solo solo = Solo.start(HazelcastCluster.Fallback.CLOSED)) {
            LimiterStore store = solo.cluster.limiterStore();
            Instant now = FIXED.instant();
            solo.cluster.instance().shutdown();

            assertEquals(new LimiterStore.Take(false, Duration.ofSeconds(1)), store.tryTake("k", NO_REFILL, 1, now));
            LimiterStore.Count count = store.increment("q", Duration.ofHours(1), now);
            assertEquals(Long.MAX_VALUE, count.count());
            assertEquals(Instant.parse("2031-03-04T13:00:00Z"), count.windowEnd());
            assertEquals(List.of("rate/closed", "quota/closed"), solo.reported());
        }
    }

    @Test
    void aKeyWhosePartitionDoesNotAnswerInTimeFallsBackAndIsCountedByTheMetric() throws Exception {
        int base = ClusterNode.freePort();
        String key = "blocked-" + UUID.randomUUID();
        try (ClusterNode solo = new ClusterNode("solo", ClusterNode.loopback("gatehouse-solo-" + UUID.randomUUID(), base),
                o -> o.limitsFallback(HazelcastCluster.Fallback.LOCAL).limitsTimeout(Duration.ofMillis(200)),
                cluster -> Map.of())) {
            IMap<String, Object> map = solo.cluster.instance().getMap(HazelcastLimiterStore.MAP);
            Block.started = new CountDownLatch(1);
            Block.release = new CountDownLatch(1);
            CompletableFuture<Object> blocker = map.submitToKey(key, new Block()).toCompletableFuture();
            try {
                assertTrue(Block.started.await(5, TimeUnit.SECONDS), "the blocking processor started");
                LimiterStore store = solo.cluster.limiterStore();
                Instant now = FIXED.instant();
                LimiterStore.Bucket one = new LimiterStore.Bucket(1, 1e-6);
                assertTrue(store.tryTake(key, one, 1, now).allowed());   // by this node's own count
                assertFalse(store.tryTake(key, one, 1, now).allowed());
                assertEquals(2.0, solo.fallbacks("rate", "local"));
            } finally {
                Block.release.countDown();
            }
            blocker.get(5, TimeUnit.SECONDS);
        }
    }

    /** Holds its key's partition until released: a partition that does not answer. One at a time. */
    static final class Block implements EntryProcessor<String, Object, Object> {
        private static final long serialVersionUID = 1L;
        static volatile CountDownLatch started;
        static volatile CountDownLatch release;

        @Override
        public Object process(Map.Entry<String, Object> entry) {
            started.countDown();
            try {
                if (!release.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }

        @Override
        public EntryProcessor<String, Object, Object> getBackupProcessor() {
            return null;
        }
    }

    /**
     * A cluster of one member with a fallback, joined by a handler that records what fell back as
     * {@code limit/fallback}.
     */
    private static final class Solo implements AutoCloseable {
        final HazelcastCluster cluster;
        private final ConcurrentLinkedQueue<String> reported = new ConcurrentLinkedQueue<>();

        private Solo(HazelcastCluster cluster) {
            this.cluster = cluster;
            cluster.join("solo", new dev.gatehouse.spi.Cluster.Handler() {
                @Override
                public java.util.concurrent.CompletionStage<byte[]> handle(byte[] request) {
                    return CompletableFuture.failedFuture(new IllegalStateException("no requests expected"));
                }

                @Override
                public void fellBack(String limit, String fallback) {
                    reported.add(limit + "/" + fallback);
                }
            });
        }

        static Solo start(HazelcastCluster.Fallback fallback) throws Exception {
            int base = ClusterNode.freePort();
            return new Solo(HazelcastCluster.builder()
                    .embedded(ClusterNode.loopback("gatehouse-solo-" + UUID.randomUUID(), base))
                    .limitsFallback(fallback).build());
        }

        List<String> reported() {
            return List.copyOf(reported);
        }

        @Override
        public void close() {
            cluster.close();
        }
    }

    /** Runs {@code perThread} operations on each of {@code threads} threads, half on a's store and half on b's. */
    private void runOnBothMembers(int threads, int perThread, java.util.function.Consumer<LimiterStore> op)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                LimiterStore store = (t % 2 == 0 ? a : b).cluster.limiterStore();
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        op.accept(store);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Opens {@code n} handshakes to a path at once, alternating between the nodes, and counts their statuses: 101
     * for an upgrade (closed again at once), else the rejection's.
     */
    private Map<Integer, Integer> handshakes(String path, int n) throws Exception {
        List<CompletableFuture<WebSocket>> attempts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            URI uri = (i % 2 == 0 ? a : b).uri(path);
            attempts.add(HTTP.newWebSocketBuilder().buildAsync(uri, new WebSocket.Listener() { }));
        }
        Map<Integer, Integer> statuses = new java.util.TreeMap<>();
        for (CompletableFuture<WebSocket> attempt : attempts) {
            int status;
            try {
                attempt.get(10, TimeUnit.SECONDS).abort();
                status = 101;
            } catch (ExecutionException e) {
                WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
                status = refused.getResponse().statusCode();
            }
            statuses.merge(status, 1, Integer::sum);
        }
        return statuses;
    }

    /** Polls a condition that no event signals every 20 ms until it holds, failing after 20 s. */
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
