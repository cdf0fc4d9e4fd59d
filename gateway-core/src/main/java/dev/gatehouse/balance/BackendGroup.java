package dev.gatehouse.balance;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import dev.gatehouse.Backend;
import dev.gatehouse.GatewayException;
import dev.gatehouse.Handshake;
import dev.gatehouse.internal.UriTemplateBackend;

/**
 * A load-balanced group of WebSocket targets behind one route (Huawei APIG's "load balance channel").
 *
 * <pre>{@code
 * Route.of("/feed", BackendGroup.builder()
 *         .target("ws://feed-a.internal:7001/feed")
 *         .target("ws://feed-b.internal:7001/feed", 2)      // twice the share of feed-a
 *         .balance(Balance.leastConnections())              // the default
 *         .build());
 * }</pre>
 *
 * <p><b>Failover.</b> The backend-first handshake makes failover safe: it happens before the client's 101,
 * so the client never sees a failed target. A connect error, a TLS failure, a timeout, a 5xx or a broken
 * handshake answer moves the dial to another target, up to {@link Builder#attempts(int)} attempts in all
 * (2 by default), never to the same target twice; each attempt has the route's connect timeout. A target's
 * 4xx is the backend's answer to the client, relayed and never retried.
 *
 * <p><b>Health.</b> {@link Builder#ejectAfter(int)} consecutive failed dials (3 by default) eject a target
 * for a cool-down ({@link Builder#ejectFor(Duration)}, 10 s by default) that doubles with each ejection in a
 * row, up to 32 times the base; never more than half the group is ejected at once; a successful dial after
 * its return resets the count. With a {@link Builder#healthCheck(HealthCheck) health check} the gateway also
 * probes each target, from the mount's start to its stop, and a target its probes take down is out of the
 * balance until they bring it back up. A target is healthy when it is neither ejected nor down. When no
 * target is healthy the gateway tries them all anyway, or, with {@link Builder#refuseWhenNoneHealthy()},
 * answers 503. With {@link Builder#slowStart(Duration)} a target that comes back (from a cool-down, or up
 * again by its probes) receives its share of new connections gradually, from a tenth of its weight to all of
 * it over that time. Sessions already open on a target that fails stay open, unless
 * {@link Builder#closeSessionsOnDown(Duration)} closes those of a target that the probes take down.
 *
 * <p>Targets are URL templates, as for {@link Backend#of(String)}. A group is an immutable value: two groups
 * built alike are equal, so a route table updated with an equal group keeps the group's live state
 * (sessions per target, ejections). The gateway keeps that state; {@link #target(Handshake)}, which only
 * resolves the first target's URI, is not how the gateway chooses.
 */
public final class BackendGroup implements Backend {

    /** One target of the group: a URL template and its weight. */
    public record Target(String url, int weight) {
        /** Checks the URL is a {@code ws://} or {@code wss://} template and the weight is 1 to 1000. */
        public Target {
            requireNonNull(url, "url");
            UriTemplateBackend.parse(url);
            if (weight < 1 || weight > 1000) {
                throw new GatewayException("target " + url + ": weight must be 1 to 1000, not " + weight);
            }
        }
    }

    private final List<Target> targets;
    private final List<UriTemplateBackend> templates;
    private final Balance balance;
    private final int attempts;
    private final int ejectAfter;
    private final Duration ejectFor;
    private final boolean refuseWhenNoneHealthy;
    private final Duration slowStart;
    private final HealthCheck healthCheck;         // null: no active checks
    private final Duration closeSessionsOnDown;    // null: sessions on a target that goes down stay open

    private BackendGroup(Builder b) {
        this.targets = List.copyOf(b.targets);
        List<UriTemplateBackend> t = new ArrayList<>(targets.size());
        for (Target target : targets) {
            t.add(UriTemplateBackend.parse(target.url()));
        }
        this.templates = List.copyOf(t);
        this.balance = b.balance;
        this.attempts = Math.min(b.attempts, targets.size());
        this.ejectAfter = b.ejectAfter;
        this.ejectFor = b.ejectFor;
        this.refuseWhenNoneHealthy = b.refuseWhenNoneHealthy;
        this.slowStart = b.slowStart;
        this.healthCheck = b.healthCheck;
        this.closeSessionsOnDown = b.closeSessionsOnDown;
    }

