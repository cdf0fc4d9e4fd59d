package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.gatehouse.spi.LimiterStore;
import dev.gatehouse.spi.LimiterStore.Bucket;
import dev.gatehouse.spi.LimiterStore.Count;
import dev.gatehouse.spi.LimiterStore.Take;

/** Token buckets and fixed windows in memory: atomicity, expiry of idle keys and the bound on keys. */
class InMemoryLimiterStoreTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    /** 2 tokens a second, holding up to 4. */
    private static final Bucket BUCKET = new Bucket(4, 2);

    private final InMemoryLimiterStore store = new InMemoryLimiterStore(100);

    @Test
    void newBucketIsFullAndEmptiesAfterItsCapacity() {
        for (int i = 0; i < 4; i++) {
            assertTrue(store.tryTake("k", BUCKET, 1, T0).allowed(), "take " + i);
        }
        Take refused = store.tryTake("k", BUCKET, 1, T0);

        assertFalse(refused.allowed());
        assertEquals(Duration.ofMillis(500), refused.retryAfter());
    }

    @Test
    void bucketRefillsAtItsRateUpToItsCapacity() {
        for (int i = 0; i < 4; i++) {
            store.tryTake("k", BUCKET, 1, T0);
        }

        assertTrue(store.tryTake("k", BUCKET, 1, T0.plusMillis(500)).allowed());
        assertFalse(store.tryTake("k", BUCKET, 1, T0.plusMillis(500)).allowed());
        // a long pause refills to the capacity, not beyond
        Instant later = T0.plusSeconds(60);
        for (int i = 0; i < 4; i++) {
            assertTrue(store.tryTake("k", BUCKET, 1, later).allowed(), "take " + i);
        }
        assertFalse(store.tryTake("k", BUCKET, 1, later).allowed());
    }

    @Test
    void allowedTakeHasNoRetryTime() {
        assertEquals(new Take(true, Duration.ZERO), store.tryTake("k", BUCKET, 1, T0));
    }

    @Test
    void retryTimeCoversSeveralTokens() {
        store.tryTake("k", BUCKET, 4, T0);

        assertEquals(Duration.ofMillis(1500), store.tryTake("k", BUCKET, 3, T0).retryAfter());
    }

    @Test
    void bucketsOfDifferentKeysAreIndependent() {
        store.tryTake("a", BUCKET, 4, T0);

        assertFalse(store.tryTake("a", BUCKET, 1, T0).allowed());
        assertTrue(store.tryTake("b", BUCKET, 1, T0).allowed());
    }

    @Test
    void clockGoingBackDoesNotRefill() {
        store.tryTake("k", BUCKET, 4, T0.plusSeconds(10));

        assertFalse(store.tryTake("k", BUCKET, 1, T0).allowed());
        assertFalse(store.tryTake("k", BUCKET, 1, T0.plusSeconds(10)).allowed());
    }

    @Test
    void takingMoreThanTheCapacityIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> store.tryTake("k", BUCKET, 5, T0));
        assertThrows(IllegalArgumentException.class, () -> store.tryTake("k", BUCKET, 0, T0));
    }

    @Test
    void windowCountsEventsAndEndsOnAnEpochAlignedBoundary() {
        Instant t = Instant.parse("2030-01-01T10:17:03Z");

        Count first = store.increment("q", Duration.ofHours(1), t);
        Count second = store.increment("q", Duration.ofHours(1), t.plusSeconds(60));

        assertEquals(1, first.count());
        assertEquals(2, second.count());
        assertEquals(Instant.parse("2030-01-01T11:00:00Z"), second.windowEnd());
    }

    @Test
    void nextWindowStartsCountingAgain() {
        Duration day = Duration.ofDays(1);
        store.increment("q", day, Instant.parse("2030-01-01T23:59:59Z"));
        store.increment("q", day, Instant.parse("2030-01-01T23:59:59Z"));

        Count next = store.increment("q", day, Instant.parse("2030-01-02T00:00:00Z"));

        assertEquals(1, next.count());
        assertEquals(Instant.parse("2030-01-03T00:00:00Z"), next.windowEnd());
    }

    @Test
    void fullBucketAndEndedWindowExpireAndAreSwept() {
        store.tryTake("bucket", BUCKET, 1, T0);     // full again 0.5 s later
        store.increment("window", Duration.ofSeconds(10), T0); // ends at T0 + 10 s

        store.sweep(nanos(T0.plusMillis(499)));
        assertEquals(2, store.size());
        store.sweep(nanos(T0.plusMillis(500)));
        assertEquals(1, store.size());
        store.sweep(nanos(T0.plusSeconds(10)));
        assertEquals(0, store.size());
    }

    @Test
    void laterCallsSweepIdleKeysWithoutAnyTimer() {
        for (int i = 0; i < 50; i++) {
            store.tryTake("k" + i, BUCKET, 1, T0);
        }
        assertEquals(50, store.size());

        store.tryTake("other", BUCKET, 1, T0.plusSeconds(30));

        assertEquals(1, store.size());
    }

    @Test
    void atTheBoundNewKeysAreRefusedAndKnownKeysKeepWorking() {
        InMemoryLimiterStore small = new InMemoryLimiterStore(3);
        for (String k : List.of("a", "b", "c")) {
            small.tryTake(k, BUCKET, 1, T0);
        }

        Take refused = small.tryTake("d", BUCKET, 1, T0);
        Count refusedCount = small.increment("e", Duration.ofMinutes(1), T0);

        assertFalse(refused.allowed());
        assertEquals(Duration.ofSeconds(1), refused.retryAfter());
        assertEquals(Long.MAX_VALUE, refusedCount.count());
        assertEquals(T0.plusSeconds(1), refusedCount.windowEnd());
        assertTrue(small.tryTake("a", BUCKET, 1, T0).allowed());
        assertEquals(3, small.size());
    }

    @Test
    void atTheBoundExpiredKeysMakeRoomForNewOnes() {
        InMemoryLimiterStore small = new InMemoryLimiterStore(3);
        for (String k : List.of("a", "b", "c")) {
            small.tryTake(k, BUCKET, 1, T0);
        }

        assertTrue(small.tryTake("d", BUCKET, 1, T0.plusSeconds(1)).allowed());
        assertEquals(1, small.size());
    }

    @Test
    void concurrentTakesNeverExceedTheCapacity() throws Exception {
        Bucket slow = new Bucket(1000, 0.001);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger allowed = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    start.await(5, TimeUnit.SECONDS);
                    for (int i = 0; i < 500; i++) {
                        if (store.tryTake("shared", slow, 1, T0).allowed()) {
                            allowed.incrementAndGet();
                        }
                        store.increment("counter", Duration.ofMinutes(1), T0);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertEquals(1000, allowed.get());
        assertEquals(threads * 500 + 1, store.increment("counter", Duration.ofMinutes(1), T0).count());
    }

    @Test
    void invalidArgumentsAreRejectedWithTheirName() {
        assertEquals("maxKeys: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> new InMemoryLimiterStore(0)).getMessage());
        assertEquals("capacity: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> new Bucket(0, 1)).getMessage());
        assertEquals("refillPerSecond: 0.0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> new Bucket(1, 0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.increment("k", Duration.ZERO, T0));
        assertThrows(IllegalArgumentException.class, () -> LimiterStore.inMemory(-1));
    }

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }
}
