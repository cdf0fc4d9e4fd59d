package dev.gatehouse.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import dev.gatehouse.Settings;

/**
 * The timers of one bridged connection as arithmetic: its deadlines (the client leg's connect, the close
 * handshake, idle, keepalive ping and pong, credential expiry, maximum lifetime), when the next one falls, and which one a
 * tick at a given time fires. It reads no clock and schedules nothing: the {@link Bridge} passes every time
 * in, schedules its tick for {@link #next}, and acts on what {@link #due} answers.
 *
 * <p>Times are {@link System#nanoTime()} readings, compared by difference so that they may wrap.
 *
 * <p>Thread: called under the bridge's lock, except {@link #active} and {@link #lastActivity}, which the
 * legs' inbound events call without it.
 */
final class Deadlines {

    /** What a tick fires: at most one of these, checked in this order. */
    enum Due {
        /** No deadline has passed. */
        NOTHING,
        /** The client leg did not open in time: both legs are dropped. */
        CONNECT_TIMEOUT,
        /** The legs did not answer CLOSE in time: the bridge gives up on them. */
        CLOSE_TIMEOUT,
        /** The principal's credential expired (grace included): the connection is closed with 1008. */
        CREDENTIAL_EXPIRED,
        /** The connection reached its lifetime: closed with the lifetime status. */
        LIFETIME_REACHED,
        /** No data frame, ping or unsolicited pong for the idle timeout: closed with 1001. */
        IDLE_TIMEOUT,
        /** The client did not answer a keepalive ping in time: closed with 1001. */
        CLIENT_SILENT,
        /** The backend did not answer a keepalive ping in time: closed with 1001. */
        BACKEND_SILENT,
        /** Nothing failed and keepalive is on: each leg whose {@link Keepalive#pingDue} says so is pinged. */
        PINGS
    }

    private final long idleNanos;            // the idle timeout, 0 for none
    private final long pingNanos;            // the keepalive ping interval, 0 for no keepalive
    private final long pongNanos;            // how long a keepalive ping may stay unanswered
    private final long closeNanos;           // how long the legs have to answer CLOSE
    private final long connectNanos;         // from arm() to the connect deadline
    private final Duration credentialGrace;  // how long a connection outlives its credential
    private final long lifetimeNanos;        // this connection's lifetime from opened(), drawn within the jitter; 0 for none
    /** The keepalive of the client leg. */
    final Keepalive client = new Keepalive();
    /** The keepalive of the backend leg. */
    final Keepalive backend = new Keepalive();

    private long connectDeadline;       // nanoTime by which the client leg must open; set by arm(); guarded by the bridge's lock
    private long closeDeadline;         // nanoTime by which the legs must answer CLOSE; moved by each closing(); guarded by the bridge's lock
    private boolean expires;            // whether the credential expires at all; set by opened(); guarded by the bridge's lock
    private long expiresNanos;          // nanoTime when the credential (plus grace) expires, if it does; guarded by the bridge's lock
    private long endOfLife;             // nanoTime when the lifetime is reached, if lifetimeNanos > 0; set by opened(); guarded by the bridge's lock
    private volatile long lastActivity; // nanoTime of the last data frame, ping or unsolicited pong; set by opened(), then active()

    Deadlines(Settings settings) {
        this(settings, settings.connectTimeout());
    }

    /**
     * @param connectBound how long connecting the backend leg may take: the dial's connect timeout, or a
     *                     WebSocket API route's {@code $connect} integration timeout
     */
    Deadlines(Settings settings, Duration connectBound) {
        this(settings, connectBound, ThreadLocalRandom.current().nextDouble());
    }

    /**
     * @param connectBound as above
     * @param draw         where in the jitter this connection's lifetime falls, in [0, 1): 0 gives the
     *                     maximum lifetime, values towards 1 the shortest the jitter allows
     */
    Deadlines(Settings settings, Duration connectBound, double draw) {
        this.lifetimeNanos = lifetime(settings, draw);
        this.idleNanos = settings.idleTimeout().toNanos();
        this.pingNanos = settings.pingInterval().toNanos();
        this.pongNanos = settings.pongTimeout().toNanos();
        this.closeNanos = settings.closeTimeout().toNanos();
        // The connect's own bound plus a second; the client's upgrade then takes moments.
        this.connectNanos = connectBound.plus(settings.closeTimeout()).toNanos() * 2;
        this.credentialGrace = settings.credentialGrace();
    }

    /**
     * A connection's lifetime in nanoseconds: {@code maxLifetime × (1 − jitter × draw)}, so within
     * ({@code maxLifetime × (1 − jitter)}, {@code maxLifetime}] for a draw in [0, 1), and at least 1 ns;
     * 0 when there is no maximum.
     */
    static long lifetime(Settings settings, double draw) {
        long max = settings.maxLifetime().toNanos();
        if (max <= 0) {
            return 0;
        }
        long cut = (long) (max * settings.maxLifetimeJitter() * draw);
        return Math.max(1, max - cut);
    }

    /** The bridge was created at {@code now}: its client leg must open by the connect deadline. */
    void arm(long now) {
        connectDeadline = now + connectNanos;
    }