    /** A group of these targets, each of weight 1, balanced by least connections. */
    public static BackendGroup of(String... urls) {
        Builder b = builder();
        for (String url : urls) {
            b.target(url);
        }
        return b.build();
    }

    /** A builder of a group. */
    public static Builder builder() {
        return new Builder();
    }

    /** The first target's URI for this handshake; the gateway itself balances over all targets. */
    @Override
    public URI target(Handshake handshake) {
        return templates.get(0).target(handshake);
    }

    /** The URI of target {@code index} for this handshake. */
    public URI target(int index, Handshake handshake) {
        return templates.get(index).target(handshake);
    }

    /** The targets, in the order given. */
    public List<Target> targets() {
        return targets;
    }

    /** How a target is chosen. */
    public Balance balance() {
        return balance;
    }

    /** The most targets one handshake tries. */
    public int attempts() {
        return attempts;
    }

    /** How many failed dials in a row eject a target. */
    public int ejectAfter() {
        return ejectAfter;
    }

    /** The first cool-down of an ejected target. */
    public Duration ejectFor() {
        return ejectFor;
    }

    /** Whether a handshake gets 503 when no target is healthy (else every target is tried anyway). */
    public boolean refuseWhenNoneHealthy() {
        return refuseWhenNoneHealthy;
    }

    /** How long a target that came back takes to receive its full share; zero for at once. */
    public Duration slowStart() {
        return slowStart;
    }

    /** The active health check of the targets; empty when only dials tell a target's health. */
    public Optional<HealthCheck> healthCheck() {
        return Optional.ofNullable(healthCheck);
    }

    /**
     * The window over which the open sessions of a target that the health check takes down are closed; empty
     * when they stay open.
     */
    public Optional<Duration> closeSessionsOnDown() {
        return Optional.ofNullable(closeSessionsOnDown);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BackendGroup g && g.targets.equals(targets) && g.balance.equals(balance)
                && g.attempts == attempts && g.ejectAfter == ejectAfter && g.ejectFor.equals(ejectFor)
                && g.refuseWhenNoneHealthy == refuseWhenNoneHealthy && g.slowStart.equals(slowStart)
                && Objects.equals(g.healthCheck, healthCheck) && Objects.equals(g.closeSessionsOnDown, closeSessionsOnDown);
    }

    @Override
    public int hashCode() {
        return Objects.hash(targets, balance, attempts, ejectAfter, ejectFor, refuseWhenNoneHealthy, slowStart,
                healthCheck, closeSessionsOnDown);
    }

    /** The targets with their weights, the balance and the health check, e.g. {@code [ws://a/feed, ws://b/feed (weight 2)] round-robin}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (Target t : targets) {
            sb.append(sb.length() > 1 ? ", " : "").append(t.url());
            if (t.weight() != 1) {
                sb.append(" (weight ").append(t.weight()).append(')');
            }
        }
        sb.append("] ").append(balance);
        if (healthCheck != null) {
            sb.append(", ").append(healthCheck);
        }
        return sb.toString();
    }

    /** Builds a {@link BackendGroup}; every setting is checked by {@link #build()}. */
    public static final class Builder {
        private final List<Target> targets = new ArrayList<>();
        private Balance balance = Balance.leastConnections();
        private int attempts = 2;
        private int ejectAfter = 3;
        private Duration ejectFor = Duration.ofSeconds(10);
        private boolean refuseWhenNoneHealthy;
        private Duration slowStart = Duration.ZERO;
        private HealthCheck healthCheck;
        private Duration closeSessionsOnDown;

        private Builder() {
        }

        /** Adds a target of weight 1. */
        public Builder target(String url) {
            return target(url, 1);
        }

