package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Connection settings: timeouts, keepalive and limits. A {@link Gateway} has default settings; a
 * {@link Route} may replace them with its own ({@code gateway.settings().toBuilder()...} keeps the other
 * values).
 *
 * <pre>{@code
 * Settings settings = Settings.builder()
 *         .idleTimeout(Duration.ofMinutes(5))
 *         .pingInterval(Duration.ofSeconds(20))
 *         .maxMessageSize(1 << 20)
 *         .build();
 * }</pre>
 */
public final class Settings {

    private static final Settings DEFAULTS = new Builder().build();

    private final Duration idleTimeout;
    private final Duration pingInterval;
    private final Duration pongTimeout;
    private final Duration connectTimeout;
    private final Duration closeTimeout;
    private final long maxClientMessageSize;
    private final long maxBackendMessageSize;
    private final CloseStatus backendLostStatus;
    private final CloseStatus drainStatus;
    private final Duration credentialGrace;
    private final long maxOutboundQueue;
    private final OverflowAction outboundOverflow;
    private final Duration maxLifetime;
    private final double maxLifetimeJitter;
    private final CloseStatus lifetimeStatus;

    private Settings(Builder b) {
        this.idleTimeout = b.idleTimeout;
        this.pingInterval = b.pingInterval;
        this.pongTimeout = b.pongTimeout;
        this.connectTimeout = b.connectTimeout;
        this.closeTimeout = b.closeTimeout;
        this.maxClientMessageSize = b.maxClientMessageSize;
        this.maxBackendMessageSize = b.maxBackendMessageSize;
        this.backendLostStatus = b.backendLostStatus;
        this.drainStatus = b.drainStatus;
        this.credentialGrace = b.credentialGrace;
        this.maxOutboundQueue = b.maxOutboundQueue;
        this.outboundOverflow = b.outboundOverflow;
        this.maxLifetime = b.maxLifetime;
        this.maxLifetimeJitter = b.maxLifetimeJitter;
        this.lifetimeStatus = b.lifetimeStatus;
    }

    /** The defaults: 10 min idle timeout, 30 s pings with a 10 s pong deadline, 10 s connect timeout. */
    public static Settings defaults() {
        return DEFAULTS;
    }

