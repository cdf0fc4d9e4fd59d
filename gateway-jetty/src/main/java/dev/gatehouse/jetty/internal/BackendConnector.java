package dev.gatehouse.jetty.internal;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.ClientConnectionFactory;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.io.ssl.SslClientConnectionFactory;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;

import dev.gatehouse.spi.ChannelHandler;

/**
 * Dials WebSocket backends without an HTTP client: Jetty's {@link ClientConnector} opens the connection (TLS
 * through Jetty's {@link SslClientConnectionFactory}, below the endpoint), a {@link BackendHandshake} writes
 * the upgrade request and reads the answer with Jetty's {@code HttpParser}, and after a valid 101 a
 * {@link FrameLeg} takes the connection over.
 *
 * <p>At most {@code maxConcurrent} handshakes run at once to one backend (scheme, host and port); up to
 * {@code maxQueued} more wait for a turn, within their own timeout; a dial beyond that fails at once with
 * {@link DialFailure.Kind#TOO_MANY}. A backend's queue exists only while dials to it run or wait.
 */
public final class BackendConnector extends ContainerLifeCycle {

    /** The context key under which a connection's {@link BackendHandshake} travels through the connector. */
    static final String DIAL_CONTEXT_KEY = BackendHandshake.class.getName();

    private final ClientConnector connector = new ClientConnector();
    private final SslContextFactory.Client tls;
    private final int maxConcurrent;
    private final int maxQueued;
    private final ConcurrentHashMap<String, Destination> destinations = new ConcurrentHashMap<>();
    private volatile SslClientConnectionFactory secure; // from start to stop
    private volatile SocketAddressResolver resolver;    // from start to stop

    /**
     * @param tls            the backends' TLS: trust, hostname verification, client certificate
     * @param executor       the connections' executor, or null for the connector's own
     * @param scheduler      the timers' scheduler, or null for the connector's own
     * @param pool           the buffers' pool, or null for the connector's own
     * @param selectors      how many selector threads the backend connections get
     * @param connectTimeout the longest TCP connect any route allows (each dial has its own bound besides); a
     *                       dial that allows more lengthens it
     * @param maxConcurrent  the most handshakes in flight to one backend
     * @param maxQueued      the most handshakes that wait for a turn to one backend
     */
    public BackendConnector(SslContextFactory.Client tls, Executor executor, Scheduler scheduler, ByteBufferPool pool,
            int selectors, Duration connectTimeout, int maxConcurrent, int maxQueued) {
        this.tls = requireNonNull(tls, "tls");
        if (maxConcurrent < 1 || maxQueued < 0) {
            throw new IllegalArgumentException("maxConcurrent " + maxConcurrent + ", maxQueued " + maxQueued);
        }
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
        if (executor != null) {
            connector.setExecutor(executor);
        }
        if (scheduler != null) {
            connector.setScheduler(scheduler);
        }
        if (pool != null) {
            connector.setByteBufferPool(pool);
        }
        connector.setSelectors(Math.max(1, selectors));
        connector.setConnectTimeout(connectTimeout);
        connector.setIdleTimeout(connectTimeout); // each handshake sets its own; a leg sets its own after it
        addBean(tls);
        addBean(connector);
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        secure = new SslClientConnectionFactory(tls, connector.getByteBufferPool(), connector.getExecutor(),
                (endPoint, context) -> ((BackendHandshake) context.get(DIAL_CONTEXT_KEY)).newConnection(endPoint, context));
        resolver = new SocketAddressResolver.Async(connector.getExecutor(), connector.getScheduler(),
                connector.getConnectTimeout().toMillis());
    }

    @Override
    protected void doStop() throws Exception {
        super.doStop();
        destinations.clear();
    }

    /**
     * Dials a backend. The future completes once the backend answered 101 and a {@link FrameLeg} owns the
     * connection, or fails with a {@link DialFailure}, at the latest when {@code timeout} has passed.
     *
     * @param uri          the backend's {@code ws://} or {@code wss://} URI
     * @param headers      the request's other headers (forwarded and identity headers)
     * @param subprotocols the subprotocols to offer, in order; empty for none
     * @param offer        the {@code Sec-WebSocket-Extensions} offer to make, or null for none
     * @param handler      the engine's handler of the backend leg's events
     * @param idleTimeout  the leg's safety idle timeout once open; zero for none
     * @param timeout      the bound on the whole dial: waiting for a turn, resolving, connecting and the handshake
     */
    CompletableFuture<BackendHandshake.Connected> dial(URI uri, Map<String, List<String>> headers,
            List<String> subprotocols, String offer, ChannelHandler handler, Duration idleTimeout, Duration timeout) {
        if (timeout.compareTo(connector.getConnectTimeout()) > 0) {
            lengthenConnectTimeout(timeout); // a route added by a hot update may allow more than any before
        }
        BackendHandshake dial = new BackendHandshake(this, uri, headers, subprotocols, offer, handler, idleTimeout, timeout);
        dial.begin();
        return dial.result();
    }

    /** The TCP connect's bound only grows: it is the longest any route allows. */
    private synchronized void lengthenConnectTimeout(Duration timeout) {
        if (timeout.compareTo(connector.getConnectTimeout()) > 0) {
            connector.setConnectTimeout(timeout);
        }
    }

    Executor executor() {
        return connector.getExecutor();
    }