        /** Adds a target with a weight from 1 to 1000: its share of connections relative to the others. */
        public Builder target(String url, int weight) {
            targets.add(new Target(url, weight));
            return this;
        }

        /** How a target is chosen; {@link Balance#leastConnections()} by default. */
        public Builder balance(Balance balance) {
            this.balance = requireNonNull(balance, "balance");
            return this;
        }

        /** The most targets one handshake tries, 1 or more (2 by default; at most the number of targets). */
        public Builder attempts(int attempts) {
            this.attempts = attempts;
            return this;
        }

        /** How many failed dials in a row eject a target, 1 or more (3 by default). */
        public Builder ejectAfter(int failures) {
            this.ejectAfter = failures;
            return this;
        }

        /** The first cool-down of an ejected target (10 s by default); each ejection in a row doubles it, up to 32 ×. */
        public Builder ejectFor(Duration coolDown) {
            this.ejectFor = requireNonNull(coolDown, "ejectFor");
            return this;
        }

        /** Answer 503 when no target is healthy, instead of trying them all anyway. */
        public Builder refuseWhenNoneHealthy() {
            this.refuseWhenNoneHealthy = true;
            return this;
        }

        /** Give a target that comes back its share of new connections gradually over this time (zero: off). */
        public Builder slowStart(Duration slowStart) {
            this.slowStart = requireNonNull(slowStart, "slowStart");
            return this;
        }

        /**
         * Probes the targets with this check (none by default): a target is out of the balance while its
         * probes say it is down. A group of targets whose URL templates have path parameters needs a check with
         * a {@link HealthCheck#path() path} of its own.
         */
        public Builder healthCheck(HealthCheck check) {
            this.healthCheck = requireNonNull(check, "healthCheck");
            return this;
        }

        /**
         * Closes the open sessions of a target that the {@link #healthCheck(HealthCheck) health check} takes
         * down, the client with 1012 "service restart" and the target with 1001, one after another spread over
         * {@code window} (zero: all at once), so that their clients reconnect to the other targets without a
         * stampede. By default they stay open: a target may fail its probes and still serve the sessions it has.
         * Needs a health check; a target ejected after failed dials keeps its sessions either way.
         */
        public Builder closeSessionsOnDown(Duration window) {
            this.closeSessionsOnDown = requireNonNull(window, "closeSessionsOnDown");
            return this;
        }

        /**
         * The group.
         *
         * @throws GatewayException naming the setting that is wrong
         */
        public BackendGroup build() {
            if (targets.isEmpty()) {
                throw new GatewayException("targets: a backend group needs at least one target");
            }
            if (attempts < 1) {
                throw new GatewayException("attempts must be 1 or more, not " + attempts);
            }
            if (ejectAfter < 1) {
                throw new GatewayException("ejectAfter must be 1 or more, not " + ejectAfter);
            }
            if (ejectFor.isNegative() || ejectFor.isZero()) {
                throw new GatewayException("ejectFor must be positive, not " + ejectFor);
            }
            if (slowStart.isNegative()) {
                throw new GatewayException("slowStart must not be negative, not " + slowStart);
            }
            if (closeSessionsOnDown != null && closeSessionsOnDown.isNegative()) {
                throw new GatewayException("closeSessionsOnDown must not be negative, not " + closeSessionsOnDown);
            }
            if (closeSessionsOnDown != null && healthCheck == null) {
                throw new GatewayException("closeSessionsOnDown: " + closeSessionsOnDown
                        + " without a healthCheck (expected: a healthCheck, whose probes take a target down)");
            }
            if (healthCheck != null && healthCheck.path().isEmpty()) {
                for (Target t : targets) {
                    if (t.url().indexOf('{') >= 0) {
                        throw new GatewayException("healthCheck: no path, and target " + t.url()
                                + " has path parameters (expected: a check with a path of its own, such as /health)");
                    }
                }
            }
            return new BackendGroup(this);
        }
    }
}