    /** Starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns a builder holding these values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * How long a connection may go without activity before both legs are closed with 1001
     * "idle timeout". Activity is a data frame either way, a ping from either peer, or a pong that does
     * not answer one of the gateway's keepalive pings. {@link Duration#ZERO} disables it.
     */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** How often the gateway pings each leg; {@link Duration#ZERO} disables keepalive. */
    public Duration pingInterval() {
        return pingInterval;
    }

    /**
     * How long a leg has to answer a keepalive ping with a pong before both legs are closed with 1001
     * "keepalive timeout".
     */
    public Duration pongTimeout() {
        return pongTimeout;
    }

    /** The bound on the backend's TCP connect plus WebSocket handshake; past it the client gets 504. */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** How long a leg has to answer the gateway's CLOSE frame before its connection is dropped. */
    public Duration closeTimeout() {
        return closeTimeout;
    }

    /**
     * The largest message, in bytes (UTF-8 for text), that the client may send; a larger one closes the
     * client with 1009 and the backend with 1001. {@code 0} means no limit.
     */
    public long maxClientMessageSize() {
        return maxClientMessageSize;
    }

    /**
     * The largest message, in bytes (UTF-8 for text), that the backend may send; a larger one closes the
     * backend with 1009 and the client with 1001. {@code 0} means no limit.
     */
    public long maxBackendMessageSize() {
        return maxBackendMessageSize;
    }

    /** What the client receives when the backend connection is lost without a CLOSE frame: 1014 by default. */
    public CloseStatus backendLostStatus() {
        return backendLostStatus;
    }

    /** What the client receives when the gateway drains: 1012 "service restart" by default. */
    public CloseStatus drainStatus() {
        return drainStatus;
    }

    /**
     * How long past its credential's expiry a connection stays open before the client is closed with 1008
     * "credential expired" (the backend with 1001); zero by default.
     */
    public Duration credentialGrace() {
        return credentialGrace;
    }

    /**
     * The most bytes of messages sent through {@link Connections} (the management API) that may wait for one
     * connection's client, each message counting its payload plus 64 bytes; a send that would exceed it is
     * answered with {@link SendResult#QUEUE_FULL}, and what else happens is {@link #outboundOverflow()}.
     * 1 MiB by default.
     */
    public long maxOutboundQueue() {
        return maxOutboundQueue;
    }

    /**
     * What a send through {@link Connections} that would overflow {@link #maxOutboundQueue()} does besides
     * answering {@link SendResult#QUEUE_FULL}: {@link OverflowAction#REFUSE} (the default) leaves the connection
     * alone; {@link OverflowAction#CLOSE} closes its client with 1013 "try again later" and its backend with
     * 1001. This queue is the only buffer of a connection that can overflow: relayed messages are not queued
     * but flow by demand, a slow reader slowing its writer.
     */
    public OverflowAction outboundOverflow() {
        return outboundOverflow;
    }

    /**
     * The longest a connection stays open, counted from the start of its relay; past it the client is closed
     * with {@link #lifetimeStatus()} and the backend (a WebSocket API route's integrations) with 1001.
     * {@link Duration#ZERO}, the default, means no limit. Each connection's own lifetime is drawn at random
     * between {@code maxLifetime × (1 − }{@link #maxLifetimeJitter()}{@code )} and {@code maxLifetime}, so that
     * connections opened together do not all close, and reconnect, together.
     */
    public Duration maxLifetime() {
        return maxLifetime;
    }

    /**
     * The fraction of {@link #maxLifetime()} by which a connection's lifetime may be shorter: 0 to 0.5, 0.1 by
     * default (a 2 h maximum then closes connections between 1 h 48 min and 2 h after they opened).
     */
    public double maxLifetimeJitter() {
        return maxLifetimeJitter;
    }

    /** What the client receives when its connection reaches its lifetime: 1001 "max lifetime" by default. */
    public CloseStatus lifetimeStatus() {
        return lifetimeStatus;
    }

    @Override
    public String toString() {
        return "Settings[idleTimeout=" + idleTimeout + ", pingInterval=" + pingInterval + ", pongTimeout="
                + pongTimeout + ", connectTimeout=" + connectTimeout + ", closeTimeout=" + closeTimeout
                + ", maxClientMessageSize=" + maxClientMessageSize
                + ", maxBackendMessageSize=" + maxBackendMessageSize + ", backendLostStatus=" + backendLostStatus
                + ", drainStatus=" + drainStatus + ", credentialGrace=" + credentialGrace
                + ", maxOutboundQueue=" + maxOutboundQueue + ", outboundOverflow=" + outboundOverflow
                + ", maxLifetime=" + maxLifetime + ", maxLifetimeJitter=" + maxLifetimeJitter
                + ", lifetimeStatus=" + lifetimeStatus + "]";
    }

    /** Builds {@link Settings}; each setter validates its argument. */
    public static final class Builder {
        private Duration idleTimeout = Duration.ofMinutes(10);
        private Duration pingInterval = Duration.ofSeconds(30);
        private Duration pongTimeout = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration closeTimeout = Duration.ofSeconds(5);
        private long maxClientMessageSize = 64L << 20;
        private long maxBackendMessageSize = 64L << 20;
        private CloseStatus backendLostStatus = CloseStatus.BACKEND_UNAVAILABLE;
        private CloseStatus drainStatus = CloseStatus.SERVICE_RESTART;
        private Duration credentialGrace = Duration.ZERO;
        private long maxOutboundQueue = 1L << 20;
        private OverflowAction outboundOverflow = OverflowAction.REFUSE;
        private Duration maxLifetime = Duration.ZERO;
        private double maxLifetimeJitter = 0.1;
        private CloseStatus lifetimeStatus = CloseStatus.of(1001, "max lifetime");

        private Builder() {
        }

        private Builder(Settings s) {
            idleTimeout = s.idleTimeout;
            pingInterval = s.pingInterval;
            pongTimeout = s.pongTimeout;
            connectTimeout = s.connectTimeout;
            closeTimeout = s.closeTimeout;
            maxClientMessageSize = s.maxClientMessageSize;
            maxBackendMessageSize = s.maxBackendMessageSize;
            backendLostStatus = s.backendLostStatus;
            drainStatus = s.drainStatus;
            credentialGrace = s.credentialGrace;
            maxOutboundQueue = s.maxOutboundQueue;
            outboundOverflow = s.outboundOverflow;
            maxLifetime = s.maxLifetime;
            maxLifetimeJitter = s.maxLifetimeJitter;
            lifetimeStatus = s.lifetimeStatus;
        }

        /** See {@link Settings#idleTimeout()}; zero disables. */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = notNegative(idleTimeout, "idleTimeout");
            return this;
        }

        /** See {@link Settings#pingInterval()}; zero disables. */
        public Builder pingInterval(Duration pingInterval) {
            this.pingInterval = notNegative(pingInterval, "pingInterval");
            return this;
        }

        /** See {@link Settings#pongTimeout()}. */
        public Builder pongTimeout(Duration pongTimeout) {
            this.pongTimeout = positive(pongTimeout, "pongTimeout");
            return this;
        }

        /** See {@link Settings#connectTimeout()}. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = positive(connectTimeout, "connectTimeout");
            return this;
        }

        /** See {@link Settings#closeTimeout()}. */
        public Builder closeTimeout(Duration closeTimeout) {
            this.closeTimeout = positive(closeTimeout, "closeTimeout");
            return this;
        }

        /** The largest message in both directions; zero means no limit. 64 MiB by default. */
        public Builder maxMessageSize(long maxMessageSize) {
            this.maxClientMessageSize = size(maxMessageSize, "maxMessageSize");
            this.maxBackendMessageSize = maxClientMessageSize;
            return this;
        }

        /** See {@link Settings#maxClientMessageSize()}; zero means no limit. */
        public Builder maxClientMessageSize(long maxClientMessageSize) {
            this.maxClientMessageSize = size(maxClientMessageSize, "maxClientMessageSize");
            return this;
        }

        /** See {@link Settings#maxBackendMessageSize()}; zero means no limit. */
        public Builder maxBackendMessageSize(long maxBackendMessageSize) {
            this.maxBackendMessageSize = size(maxBackendMessageSize, "maxBackendMessageSize");
            return this;
        }

        private static long size(long value, String name) {
            if (value < 0) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: >= 0)");
            }
            return value;
        }

        /** See {@link Settings#backendLostStatus()}; must be transmittable, typically 1014 or 1011. */
        public Builder backendLostStatus(CloseStatus backendLostStatus) {
            this.backendLostStatus = transmittable(backendLostStatus, "backendLostStatus");
            return this;
        }

        /** See {@link Settings#drainStatus()}; must be transmittable, typically 1012 or 1001. */
        public Builder drainStatus(CloseStatus drainStatus) {
            this.drainStatus = transmittable(drainStatus, "drainStatus");
            return this;
        }

        /** See {@link Settings#credentialGrace()}. */
        public Builder credentialGrace(Duration credentialGrace) {
            this.credentialGrace = notNegative(credentialGrace, "credentialGrace");
            return this;
        }

        /** See {@link Settings#maxOutboundQueue()}. */
        public Builder maxOutboundQueue(long maxOutboundQueue) {
            if (maxOutboundQueue <= 0) {
                throw new IllegalArgumentException("maxOutboundQueue: " + maxOutboundQueue + " (expected: > 0)");
            }
            this.maxOutboundQueue = maxOutboundQueue;
            return this;
        }

        /** See {@link Settings#outboundOverflow()}. */
        public Builder outboundOverflow(OverflowAction outboundOverflow) {
            this.outboundOverflow = requireNonNull(outboundOverflow, "outboundOverflow");
            return this;
        }

        /** See {@link Settings#maxLifetime()}; zero means no limit. */
        public Builder maxLifetime(Duration maxLifetime) {
            this.maxLifetime = notNegative(maxLifetime, "maxLifetime");
            return this;
        }

        /** See {@link Settings#maxLifetimeJitter()}; 0 to 0.5, where 0 closes every connection at exactly the maximum. */
        public Builder maxLifetimeJitter(double maxLifetimeJitter) {
            if (!(maxLifetimeJitter >= 0 && maxLifetimeJitter <= 0.5)) {
                throw new IllegalArgumentException("maxLifetimeJitter: " + maxLifetimeJitter + " (expected: 0-0.5)");
            }
            this.maxLifetimeJitter = maxLifetimeJitter;
            return this;
        }

        /** See {@link Settings#lifetimeStatus()}; must be transmittable, typically 1001 or 1012. */
        public Builder lifetimeStatus(CloseStatus lifetimeStatus) {
            this.lifetimeStatus = transmittable(lifetimeStatus, "lifetimeStatus");
            return this;
        }

        /** Builds the settings. */
        public Settings build() {
            return new Settings(this);
        }

        private static Duration notNegative(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isNegative()) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: >= 0)");
            }
            return d;
        }

        private static Duration positive(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
            }
            return d;
        }

        private static CloseStatus transmittable(CloseStatus status, String name) {
            requireNonNull(status, name);
            if (!status.isTransmittable()) {
                throw new IllegalArgumentException(name + ": " + status.code() + " (expected: a code that may be sent)");
            }
            return status;
        }
    }
}
