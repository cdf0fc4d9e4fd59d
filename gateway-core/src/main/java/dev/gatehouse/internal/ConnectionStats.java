package dev.gatehouse.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;

/**
 * What one bridged connection carried, and when: messages and bytes received on each leg, data bytes held
 * between the legs, when the relay started; and the access-log line the connection ends with.
 *
 * <p>Thread: a leg's counters are written by that leg's inbound events, which are serial, and read from
 * any thread; the held bytes from any thread; the start is written once under the bridge's lock.
 */
final class ConnectionStats {

    /** The inbound counters of one leg. */
    static final class Counts {
        private volatile long messages; // complete messages received on this leg; single writer
        private volatile long bytes;    // payload bytes received on this leg; single writer

        private Counts() {
        }

        /** A fragment of {@code n} payload bytes arrived. The leg's inbound thread only. */
        void received(int n) {
            bytes += n;
        }

        /** The last fragment of a message arrived. The leg's inbound thread only. */
        void messageEnded() {
            messages++;
        }

        long messages() {
            return messages;
        }

        long bytes() {
            return bytes;
        }
    }

    /** What the client sent. */
    final Counts client = new Counts();
    /** What the backend sent. */
    final Counts backend = new Counts();

    private final String id;
    private final String routePath;
    private final Handshake handshake;
    private final AtomicLong pending = new AtomicLong();     // data bytes received and not yet forwarded
    private final AtomicLong peakPending = new AtomicLong(); // max of pending over the connection's life
    private final AtomicLong pushedMessages = new AtomicLong(); // messages sent to the client through the registry
    private final AtomicLong pushedBytes = new AtomicLong();    // their payload bytes
    private long openedNanos;   // nanoTime when the relay started, 0 before; written once under the bridge's lock
    private Instant connectedAt; // wall time when the relay started, null before; written once under the bridge's lock

    ConnectionStats(String id, String routePath, Handshake handshake) {
        this.id = id;
        this.routePath = routePath;
        this.handshake = handshake;
    }

    /** A received data frame of {@code n} bytes is being forwarded. Any thread. */
    void holding(int n) {
        long now = pending.addAndGet(n);
        if (now > peakPending.get()) {
            peakPending.accumulateAndGet(now, Math::max);
        }
    }

    /** The forward of a data frame of {@code n} bytes completed. Any thread. */
    void released(int n) {
        pending.addAndGet(-n);
    }

    /** A message of {@code n} payload bytes sent through the registry was written to the client. Any thread. */
    void pushed(int n) {
        pushedMessages.incrementAndGet();
        pushedBytes.addAndGet(n);
    }

    /** Messages to the client: relayed from the backend, and sent through the registry. */
    long messagesOut() {
        return backend.messages() + pushedMessages.get();
    }

    /** Payload bytes to the client: relayed from the backend, and sent through the registry. */
    long bytesOut() {
        return backend.bytes() + pushedBytes.get();
    }

    /** Data bytes received and not yet forwarded. */
    long pending() {
        return pending.get();
    }

    /** The most data bytes held at once. */
    long peakPending() {
        return peakPending.get();
    }

    /** The relay started at {@code nanos}, wall time {@code at}. Once, under the bridge's lock. */
    void opened(long nanos, Instant at) {
        openedNanos = nanos;
        connectedAt = at;
    }

    /** Whether the relay started. Under the bridge's lock, or once the bridge is closed. */
    boolean isOpened() {
        return connectedAt != null;
    }

    /** The nanoTime when the relay started. */
    long openedNanos() {
        return openedNanos;
    }

    /** The wall time when the relay started, or {@code null} before. */
    Instant connectedAt() {
        return connectedAt;
    }

    /**
     * What the access-log line of a connection closed at {@code closedAt} says, if its relay started; else null.
     *
     * @param backendTarget the backend as {@link AccessLog#target} shows it, or null for a WebSocket API route
     * @param traceparent   the gateway's traceparent for the connection, or null
     * @param clientClose   the status the client leg ended with, or {@code null}
     * @param cause         why the connection ended
     * @param initiator     {@code "client"}, {@code "backend"} or {@code "gateway"}
     */
    AccessLog.Session session(Instant closedAt, String backendTarget, String traceparent, CloseStatus clientClose,
            String cause, String initiator) {
        if (connectedAt == null) {
            return null;
        }
        long millis = Duration.between(connectedAt, closedAt).toMillis();
        return new AccessLog.Session(id, routePath, handshake, backendTarget, traceparent, connectedAt, millis,
                client.messages, client.bytes, messagesOut(), bytesOut(), clientClose, cause, initiator);
    }
}
