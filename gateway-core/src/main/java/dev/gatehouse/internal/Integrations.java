package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;
import dev.gatehouse.spi.GatewayListener;

/**
 * Calls a gateway's integrations: in-process handlers on the adapter's executor, HTTP endpoints through the
 * adapter's client, each bounded by its route's integration timeout; and decides a WebSocket API
 * connection's {@code $connect}. Thread-safe.
 */
public final class Integrations {

    private static final Logger LOG = LoggerFactory.getLogger(Integrations.class);

    private final Ticker ticker;
    private final DefaultGateway gateway; // whose listeners and access log hear of calls; null in unit tests
    private volatile Executor executor = ForkJoinPool.commonPool(); // where in-process handlers run; the adapter's pool once mounted
    private volatile HttpCaller http;                              // null until an adapter that can make HTTP calls is mounted
    private final LongAdder disconnectFailures = new LongAdder();  // $disconnect calls that failed, since start

    /** Makes the HTTP calls of HTTP integrations; implemented by an adapter. */
    public interface HttpCaller {
        /**
         * Calls the integration with the event; the stage completes with its answer, or exceptionally: with a
         * {@link TimeoutException} when no answer came within {@code timeout}, an {@link java.io.IOException}
         * when the integration cannot be reached, an {@link IntegrationAnswerException} when its answer cannot
         * be used, a {@link RejectedExecutionException} when too many calls to it are in progress. Called from
         * any thread; it must not block.
         */
        CompletionStage<Reply> call(Integration.Http integration, RouteEvent event, Duration timeout);
    }

    /** What {@code $connect} decided. */
    public sealed interface Connect {
        /**
         * The client is admitted.
         *
         * @param subprotocol the subprotocol to answer it with, or null for none
         * @param user        the connection's user, or null for the principal's subject
         * @param groups      the groups it joins
         */
        record Accepted(String subprotocol, String user, List<String> groups) implements Connect {
        }

        /**
         * The client is refused.
         *
         * @param reject      the status and kind
         * @param body        the integration's own body to answer with (at most 8 KiB), or null for the gateway's
         * @param contentType the body's content type; null with the gateway's
         */
        record Refused(Verdict.Reject reject, String body, String contentType) implements Connect {
        }
    }

    /** The most of a refusing {@code $connect}'s body that reaches the client. */
    static final int MAX_REFUSAL_BODY = 8 * 1024;

    /**
     * The most {@code $disconnect} calls in flight at once, gateway-wide; the rest wait their turn, so that a
     * drain or a mass disconnect does not overflow the integrations' own call limits (each connection
     * queues at most one, so the queue is bounded by the connection count).
     */
    static final int MAX_DISCONNECTS_IN_FLIGHT = 32;

    private final int maxDisconnects;
    private final Object disconnectLock = new Object();
    private final ArrayDeque<Runnable> waitingDisconnects = new ArrayDeque<>(); // guarded by disconnectLock
    private int disconnectsInFlight;                                           // guarded by disconnectLock
    private boolean startingDisconnects;                                       // a thread is starting waiting calls; guarded by disconnectLock

    Integrations(Ticker ticker, DefaultGateway gateway) {
        this(ticker, MAX_DISCONNECTS_IN_FLIGHT, gateway);
    }

    Integrations(Ticker ticker, int maxDisconnects) {
        this(ticker, maxDisconnects, null);
    }

    private Integrations(Ticker ticker, int maxDisconnects, DefaultGateway gateway) {
        this.ticker = requireNonNull(ticker, "ticker");
        this.maxDisconnects = maxDisconnects;
        this.gateway = gateway;
    }

