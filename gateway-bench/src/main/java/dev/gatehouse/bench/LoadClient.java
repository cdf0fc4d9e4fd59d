package dev.gatehouse.bench;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * The load generator's WebSocket client: one Jetty {@link WebSocketClient} over a shared, pre-started
 * {@link HttpClient}. Everything is asynchronous; no thread is held per connection.
 */
final class LoadClient implements AutoCloseable {

    /** How many handshakes {@link #openAll} keeps in flight. */
    static final int PARALLEL_HANDSHAKES = 64;

    private final HttpClient http;
    private final WebSocketClient client;

    LoadClient() {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("load");
        threads.setDaemon(true);
        http = new HttpClient();
        http.setExecutor(threads);
        http.setConnectTimeout(10_000);
        // Upgrades are plain requests until they switch protocols: let openAll's handshakes through.
        http.setMaxConnectionsPerDestination(4 * PARALLEL_HANDSHAKES);
        http.setMaxRequestsQueuedPerDestination(64 * PARALLEL_HANDSHAKES);
        client = new WebSocketClient(http);
        client.setMaxTextMessageSize(EchoBackend.MAX_MESSAGE);
        client.setMaxBinaryMessageSize(EchoBackend.MAX_MESSAGE);
        client.setIdleTimeout(Duration.ofMinutes(30));
        try {
            http.start();
            client.start();
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot start the load generator's client", e);
        }
    }

    /** Starts a handshake without a credential; the future fails on refusal or after 15 s. */
    CompletableFuture<Session> connect(Object endpoint, URI uri) {
        return connect(endpoint, uri, Auth.Credential.ANONYMOUS);
    }

    /** Starts a handshake with a credential; the future fails on refusal or after 15 s. */
    CompletableFuture<Session> connect(Object endpoint, URI uri, Auth.Credential credential) {
        ClientUpgradeRequest request = new ClientUpgradeRequest(uri);
        request.setTimeout(15, TimeUnit.SECONDS);
        credential.decorate(request);
        try {
            return client.connect(endpoint, request);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The outcome of {@link #openAll}: the endpoints whose sessions opened, and how many did not. */
    record Opened<T extends Conn>(List<T> open, int failed, long nanos) {
    }

    /**
     * Opens {@code n} connections with at most {@link #PARALLEL_HANDSHAKES} handshakes in flight, giving up on
     * the rest once {@code timeout} has passed.
     */
    <T extends Conn> Opened<T> openAll(int n, IntFunction<T> endpoints, URI uri, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        Semaphore permits = new Semaphore(PARALLEL_HANDSHAKES);
        List<T> all = new ArrayList<>(n);
        AtomicInteger failed = new AtomicInteger();
        int started = 0;
        for (; started < n; started++) {
            if (!permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                break;
            }
            T endpoint = endpoints.apply(started);
            all.add(endpoint);
            connect(endpoint, uri).whenComplete((session, failure) -> {
                if (failure != null) {
                    failed.incrementAndGet();
                }
                permits.release();
            });
        }
        // Wait for the handshakes still in flight.
        permits.tryAcquire(PARALLEL_HANDSHAKES, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        List<T> open = new ArrayList<>(n);
        for (T endpoint : all) {
            if (endpoint.isLive()) {
                open.add(endpoint);
            }
        }
        return new Opened<>(open, n - open.size(), System.nanoTime() - start);
    }

    /** Closes every connection with 1000 and waits up to {@code timeout} for their close handshakes. */
    static void closeAll(List<? extends Conn> conns, Duration timeout) throws InterruptedException {
        for (Conn c : conns) {
            c.close();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Conn c : conns) {
            if (!c.awaitClosed(deadline - System.nanoTime())) {
                break;
            }
        }
    }

    /** Stops the client, which drops any connection left open. */
    @Override
    public void close() {
        try {
            client.stop();
        } catch (Exception e) {
            // stopping anyway
        }
        try {
            http.stop();
        } catch (Exception e) {
            // stopped
        }
    }

    /**
     * A load-generator endpoint: auto-demanding, remembers its session and its close. Subclasses must be
     * public, as Jetty requires of endpoint classes.
     */
    public abstract static class Conn extends Session.Listener.AbstractAutoDemanding {
        private final CompletableFuture<Void> closed = new CompletableFuture<>();
        private volatile boolean opened;

        @Override
        public void onWebSocketOpen(Session session) {
            super.onWebSocketOpen(session);
            opened = true;
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason, Callback callback) {
            callback.succeed();
            closed.complete(null);
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            closed.complete(null);
        }

        /** Whether the session opened and has not closed. */
        boolean isLive() {
            return opened && !closed.isDone();
        }

        boolean isClosed() {
            return closed.isDone();
        }

        /** Starts the close handshake with 1000, if open. */
        void close() {
            Session s = getSession();
            if (s != null && !closed.isDone()) {
                s.close(1000, "done", Callback.NOOP);
            }
        }

        /** Waits for the close; false on timeout. */
        boolean awaitClosed(long nanos) throws InterruptedException {
            try {
                closed.get(Math.max(0, nanos), TimeUnit.NANOSECONDS);
                return true;
            } catch (java.util.concurrent.TimeoutException e) {
                return false;
            } catch (java.util.concurrent.ExecutionException e) {
                return true;
            }
        }
    }
}
