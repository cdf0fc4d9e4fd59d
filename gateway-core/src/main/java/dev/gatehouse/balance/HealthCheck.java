package dev.gatehouse.balance;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * An active health check of a {@link BackendGroup}'s targets: the gateway probes each target every
 * {@link #interval()}, and takes it out of the balance after {@link #fall()} failed probes in a row, back in
 * after {@link #rise()} successful ones.
 *
 * <pre>{@code
 * HealthCheck.of()                                  // a WebSocket upgrade to each target's own URL, every 5 s
 * HealthCheck.http("/health")                       // an HTTP GET of /health on each target's host and port
 * HealthCheck.builder().path("/ready").interval(Duration.ofSeconds(2)).fall(2).build()
 * }</pre>
 *
 * <p><b>Probes.</b> A {@link Kind#WEBSOCKET} probe is an upgrade request, without the client's headers: a 101
 * is up, and the gateway then closes the connection with 1000 at once; anything else (a refused connection,
 * a TLS failure, another status, no answer within {@link #timeout()}) is down. It goes to the target's own
 * URL, or to {@link #path()} on the target's host and port when the check has one. An {@link Kind#HTTP}
 * probe is a {@code GET} of {@link #path()} on the target's host and port ({@code http://} for a
 * {@code ws://} target, {@code https://} for {@code wss://}, with the gateway's backend TLS): a 2xx answer
 * within the timeout is up, anything else down; redirects are not followed. A target whose URL template has
 * path parameters ({@code ws://chat.internal/rooms/{room}}) has no URL of its own to probe, so its group's
 * check needs a path.
 *
 * <p><b>Timing.</b> Each target is probed on its own: its first probe within a tenth of the interval of the
 * gateway's start, each next one an interval after the previous probe ended, give or take 10 % at random,
 * so that the probes of many targets (and of many gateways) do not fall together. A target counts as up
 * until its probes say otherwise. A target that comes back up gets its share of new connections as the
 * group's {@link BackendGroup.Builder#slowStart(java.time.Duration) slow start} says.
 *
 * <p>A check is an immutable value: two checks built alike are equal.
 */
public final class HealthCheck {

    /** What a probe does. */
    public enum Kind {
        /** A WebSocket upgrade: a 101 is up. */
        WEBSOCKET,
        /** An HTTP GET of the check's path: a 2xx is up. */
        HTTP
    }

    private static final HealthCheck DEFAULT = builder().build();

    private final Kind kind;
    private final String path; // null: the target's own URL (WEBSOCKET only)
    private final Duration interval;
    private final Duration timeout;
    private final int fall;
    private final int rise;

    private HealthCheck(Builder b) {
        this.kind = b.kind;
        this.path = b.path;
        this.interval = b.interval;
        this.timeout = b.timeout;
        this.fall = b.fall;
        this.rise = b.rise;
    }

    /** WebSocket upgrades to each target's own URL, every 5 s with a 2 s timeout; down after 3 failures, up after 2 successes. */
    public static HealthCheck of() {
        return DEFAULT;
    }

    /** HTTP GETs of {@code path} (e.g. {@code /health}) on each target's host and port, with the defaults of {@link #of()}. */
    public static HealthCheck http(String path) {
        return builder().kind(Kind.HTTP).path(path).build();
    }

    /** A builder of a check, starting from the defaults of {@link #of()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this check's settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.kind = kind;
        b.path = path;
        b.interval = interval;
        b.timeout = timeout;
        b.fall = fall;
        b.rise = rise;
        return b;
    }

    /** What a probe does. */
    public Kind kind() {
        return kind;
    }

    /** The path (with its query, if any) probed on each target's host and port; empty: each target's own URL. */
    public Optional<String> path() {
        return Optional.ofNullable(path);
    }

    /** The time between the end of one probe of a target and the start of the next, give or take 10 %. */
    public Duration interval() {
        return interval;
    }

    /** How long a probe may take; a probe without an answer by then failed. */
    public Duration timeout() {
        return timeout;
    }

    /** How many failed probes in a row take a target down. */
    public int fall() {
        return fall;
    }

    /** How many successful probes in a row bring a down target back up. */
    public int rise() {
        return rise;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HealthCheck c && c.kind == kind && Objects.equals(c.path, path) && c.interval.equals(interval)
                && c.timeout.equals(timeout) && c.fall == fall && c.rise == rise;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, path, interval, timeout, fall, rise);
    }

    @Override
    public String toString() {
        return "HealthCheck[" + kind.name().toLowerCase(Locale.ROOT) + (path == null ? "" : " " + path)
                + ", interval " + interval + ", timeout " + timeout + ", fall " + fall + ", rise " + rise + "]";
    }

    /** Builds a {@link HealthCheck}; every setting is checked by {@link #build()}. */
    public static final class Builder {
        private Kind kind = Kind.WEBSOCKET;
        private String path;
        private Duration interval = Duration.ofSeconds(5);
        private Duration timeout = Duration.ofSeconds(2);
        private int fall = 3;
        private int rise = 2;

        private Builder() {
        }

        /** What a probe does; {@link Kind#WEBSOCKET} by default. {@link Kind#HTTP} needs a {@link #path(String)}. */
        public Builder kind(Kind kind) {
            this.kind = requireNonNull(kind, "kind");
            return this;
        }

        /**
         * The path to probe on each target's host and port, starting with {@code /}, with a query if need be
         * (e.g. {@code /health}); without one a WebSocket check probes each target's own URL.
         *
         * @throws IllegalArgumentException if it does not start with {@code /}, or is not a valid path
         */
        public Builder path(String path) {
            requireNonNull(path, "path");
            if (!path.startsWith("/") || path.startsWith("//") || path.indexOf('{') >= 0 || path.indexOf('#') >= 0) {
                throw new IllegalArgumentException("path: " + path + " (expected: a path such as /health)");
            }
            try {
                new URI("http://host" + path);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("path: " + path + " (expected: a valid path: " + e.getReason() + ")");
            }
            this.path = path;
            return this;
        }

        /** The time between probes of a target, more than 0 (5 s by default); each wait is this ± 10 %. */
        public Builder interval(Duration interval) {
            this.interval = requireNonNull(interval, "interval");
            return this;
        }

        /** How long a probe may take, more than 0 (2 s by default). */
        public Builder timeout(Duration timeout) {
            this.timeout = requireNonNull(timeout, "timeout");
            return this;
        }

        /** How many failed probes in a row take a target down, 1 or more (3 by default). */
        public Builder fall(int fall) {
            this.fall = fall;
            return this;
        }

        /** How many successful probes in a row bring a down target back, 1 or more (2 by default). */
        public Builder rise(int rise) {
            this.rise = rise;
            return this;
        }

        /**
         * The check.
         *
         * @throws IllegalArgumentException naming the setting that is wrong
         */
        public HealthCheck build() {
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("interval: " + interval + " (expected: > 0)");
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
            }
            if (fall < 1) {
                throw new IllegalArgumentException("fall: " + fall + " (expected: >= 1)");
            }
            if (rise < 1) {
                throw new IllegalArgumentException("rise: " + rise + " (expected: >= 1)");
            }
            if (kind == Kind.HTTP && path == null) {
                throw new IllegalArgumentException("path: none (expected: the path an HTTP check gets, such as /health)");
            }
            return new HealthCheck(this);
        }
    }
}