    /** Calls an integration of a route, as {@link #invoke(Integration, RouteEvent, Duration)}, observed. */
    CompletionStage<Reply> invoke(Route route, Integration integration, RouteEvent event, Duration timeout) {
        long start = ticker.nanoTime();
        CompletionStage<Reply> stage;
        try {
            stage = invoke(integration, event, timeout);
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        return observed(route, event, start, stage);
    }

    /** Calls a route's {@code $disconnect}, as {@link #invokeDisconnect(Integration, RouteEvent, Duration)}, observed. */
    CompletionStage<Reply> invokeDisconnect(Route route, Integration integration, RouteEvent event, Duration timeout) {
        return invokeDisconnect(integration, event, timeout, () -> invoke(route, integration, event, timeout));
    }

    /**
     * Tells the listeners how a call ended, and writes its access-log line when it routed a message and the
     * gateway logs messages. Nothing is done, and nothing allocated, when neither is asked for.
     */
    private CompletionStage<Reply> observed(Route route, RouteEvent event, long start, CompletionStage<Reply> stage) {
        Listeners listeners = gateway == null ? null : gateway.observers();
        boolean log = gateway != null && gateway.logMessages() && event.type() == RouteEvent.Type.MESSAGE;
        if (listeners == null && !log) {
            return stage;
        }
        return stage.whenComplete((reply, failure) -> {
            long nanos = Math.max(0, ticker.nanoTime() - start);
            int status = failure == null ? (reply instanceof Reply.Refuse r ? r.status() : 200) : status(failure);
            try (Mdc mdc = Mdc.of(event.connectionId(), route.path())) {
                if (log) {
                    AccessLog.LOGGER.info(AccessLog.message(gateway.node(), event.connectionId(), event.requestId(),
                            event.messageId().orElse(null), route.path(), event.routeKey(), status, nanos / 1_000_000,
                            event.handshake().header(TraceContext.HEADER).orElse(null)));
                }
                if (listeners != null) {
                    listeners.integrationCalled(new GatewayListener.IntegrationEvent(event.connectionId(), route,
                            event.routeKey(), status, failure != null, Duration.ofNanos(nanos)));
                }
            }
        });
    }

    /** The status that stands for a failed call; see {@link GatewayListener.IntegrationEvent#status()}. */
    static int status(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof TimeoutException) {
            return 504;
        }
        if (cause instanceof IntegrationAnswerException answer) {
            return answer.status() > 0 ? answer.status() : 502;
        }
        if (cause instanceof java.io.IOException) {
            return 502;
        }
        if (cause instanceof RejectedExecutionException) {
            return 503;
        }
        return 500;
    }

    /**
     * Calls a {@code $disconnect} integration once fewer than {@link #MAX_DISCONNECTS_IN_FLIGHT} are in
     * flight; the stage completes as {@link #invoke}'s, whose timeout starts when the call does.
     */
    CompletionStage<Reply> invokeDisconnect(Integration integration, RouteEvent event, Duration timeout) {
        return invokeDisconnect(integration, event, timeout, () -> invoke(integration, event, timeout));
    }

    private CompletionStage<Reply> invokeDisconnect(Integration integration, RouteEvent event, Duration timeout,
            java.util.function.Supplier<CompletionStage<Reply>> invocation) {
        CompletableFuture<Reply> result = new CompletableFuture<>();
        Runnable call = () -> {
            CompletionStage<Reply> stage;
            try {
                stage = invocation.get();
            } catch (RuntimeException e) {
                stage = CompletableFuture.failedFuture(e);
            }
            stage.whenComplete((reply, failure) -> {
                synchronized (disconnectLock) {
                    disconnectsInFlight--;
                }
                startWaitingDisconnects();
                if (failure != null) {
                    result.completeExceptionally(failure);
                } else {
                    result.complete(reply);
                }
            });
        };
        synchronized (disconnectLock) {
            waitingDisconnects.add(call);
        }
        startWaitingDisconnects();
        return result;
    }

    /**
     * Starts waiting calls while there is room, on one thread at a time: a call that completes at once, inside
     * {@code run()}, only makes room for this loop to use, so a long queue never deepens the stack.
     */
    private void startWaitingDisconnects() {
        synchronized (disconnectLock) {
            if (startingDisconnects) {
                return;
            }
            startingDisconnects = true;
        }
        try {
            while (true) {
                Runnable next;
                synchronized (disconnectLock) {
                    if (disconnectsInFlight >= maxDisconnects || waitingDisconnects.isEmpty()) {
                        startingDisconnects = false;
                        return;
                    }
                    disconnectsInFlight++;
                    next = waitingDisconnects.poll();
                }
                next.run();
            }
        } catch (RuntimeException | Error e) {
            synchronized (disconnectLock) {
                startingDisconnects = false;
            }
            throw e;
        }
    }

    /** Runs in-process handlers on this executor from now on (an adapter passes its server's pool). */
    public void useExecutor(Executor executor) {
        this.executor = requireNonNull(executor, "executor");
    }

    /** Counts a failed {@code $disconnect} call. */
    void disconnectFailed() {
        disconnectFailures.increment();
    }

    /** The {@code $disconnect} calls that failed since the gateway was built (logged, never retried). */
    public long disconnectFailures() {
        return disconnectFailures.sum();
    }

    /** Makes HTTP integrations' calls with this caller from now on. */
    public void useHttp(HttpCaller http) {
        this.http = requireNonNull(http, "http");
    }

