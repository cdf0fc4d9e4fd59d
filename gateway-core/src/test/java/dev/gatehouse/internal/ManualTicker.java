package dev.gatehouse.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Ticker} whose time moves only when the test calls {@link #advance}: scheduled tasks then run on
 * the test's thread, each at its due time, in due order (ties in scheduling order), including tasks
 * scheduled by the tasks that run. Nothing ever runs inside {@link #schedule}.
 */
final class ManualTicker implements Ticker {

    /** An arbitrary start, so that no code can mistake a reading of 0 for "never". */
    private static final long START_NANOS = 7_000_000_000_000L;
    /** The wall time a fresh ticker reads. */
    static final Instant EPOCH = Instant.parse("2030-01-01T00:00:00Z");

    private record Task(long due, long seq, FutureTask<?> future) {
    }

    private final PriorityQueue<Task> tasks = new PriorityQueue<>(
            Comparator.comparingLong(Task::due).thenComparingLong(Task::seq)); // guarded by this
    private long nanos = START_NANOS; // the current reading; only moves forward; guarded by this
    private long scheduled;           // tasks scheduled so far, for their order; guarded by this

    @Override
    public synchronized long nanoTime() {
        return nanos;
    }

    @Override
    public synchronized Instant now() {
        return EPOCH.plusNanos(nanos - START_NANOS);
    }

    @Override
    public synchronized Future<?> schedule(Runnable task, long delay, TimeUnit unit) {
        FutureTask<?> future = new FutureTask<>(task, null);
        tasks.add(new Task(nanos + Math.max(0, unit.toNanos(delay)), scheduled++, future));
        return future;
    }

    /** Moves the time forward, running every task that falls due on the way at its due time. */
    void advance(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("duration: " + duration + " (expected: >= 0)");
        }
        long target;
        synchronized (this) {
            target = nanos + duration.toNanos();
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.due() - target > 0) {
                    nanos = target;
                    return;
                }
                tasks.poll();
                nanos = Math.max(nanos, next.due());
            }
            next.future().run(); // outside the monitor: the task takes its own locks; a cancelled task does nothing
            rethrowFailure(next.future());
        }
    }

    /** A task that threw fails the test that advanced the time, instead of vanishing as on a real timer. */
    private static void rethrowFailure(FutureTask<?> ran) {
        if (ran.isCancelled()) {
            return;
        }
        try {
            ran.get();
        } catch (ExecutionException e) {
            throw new AssertionError("a scheduled task failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Moves the time forward by {@code millis} milliseconds; see {@link #advance(Duration)}. */
    void advanceMillis(long millis) {
        advance(Duration.ofMillis(millis));
    }

    /** Tasks scheduled and neither run nor cancelled. */
    synchronized int pending() {
        return (int) tasks.stream().filter(t -> !t.future().isCancelled()).count();
    }
}
