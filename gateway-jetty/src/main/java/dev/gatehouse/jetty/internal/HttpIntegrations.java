package dev.gatehouse.jetty.internal;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpResponseException;
import org.eclipse.jetty.client.ProtocolHandlers;
import org.eclipse.jetty.client.ProxyAuthenticationProtocolHandler;
import org.eclipse.jetty.client.RedirectProtocolHandler;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.WWWAuthenticationProtocolHandler;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import dev.gatehouse.internal.HttpEvents;
import dev.gatehouse.internal.IntegrationAnswerException;
import dev.gatehouse.internal.Integrations;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;

/**
 * Calls HTTP integrations with a Jetty {@link HttpClient} of their own: one {@code POST} of the event per
 * call ({@link HttpEvents}), bounded by the route's integration timeout, queue time included; the answer's
 * body is read only as far as its event needs ({@link HttpEvents.Answer}).
 *
 * <p>Failures, as {@link Integrations.HttpCaller} names them: a call without an answer in time fails with
 * Jetty's {@link TimeoutException}, an integration that cannot be reached with Jetty's
 * {@link java.io.IOException} ({@link java.net.ConnectException} when refused), a call beyond
 * {@link #MAX_QUEUED_CALLS_PER_DESTINATION} with Jetty's
 * {@link java.util.concurrent.RejectedExecutionException}, an answer that cannot be used with
 * {@link dev.gatehouse.internal.IntegrationAnswerException}. Nothing here logs; the engine logs a failure
 * without the integration's URL, whose query may hold a secret.
 *
 * <p>Thread-safe: calls are made from any thread and never block.
 */
public final class HttpIntegrations implements Integrations.HttpCaller {

    /**
     * Calls in progress to one integration origin (scheme, host and port), each on its own HTTP/1.1
     * connection, which the client keeps alive and reuses.
     */
    public static final int MAX_CALLS_PER_DESTINATION = 64;
    /**
     * Calls waiting for a connection to one origin; one more fails at once (the client gets the error frame,
     * a {@code $connect} 503) instead of waiting behind an integration that cannot keep up.
     */
    public static final int MAX_QUEUED_CALLS_PER_DESTINATION = 1024;

    private final HttpClient client;
    private final Set<CompletableFuture<Reply>> inFlight = ConcurrentHashMap.newKeySet(); // calls not yet answered

    private HttpIntegrations(HttpClient client) {
        this.client = client;
    }

    /**
     * Starts a client for integration calls: on the server's thread pool, timer and buffer pool when there is
     * a server; with the per-origin limits above, no cookie store (an integration's cookie must never travel
     * with another connection's call), and neither redirects nor authentication challenges handled (a 3xx or
     * 401 answer is the integration's answer, whether it has {@code WWW-Authenticate} or not).
     *
     * @param server the server whose pools the client shares, or null for pools of its own
     */
    public static HttpIntegrations start(SslContextFactory.Client tls, Duration connectTimeout, Server server)
            throws Exception {
        return start(tls, connectTimeout, server, MAX_CALLS_PER_DESTINATION, MAX_QUEUED_CALLS_PER_DESTINATION);
    }

    /** Like {@link #start(SslContextFactory.Client, Duration, Server)}, with other per-origin limits. */
    static HttpIntegrations start(SslContextFactory.Client tls, Duration connectTimeout, Server server, int maxCalls,
            int maxQueued) throws Exception {
        HttpClient h = new HttpClient();
        h.setSslContextFactory(requireNonNull(tls, "tls"));
        h.setConnectTimeout(requireNonNull(connectTimeout, "connectTimeout").toMillis());
        h.setMaxConnectionsPerDestination(maxCalls);
        h.setMaxRequestsQueuedPerDestination(maxQueued);
        h.setHttpCookieStore(new HttpCookieStore.Empty());
        h.setFollowRedirects(false);
        if (server != null) {
            h.setExecutor(server.getThreadPool());
            h.setScheduler(server.getScheduler());
            h.setByteBufferPool(server.getByteBufferPool());
        }
        h.start();
        // Installed by start(): without these, 3xx, 401 and 407 answers reach the reader as they are.
        ProtocolHandlers handlers = h.getProtocolHandlers();
        handlers.remove(RedirectProtocolHandler.NAME);
        handlers.remove(WWWAuthenticationProtocolHandler.NAME);
        handlers.remove(ProxyAuthenticationProtocolHandler.NAME);
        return new HttpIntegrations(h);
    }

    /** The client, which the mount's HTTP health probes share. */
    HttpClient client() {
        return client;
    }

    /**
     * Waits up to {@code bound} for the calls in progress (the {@code $disconnect}s of a stopping gateway) to
     * be answered or to fail, then stops the client, which aborts the calls still in progress.
     */
    public void stop(Duration bound) throws Exception {
        CompletableFuture<?>[] calls = inFlight.toArray(CompletableFuture<?>[]::new);
        if (calls.length > 0) {
            try {
                CompletableFuture.allOf(calls).get(bound.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // a failed call is the engine's to log; the calls still pending are aborted below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        client.stop();
    }

    @Override
    public CompletionStage<Reply> call(Integration.Http integration, RouteEvent event, Duration timeout) {
        CompletableFuture<Reply> result = new CompletableFuture<>();
        inFlight.add(result);
        result.whenComplete((r, x) -> inFlight.remove(result));
        try {
            Request request = client.newRequest(integration.uri())
                    .method(HttpMethod.POST)
                    .followRedirects(false)
                    .timeout(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)
                    .headers(fields -> HttpEvents.headers(event).forEach(fields::put))
                    .body(new BytesRequestContent(HttpEvents.CONTENT_TYPE, HttpEvents.body(event)));
            request.send(new Reader(event, result));
        } catch (RuntimeException e) { // a stopped client, an unusable URI
            result.completeExceptionally(e);
        }
        return result;
    }

    /** Reads one answer into the call's result; Jetty calls it for one exchange, from any thread. */
    private static final class Reader implements Response.Listener {
        private final RouteEvent event;
        private final CompletableFuture<Reply> result;
        private HttpEvents.Answer answer; // set when the status and headers arrived; guarded by this

        Reader(RouteEvent event, CompletableFuture<Reply> result) {
            this.event = event;
            this.result = result;
        }

        @Override
        public synchronized void onHeaders(Response response) {
            answer = HttpEvents.answer(event, response.getStatus(), response.getHeaders().get(HttpHeader.CONTENT_TYPE));
        }

        @Override
        public synchronized void onContent(Response response, ByteBuffer content) {
            if (result.isDone() || answer == null) {
                content.position(content.limit());
                return;
            }
            try {
                if (!answer.add(content)) {
                    finish(); // everything the answer needs is here: the rest of the body is not read
                    response.abort(new CancellationException("the rest of the answer is not needed"));
                }
            } catch (RuntimeException e) { // over its limit
                result.completeExceptionally(e);
                response.abort(e);
            }
        }

        @Override
        public synchronized void onComplete(Result outcome) {
            if (result.isDone()) {
                return;
            }
            if (outcome.isFailed() || answer == null) {
                Throwable failure = outcome.getFailure();
                if (failure instanceof HttpResponseException) {
                    // A bad status line, header or body framing: the integration answered, unusably (502).
                    result.completeExceptionally(new IntegrationAnswerException("the integration's answer is not a valid HTTP response"));
                } else {
                    result.completeExceptionally(failure != null ? failure : new CancellationException("no answer"));
                }
            } else {
                finish();
            }
        }

        private void finish() {
            try {
                result.complete(answer.reply());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }
    }
}
