package dev.gatehouse.internal;

import java.net.URI;
import java.util.concurrent.CompletionStage;

import dev.gatehouse.balance.HealthCheck;

/** Runs one active health probe of a backend target; implemented by an adapter, which gives it to {@link DefaultGateway#startHealthChecks}. */
@FunctionalInterface
public interface HealthProber {

    /**
     * Probes a target once, as the check's {@link HealthCheck#kind() kind} says: a WebSocket upgrade to a
     * {@code ws://} or {@code wss://} URI (up on a 101, after which the prober closes the connection), or an
     * HTTP GET of an {@code http://} or {@code https://} URI (up on a 2xx). The stage completes with
     * {@code true} when the target is up, {@code false} or exceptionally when it is not, within the check's
     * {@link HealthCheck#timeout() timeout} (the engine counts a later answer as a failure and ignores it).
     * Called on the gateway's timer thread; it must not block.
     */
    CompletionStage<Boolean> probe(URI target, HealthCheck check);
}