    /**
     * The relay started at {@code now} (wall time {@code at}): idle and keepalive count from then, and a
     * credential that expires at {@code credentialExpiry} ends the connection that long after {@code at},
     * plus the grace; at once if that is past. The lifetime counts from {@code now}.
     */
    void opened(long now, Instant at, Optional<Instant> credentialExpiry) {
        lastActivity = now;
        endOfLife = now + lifetimeNanos;
        client.lastPingAt = now;
        backend.lastPingAt = now;
        if (credentialExpiry.isPresent()) {
            Duration left = Duration.between(at, credentialExpiry.get()).plus(credentialGrace);
            expires = true;
            expiresNanos = now + Math.max(0, left.toNanos());
        }
    }

    /** A CLOSE was decided for a leg at {@code now}: the legs have the close timeout from then to answer. */
    void closing(long now) {
        closeDeadline = now + closeNanos;
    }

    /** A data frame, a ping or an unsolicited pong arrived at {@code now}. Any thread, no lock. */
    void active(long now) {
        lastActivity = now;
    }

    /** The nanoTime of the last data frame, ping or unsolicited pong, or of the relay's start. Any thread. */
    long lastActivity() {
        return lastActivity;
    }

    /** The nanoTime of the next deadline of a bridge in this state, or {@link Long#MAX_VALUE} for none. */
    long next(Bridge.State state) {
        return switch (state) {
            case CONNECTING -> connectDeadline;
            case CLOSING -> closeDeadline;
            case OPEN -> nextWhileOpen();
            case CLOSED -> Long.MAX_VALUE;
        };
    }

    private long nextWhileOpen() {
        long next = Long.MAX_VALUE;
        if (idleNanos > 0) {
            next = lastActivity + idleNanos;
        }
        if (pingNanos > 0) {
            next = Math.min(next, client.deadline());
            next = Math.min(next, backend.deadline());
        }
        if (expires) {
            next = Math.min(next, expiresNanos);
        }
        if (lifetimeNanos > 0) {
            next = Math.min(next, endOfLife);
        }
        return next;
    }

    /**
     * What fires at {@code now} for a bridge in this state. First, while keepalive is on, a leg whose last
     * frame still waits for the other leg's send ({@code clientBlocked}, {@code backendBlocked}) cannot be
     * read, so its pong cannot arrive: its pong deadline restarts at {@code now}. Keepalive then blames
     * the slow reader, not its sender.
     */
    Due due(Bridge.State state, long now, boolean clientBlocked, boolean backendBlocked) {
        return switch (state) {
            case CONNECTING -> now - connectDeadline >= 0 ? Due.CONNECT_TIMEOUT : Due.NOTHING;
            case CLOSING -> now - closeDeadline >= 0 ? Due.CLOSE_TIMEOUT : Due.NOTHING;
            case OPEN -> dueWhileOpen(now, clientBlocked, backendBlocked);
            case CLOSED -> Due.NOTHING;
        };
    }

    private Due dueWhileOpen(long now, boolean clientBlocked, boolean backendBlocked) {
        if (pingNanos > 0) {
            client.excuseIfBlocked(now, clientBlocked);
            backend.excuseIfBlocked(now, backendBlocked);
        }
        if (expires && now - expiresNanos >= 0) {
            return Due.CREDENTIAL_EXPIRED;
        }
        if (lifetimeNanos > 0 && now - endOfLife >= 0) {
            return Due.LIFETIME_REACHED;
        }
        if (idleNanos > 0 && now - lastActivity >= idleNanos) {
            return Due.IDLE_TIMEOUT;
        }
        if (pingNanos > 0 && client.pongOverdue(now)) {
            return Due.CLIENT_SILENT;
        }
        if (pingNanos > 0 && backend.pongOverdue(now)) {
            return Due.BACKEND_SILENT;
        }
        return pingNanos > 0 ? Due.PINGS : Due.NOTHING;
    }

    /** The keepalive of one leg: at most one ping unanswered, whose payload is the time it was sent. */
    final class Keepalive {
        private long lastPingAt;      // nanoTime of the last keepalive ping, else of the relay's start; guarded by the bridge's lock
        private long pingPayload;     // payload of the outstanding ping; guarded by the bridge's lock
        private boolean awaitingPong; // whether that ping is unanswered; guarded by the bridge's lock

        private Keepalive() {
        }

        /** When the next ping is due, or, while one is unanswered, when its pong is overdue. */
        private long deadline() {
            return awaitingPong ? lastPingAt + pongNanos : lastPingAt + pingNanos;
        }

        private boolean pongOverdue(long now) {
            return awaitingPong && now - lastPingAt >= pongNanos;
        }

        private void excuseIfBlocked(long now, boolean blocked) {
            if (awaitingPong && blocked) {
                lastPingAt = now;
            }
        }

        /**
         * Whether a ping is due at {@code now}: none unanswered and the interval passed since the last. If so
         * the ping counts as sent, with {@link #payload()} {@code now}.
         */
        boolean pingDue(long now) {
            if (!awaitingPong && now - lastPingAt >= pingNanos) {
                awaitingPong = true;
                lastPingAt = now;
                pingPayload = now;
                return true;
            }
            return false;
        }

        /** The payload of the last ping. */
        long payload() {
            return pingPayload;
        }

        /** Whether a pong with this payload answers the outstanding ping; if so, that ping is cleared. */
        boolean answeredBy(long payload) {
            if (awaitingPong && payload == pingPayload) {
                awaitingPong = false;
                return true;
            }
            return false;
        }
    }
}
