package dev.gatehouse.balance;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

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
 * its return resets the count. When no target is healthy the gateway tries them all anyway, or, with
 * {@link Builder#refuseWhenNoneHealthy()}, answers 503. With {@link Builder#slowStart(Duration)} a target that
 * comes back receives its share of new connections gradually, from a tenth of its weight to all of it over
 * that time. Sessions already open on a target that fails stay open.
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

    @Override
    public boolean equals(Object o) {
        return o instanceof BackendGroup g && g.targets.equals(targets) && g.balance.equals(balance)
                && g.attempts == attempts && g.ejectAfter == ejectAfter && g.ejectFor.equals(ejectFor)
                && g.refuseWhenNoneHealthy == refuseWhenNoneHealthy && g.slowStart.equals(slowStart);
    }

    @Override
    public int hashCode() {
        return Objects.hash(targets, balance, attempts, ejectAfter, ejectFor, refuseWhenNoneHealthy, slowStart);
    }

    @Override
    public String toString() {
        return "BackendGroup" + targets + " " + balance;
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
            return new BackendGroup(this);
        }
    }
}
