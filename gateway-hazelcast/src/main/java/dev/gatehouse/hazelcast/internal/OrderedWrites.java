package dev.gatehouse.hazelcast.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.core.HazelcastInstanceNotActiveException;

/**
 * The changes a node makes to the engine, off its callers' threads, which never wait: the directory's entries,
 * the connection slots it gives back. Changes of one key run in call order, one after the other; changes of
 * different keys run at once, as a batch of asynchronous operations, so that the engine's round trips do not add
 * up. A task without a key (a barrier: a purge, a new incarnation) runs alone, after every change submitted
 * before it and before every change submitted after it.
 *
 * <p>While the engine is away ({@code up} false) keyed changes are dropped: the node registers its connections
 * again when it is back. A change that fails is logged and the next one of its key runs all the same.
 */
final class OrderedWrites {

    /** A change to the engine: starts an asynchronous operation, whose stage completes once it was applied. */
    @FunctionalInterface
    interface Change {
        CompletionStage<?> start();
    }

    /** The most changes in flight at once. */
    static final int MAX_BATCH = 1024;

    private static final Logger LOG = LoggerFactory.getLogger(OrderedWrites.class);

    private record Keyed(String key, Change change) {
    }

    private final Executor thread;   // one thread
    private final BooleanSupplier up; // whether the engine can be used
    private final Duration timeout;  // the most a batch is waited for
    private final ConcurrentLinkedQueue<Object> pending = new ConcurrentLinkedQueue<>(); // Keyed or Runnable, in call order
    private final AtomicBoolean scheduled = new AtomicBoolean(); // a drain is submitted or running

    OrderedWrites(Executor thread, BooleanSupplier up, Duration timeout) {
        this.thread = requireNonNull(thread, "thread");
        this.up = requireNonNull(up, "up");
        this.timeout = requireNonNull(timeout, "timeout");
    }

    /** Applies a change of a key after the earlier ones of that key. */
    void change(String key, Change change) {
        pending.add(new Keyed(requireNonNull(key, "key"), requireNonNull(change, "change")));
        schedule();
    }

    /** Runs a task on the writes' thread once every earlier change was applied, before any later one starts. */
    void barrier(Runnable task) {
        pending.add(requireNonNull(task, "task"));
        schedule();
    }

    /** Runs a last task after every earlier change, and waits for it up to the timeout; later changes never run. */
    void close(Runnable last) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        barrier(() -> {
            try {
                last.run();
            } finally {
                done.complete(null);
            }
        });
        try {
            done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("The directory's last writes did not end within {} s", timeout.toSeconds());
        }
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                thread.execute(this::drain);
            } catch (RejectedExecutionException e) {
                scheduled.set(false);
                pending.clear();
                LOG.debug("The directory is closed: its pending changes are dropped");
            }
        }
    }

    private void drain() {
        try {
            Map<String, CompletableFuture<Void>> batch = new LinkedHashMap<>();
            for (Object next; (next = pending.poll()) != null; ) {
                if (next instanceof Keyed k) {
                    if (!up.getAsBoolean()) {
                        LOG.debug("A change to the engine is dropped while it is away: the node registers again later");
                        continue;
                    }
                    CompletableFuture<Void> before = batch.get(k.key());
                    batch.put(k.key(), before == null ? start(k) : before.thenCompose(v -> start(k)));
                    if (batch.size() >= MAX_BATCH) {
                        await(batch);
                    }
                } else {
                    await(batch);
                    run((Runnable) next);
                }
            }
            await(batch);
        } finally {
            scheduled.set(false);
            if (!pending.isEmpty()) {
                schedule();
            }
        }
    }

    /** Starts a change; its stage never fails (a failure is logged). */
    private static CompletableFuture<Void> start(Keyed k) {
        try {
            return Stages.handOff(k.change().start(), Stages.DIRECT).handle((v, x) -> {
                if (x != null) {
                    failed(k.key(), x);
                }
                return null;
            });
        } catch (RuntimeException e) {
            failed(k.key(), e);
            return CompletableFuture.completedFuture(null);
        }
    }

    private static void failed(String key, Throwable x) {
        Throwable cause = x instanceof java.util.concurrent.CompletionException && x.getCause() != null ? x.getCause() : x;
        if (cause instanceof HazelcastInstanceNotActiveException) {
            LOG.debug("A change of {} was dropped: the engine stopped", key);
        } else {
            LOG.warn("A change of {} to the engine failed: {}", key, cause.toString());
        }
    }

    /** Waits for a batch, up to the timeout; it is then forgotten (late changes still apply in the engine). */
    private void await(Map<String, CompletableFuture<Void>> batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(batch.values().toArray(new CompletableFuture<?>[0]))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("A batch of changes to the engine failed", e); // never: each change's stage is handled
        } catch (TimeoutException e) {
            LOG.warn("{} change(s) to the engine were not applied within {} s; going on", batch.size(),
                    timeout.toSeconds());
        }
        batch.clear();
    }

    private static void run(Runnable task) {
        try {
            task.run();
        } catch (HazelcastInstanceNotActiveException e) {
            LOG.debug("A task on the engine was dropped: the engine stopped", e);
        } catch (RuntimeException e) {
            LOG.warn("A task on the engine failed", e);
        }
    }
}
