package dev.gatehouse.routing;

import java.util.concurrent.CompletionStage;

/**
 * In-process code behind a route key: receives the typed event and answers with a {@link Reply}.
 *
 * <pre>{@code
 * IntegrationHandler echo = event -> CompletableFuture.completedFuture(
 *         event.body().map(Reply::send).orElse(Reply.none()));
 * }</pre>
 *
 * <p>Threading: called on a thread of the adapter's pool, never on a selector thread, for one event of a
 * connection at a time (the next message of the connection is read only once the stage completed); it may
 * block briefly, or return at once and complete the stage later. An exception, a {@code null} stage or a
 * stage completed exceptionally is answered like an HTTP integration's 500.
 */
@FunctionalInterface
public interface IntegrationHandler {

    /**
     * Handles one event.
     *
     * @return the answer; for {@link RouteEvent.Type#CONNECT} {@link Reply#none()} or {@link Reply#accept}
     *         admits the client and {@link Reply#refuse} refuses it; for messages {@link Reply#none()},
     *         {@link Reply#send} or {@link Reply#close}; for {@link RouteEvent.Type#DISCONNECT} it is ignored
     */
    CompletionStage<Reply> handle(RouteEvent event);
}
