package dev.gatehouse.hazelcast.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Changes in call order per key, keys at once, barriers alone; the stages are completed by the test. */
class OrderedWritesTest {

    private final ExecutorService thread = Executors.newSingleThreadExecutor();
    private final AtomicBoolean up = new AtomicBoolean(true);
    private final OrderedWrites writes = new OrderedWrites(thread, up::get, Duration.ofSeconds(5));
    private final List<String> started = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        thread.shutdownNow();
    }

    /** A change that records its start and completes when the test says. */
    private CompletableFuture<Void> change(String key, String name) {
        CompletableFuture<Void> applied = new CompletableFuture<>();
        writes.change(key, () -> {
            started.add(name);
            return applied;
        });
        return applied;
    }

    private void awaitStarted(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        CountDownLatch never = new CountDownLatch(1);
        while (started.size() < n) {
            assertTrue(System.nanoTime() < deadline, "only " + started + " started");
            never.await(5, TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void changesOfOneKeyRunOneAfterTheOtherAndOtherKeysMeanwhile() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        writes.barrier(() -> {
            try {
                hold.await(5, TimeUnit.SECONDS); // lets the changes below queue up as one batch
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CompletableFuture<Void> a1 = change("a", "a1");
        CompletableFuture<Void> a2 = change("a", "a2");
        CompletableFuture<Void> b1 = change("b", "b1");
        hold.countDown();

        awaitStarted(2);
        assertEquals(List.of("a1", "b1"), started, "a2 waits for a1; b1 does not");
        a1.complete(null);
        awaitStarted(3);
        assertEquals("a2", started.get(2));
        a2.complete(null);
        b1.complete(null);
    }

    @Test
    void aBarrierRunsAfterEveryEarlierChangeAndBeforeAnyLaterOne() throws Exception {
        CompletableFuture<Void> a1 = change("a", "a1");
        writes.barrier(() -> started.add("barrier"));
        CompletableFuture<Void> b1 = change("b", "b1");

        awaitStarted(1);
        assertEquals(List.of("a1"), started);
        a1.complete(null);
        awaitStarted(3);
        assertEquals(List.of("a1", "barrier", "b1"), started);
        b1.complete(null);
    }

    @Test
    void aFailedChangeDoesNotStopTheNextOfItsKey() throws Exception {
        CompletableFuture<Void> a1 = change("a", "a1");
        writes.change("a", () -> {
            throw new IllegalStateException("refused at once");
        });
        CompletableFuture<Void> a3 = change("a", "a3");
        awaitStarted(1);
        a1.completeExceptionally(new IllegalStateException("failed in the engine"));
        awaitStarted(2);
        assertEquals(List.of("a1", "a3"), started);
        a3.complete(null);
    }

    @Test
    void changesWhileTheEngineIsAwayAreDroppedAndCloseRunsTheLastTask() {
        up.set(false);
        change("a", "dropped");
        AtomicBoolean last = new AtomicBoolean();

        writes.close(() -> last.set(true));

        assertTrue(last.get(), "close waited for its last task");
        assertEquals(List.of(), started);
    }
}