    /**
     * Calls an integration. The stage completes with its reply, or exceptionally: after the timeout with a
     * {@link TimeoutException}, or with the handler's failure.
     */
    CompletionStage<Reply> invoke(Integration integration, RouteEvent event, Duration timeout) {
        if (integration instanceof Integration.Http h) {
            HttpCaller caller = http;
            if (caller == null) {
                return CompletableFuture.failedFuture(new GatewayStateException(
                        "no HTTP client for HTTP integrations: mount the gateway with gateway-jetty"));
            }
            return caller.call(h, event, timeout);
        }
        Integration.InProcess local = (Integration.InProcess) integration;
        CompletableFuture<Reply> result = new CompletableFuture<>();
        Future<?> bound = ticker.schedule(() -> result.completeExceptionally(
                new TimeoutException("no answer within " + timeout.toMillis() + " ms")), timeout.toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, x) -> bound.cancel(false));
        try {
            executor.execute(() -> {
                try {
                    CompletionStage<Reply> stage = local.handler().handle(event);
                    if (stage == null) {
                        throw new GatewayStateException("integration handler " + local.handler() + " returned null");
                    }
                    stage.whenComplete((r, x) -> {
                        if (x != null) {
                            result.completeExceptionally(x);
                        } else if (r == null) {
                            result.completeExceptionally(new GatewayStateException(
                                    "integration handler " + local.handler() + " completed with null"));
                        } else {
                            result.complete(r);
                        }
                    });
                } catch (RuntimeException | Error e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RuntimeException e) { // the executor refused the task
            result.completeExceptionally(e);
        }
        return result;
    }

    /**
     * Decides a WebSocket API connection's handshake: accepted at once without a {@code $connect}, else as
     * its integration answers. The stage always completes normally. A failed call refuses the client: 504
     * after a {@link TimeoutException}, 502 after an {@link java.io.IOException} (unreachable) or an
     * {@link IntegrationAnswerException}, 503 after a {@link RejectedExecutionException} (too many calls), 500
     * after anything else.
     */
    CompletionStage<Connect> connect(Route route, WebSocketApi api, RouteEvent event, List<String> offered) {
        Optional<Integration> integration = api.integration("$connect");
        if (integration.isEmpty()) {
            return CompletableFuture.completedFuture(new Connect.Accepted(null, null, List.of()));
        }
        return invoke(route, integration.get(), event, api.timeout()).handle((reply, failure) -> {
            try (Mdc mdc = Mdc.of(event.connectionId(), route.path())) {
                return decide(event, offered, reply, failure);
            }
        });
    }

    /** What {@code $connect} decided from its call's outcome. */
    private static Connect decide(RouteEvent event, List<String> offered, Reply reply, Throwable failure) {
        if (failure != null) {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause instanceof TimeoutException) {
                return refused(Rejection.GATEWAY_TIMEOUT, "the $connect integration did not answer in time");
            }
            if (cause instanceof java.io.IOException) {
                return refused(Rejection.BAD_GATEWAY, "the $connect integration cannot be reached");
            }
            if (cause instanceof IntegrationAnswerException) {
                LOG.warn("$connect integration failed for request {}: {}", event.requestId(), cause.getMessage());
                return refused(Rejection.BAD_GATEWAY, "the $connect integration gave an invalid answer");
            }
            if (cause instanceof RejectedExecutionException) {
                // The adapter's pool or the integration's queue of calls is full.
                return refused(Rejection.UNAVAILABLE, "too many $connect calls in progress");
            }
            LOG.warn("$connect integration failed for request {}: {}", event.requestId(), cause.toString());
            return refused(Rejection.INTERNAL_ERROR, "the $connect integration failed");
        }
        if (reply instanceof Reply.Refuse r) {
            String body = capped(r.body());
            return new Connect.Refused(Verdict.reject(Rejection.BACKEND_REJECTED,
                    "the $connect integration refused the connection").withStatus(r.status()), body, r.contentType());
        }
        if (reply instanceof Reply.Accept a) {
            String subprotocol = a.subprotocol().orElse(null);
            if (subprotocol != null && !offered.contains(subprotocol)) {
                return refused(Rejection.BAD_GATEWAY,
                        "the $connect integration chose a subprotocol the client did not offer");
            }
            return new Connect.Accepted(subprotocol, a.user().orElse(null), a.groups());
        }
        if (reply instanceof Reply.None) {
            return new Connect.Accepted(null, null, List.of());
        }
        LOG.warn("$connect integration answered request {} with {}", event.requestId(), reply);
        return refused(Rejection.INTERNAL_ERROR, "the $connect integration failed");
    }

    /** The longest prefix of the body within {@link #MAX_REFUSAL_BODY} UTF-8 bytes, never splitting a character. */
    static String capped(String body) {
        int bytes = 0;
        for (int i = 0; i < body.length(); ) {
            int cp = body.codePointAt(i);
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > MAX_REFUSAL_BODY) {
                return body.substring(0, i);
            }
            bytes += n;
            i += Character.charCount(cp);
        }
        return body;
    }

    private static Connect refused(Rejection kind, String message) {
        return new Connect.Refused(Verdict.reject(kind, message), null, null);
    }
}
