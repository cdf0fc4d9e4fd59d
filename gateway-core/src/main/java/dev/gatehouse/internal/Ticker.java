package dev.gatehouse.internal;

import java.time.Instant;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The engine's time: a monotonic clock for deadlines, the wall clock for what is reported, and a timer that
 * runs tasks after a delay. A running gateway uses {@link SystemTicker}; engine tests use a ticker they
 * advance by hand, so that no test waits for wall time.
 *
 * <p>Thread: every method may be called from any thread, including from inside a scheduled task.
 */
interface Ticker {

    /** Monotonic nanoseconds, as {@link System#nanoTime()}: only the difference of two readings means anything. */
    long nanoTime();

    /** The wall-clock time, as {@link Instant#now()}. */
    Instant now();

    /**
     * Runs the task once, no sooner than {@code delay} from now; never inside this call. Cancelling the
     * returned future before the task starts means it never runs, and the ticker forgets it at once.
     */
    Future<?> schedule(Runnable task, long delay, TimeUnit unit);
}
