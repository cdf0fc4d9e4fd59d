package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;

/** {@code $disconnect} calls wait their turn instead of overflowing the integrations' limits. */
class DisconnectQueueTest {

    private static RouteEvent disconnect(int n) {
        Handshake h = Handshake.builder("req-" + n, "/api").remoteAddress(new InetSocketAddress("203.0.113.7", 1000 + n)).build();
        return new RouteEvent(RouteEvent.Type.DISCONNECT, "$disconnect", "c-" + n, "req-" + n, Optional.empty(),
                Instant.EPOCH, Instant.EPOCH, h, Optional.empty(), Optional.of(CloseStatus.of(1001, "drain")));
    }

    @Test
    void aMassDisconnectCallsEveryIntegrationOnceWithABoundedNumberInFlight() {
        Integrations integrations = new Integrations(new ManualTicker(), 2);
        integrations.useExecutor(Runnable::run);
        List<CompletableFuture<Reply>> started = new CopyOnWriteArrayList<>();
        List<String> called = new CopyOnWriteArrayList<>();
        Integration handler = Integration.of(e -> {
            called.add(e.connectionId());
            CompletableFuture<Reply> answer = new CompletableFuture<>();
            started.add(answer);
            return answer;
        });

        List<CompletionStage<Reply>> results = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            results.add(integrations.invokeDisconnect(handler, disconnect(i), Duration.ofSeconds(29)));
        }
        assertEquals(2, started.size(), "two in flight, three waiting");

        for (int i = 0; i < 5; i++) {
            started.get(i).complete(Reply.none());
        }

        assertEquals(List.of("c-0", "c-1", "c-2", "c-3", "c-4"), called, "each once, in order");
        assertTrue(results.stream().allMatch(r -> r.toCompletableFuture().isDone()));
    }

    @Test
    void tenThousandCallsThatFailAtOnceDoNotDeepenTheStack() {
        Integrations integrations = new Integrations(new ManualTicker(), 1);
        integrations.useExecutor(Runnable::run);
        Integration failing = Integration.of(e -> CompletableFuture.failedFuture(new IllegalStateException("down")));
        List<CompletionStage<Reply>> results = new ArrayList<>();
        CompletableFuture<Reply> held = new CompletableFuture<>();
        // The first call holds its slot while the others queue behind it; then it lets them all go.
        results.add(integrations.invokeDisconnect(Integration.of(e -> held), disconnect(0), Duration.ofSeconds(29)));
        for (int i = 1; i < 10_000; i++) {
            results.add(integrations.invokeDisconnect(failing, disconnect(i), Duration.ofSeconds(29)));
        }

        held.complete(Reply.none());

        assertTrue(results.stream().allMatch(r -> r.toCompletableFuture().isDone()));
    }

    @Test
    void aFailedCallMakesRoomForTheNext() {
        Integrations integrations = new Integrations(new ManualTicker(), 1);
        integrations.useExecutor(Runnable::run);
        List<String> called = new CopyOnWriteArrayList<>();
        Integration failing = Integration.of(e -> {
            called.add(e.connectionId());
            return CompletableFuture.failedFuture(new IllegalStateException("down"));
        });

        CompletionStage<Reply> first = integrations.invokeDisconnect(failing, disconnect(0), Duration.ofSeconds(29));
        integrations.invokeDisconnect(failing, disconnect(1), Duration.ofSeconds(29));

        assertTrue(first.toCompletableFuture().isCompletedExceptionally());
        assertEquals(List.of("c-0", "c-1"), called);
    }
}
