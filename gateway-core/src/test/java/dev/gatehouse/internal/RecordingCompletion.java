package dev.gatehouse.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import dev.gatehouse.spi.Completion;

/** A {@link Completion} handed to the engine (the release of an inbound binary frame) that the test observes. */
final class RecordingCompletion implements Completion {

    private final CompletableFuture<Void> outcome = new CompletableFuture<>();
    private final AtomicInteger calls = new AtomicInteger();

    @Override
    public void succeeded() {
        calls.incrementAndGet();
        outcome.complete(null);
    }

    @Override
    public void failed(Throwable cause) {
        calls.incrementAndGet();
        outcome.completeExceptionally(cause);
    }

    boolean isDone() {
        return outcome.isDone();
    }

    boolean succeededOnce() {
        return calls.get() == 1 && outcome.isDone() && !outcome.isCompletedExceptionally();
    }

    int calls() {
        return calls.get();
    }
}