    ByteBufferPool pool() {
        return connector.getByteBufferPool();
    }

    Scheduler scheduler() {
        return connector.getScheduler();
    }

    /**
     * Takes a turn for {@code dial} to its backend: true if it may start now; false if it waits (and
     * {@link #release} starts it later).
     *
     * @throws DialFailure when the backend's queue is full
     */
    boolean acquire(String destination, BackendHandshake dial) throws DialFailure {
        boolean[] now = new boolean[1];
        boolean[] full = new boolean[1];
        destinations.compute(destination, (key, d) -> {
            Destination dest = d == null ? new Destination() : d;
            if (dest.active < maxConcurrent) {
                dest.active++;
                now[0] = true;
            } else if (dest.waiting.size() < maxQueued) {
                dest.waiting.add(dial);
            } else {
                full[0] = true;
            }
            return dest.active == 0 && dest.waiting.isEmpty() ? null : dest;
        });
        if (full[0]) {
            throw new DialFailure(DialFailure.Kind.TOO_MANY, "too many handshakes are waiting for this backend", null);
        }
        return now[0];
    }

    /** Gives a turn back: the next waiting dial to the backend, if any, starts. */
    void release(String destination) {
        BackendHandshake[] next = new BackendHandshake[1];
        destinations.computeIfPresent(destination, (key, dest) -> {
            next[0] = dest.waiting.poll();
            if (next[0] == null) {
                dest.active--;
            }
            return dest.active == 0 && dest.waiting.isEmpty() ? null : dest;
        });
        if (next[0] != null) {
            next[0].start();
        }
    }

    /** Takes a waiting dial out of its backend's queue; false if it was not waiting (it started meanwhile). */
    boolean leaveQueue(String destination, BackendHandshake dial) {
        boolean[] removed = new boolean[1];
        destinations.computeIfPresent(destination, (key, dest) -> {
            removed[0] = dest.waiting.remove(dial);
            return dest.active == 0 && dest.waiting.isEmpty() ? null : dest;
        });
        return removed[0];
    }

    /** Resolves a host name off the calling thread; an address literal needs no look-up. */
    void resolve(String host, int port, Promise<List<InetSocketAddress>> promise) {
        if (isAddressLiteral(host)) {
            InetSocketAddress address;
            try {
                address = new InetSocketAddress(InetAddress.getByName(host), port);
            } catch (IOException e) {
                promise.failed(e);
                return;
            }
            promise.succeeded(List.of(address));
            return;
        }
        resolver.resolve(host, port, Map.of(), promise);
    }

    /** Opens a TCP connection to {@code address}, TLS on top if {@code tlsOn}, for {@code dial}. */
    void connect(InetSocketAddress address, boolean tlsOn, BackendHandshake dial) {
        Map<String, Object> context = new HashMap<>(8);
        context.put(Transport.CONTEXT_KEY, Transport.TCP_IP);
        context.put(DIAL_CONTEXT_KEY, dial);
        context.put(ClientConnectionFactory.CONTEXT_KEY, tlsOn ? secure : dial);
        context.put(ClientConnector.CONNECTION_PROMISE_CONTEXT_KEY, dial.connectPromise());
        connector.connect(address, context);
    }

    /** Whether {@code host} is an IPv4 or IPv6 address rather than a name (a URI's IPv6 host has brackets). */
    static boolean isAddressLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        int dots = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 3;
    }

    /** The dials running to one backend and those waiting for a turn; guarded by the map's compute. */
    private static final class Destination {
        private int active;
        private final ArrayDeque<BackendHandshake> waiting = new ArrayDeque<>();
    }

    /** Why a dial failed, with what the backend answered, if anything. */
    static final class DialFailure extends IOException {
        private static final long serialVersionUID = 1L;

        /** The kinds of failure, each mapped to the client's HTTP error by {@link BackendDialer}. */
        enum Kind {
            /** No connection: refused, unreachable, the name did not resolve, TLS failed, or closed unanswered. */
            UNREACHABLE,
            /** The dial's bound passed before the backend's 101. */
            TIMEOUT,
            /** The backend's queue of waiting dials is full. */
            TOO_MANY,
            /** The backend's answer is not valid HTTP. */
            BAD_RESPONSE,
            /** The backend answered with a status other than 101. */
            STATUS,
            /** The backend answered 101, but its handshake response is not a valid answer to the request. */
            INVALID_UPGRADE,
            /** The dial's bound passed while it waited in the gateway's queue for a turn to this backend. */
            QUEUE_TIMEOUT,
            /** The gateway itself could not run the dial (stopping, its thread pool full). */
            GATEWAY
        }

        private final Kind kind;
        private final transient BackendHandshake.Answer answer;

        DialFailure(Kind kind, String message, Throwable cause) {
            this(kind, message, cause, null);
        }

        DialFailure(Kind kind, String message, Throwable cause, BackendHandshake.Answer answer) {
            super(message, cause);
            this.kind = kind;
            this.answer = answer;
        }

        Kind kind() {
            return kind;
        }

        /** What the backend answered (status, headers, body), or null if it answered nothing. */
        BackendHandshake.Answer answer() {
            return answer;
        }
    }

    /** The key a backend's dials share their turns under. */
    static String destination(URI uri, boolean tlsOn, int port) {
        return (tlsOn ? "wss://" : "ws://") + uri.getHost() + ":" + port;
    }
}
