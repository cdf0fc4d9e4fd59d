package dev.gatehouse.hazelcast.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Hands Hazelcast's futures over to plain ones. A stage chained on a Hazelcast future runs on Hazelcast's default
 * asynchronous executor, which is a new thread per stage when the JVM's common pool has fewer than two threads
 * (a machine or container of two CPUs or fewer); a stage chained on the future this class returns runs where it
 * completes: on the given executor.
 */
final class Stages {

    /** Runs a completion on the thread that completes the future: for short, non-blocking completions of ours. */
    static final Executor DIRECT = Runnable::run;

    private Stages() {
    }

    /** A plain future completed as {@code stage} is, on {@code executor}. */
    static <T> CompletableFuture<T> handOff(CompletionStage<T> stage, Executor executor) {
        CompletableFuture<T> out = new CompletableFuture<>();
        stage.whenCompleteAsync((v, x) -> {
            if (x != null) {
                out.completeExceptionally(unwrap(x));
            } else {
                out.complete(v);
            }
        }, executor);
        return out;
    }

    /** The cause of a {@link CompletionException}, else the throwable itself. */
    static Throwable unwrap(Throwable x) {
        return x instanceof CompletionException && x.getCause() != null ? x.getCause() : x;
    }
}
