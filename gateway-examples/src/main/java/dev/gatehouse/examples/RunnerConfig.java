package dev.gatehouse.examples;

import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalDouble;
import java.util.OptionalLong;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.OverflowAction;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.hazelcast.HazelcastCluster;

/**
 * The content of a runner config file, validated by {@link ConfigFile#read(String)}: every value is
 * well-formed, so turning it into Gatehouse objects ({@link RunnerOptions}) fails only on what needs more
 * than one value to see, such as two routes that match the same requests. An absent key is an empty
 * {@code Optional}; the flags given with the file override or add to these values.
 *
 * @param file             the file's name as given to {@code --config}, the first word of every error
 * @param port             {@code port}
 * @param host             {@code host}
 * @param settings         {@code settings}, the gateway-wide ones
 * @param auth             {@code auth}, for every route without its own
 * @param allowOrigins     {@code allowOrigins}, in order
 * @param allowMissingOrigin {@code allowMissingOrigin}: whether a request without {@code Origin} is admitted
 * @param requestTimeout   {@code requestTimeout}
 * @param authFailureLimit {@code authFailureLimit}
 * @param routes           {@code routes}, in order
 * @param management       {@code management}: the management API, off when absent
 * @param metrics          {@code metrics}: whether the management port serves {@code /metrics}; on when absent
 * @param cluster          {@code cluster}: the Hazelcast cluster this runner joins, off when absent
 */
record RunnerConfig(String file, OptionalInt port, Optional<String> host, SettingsValues settings,
        Optional<Credentials> auth, List<String> allowOrigins, Optional<Boolean> allowMissingOrigin,
        Optional<Duration> requestTimeout,
        Optional<AuthFailureLimit> authFailureLimit, List<RouteEntry> routes, Optional<Management> management,
        Optional<Metrics> metrics, Optional<Cluster> cluster) {

    RunnerConfig {
        allowOrigins = List.copyOf(allowOrigins);
        routes = List.copyOf(routes);
    }

    /** How an error names a key of this file: {@code gw.yaml: routes[2].backend}. */
    String label(String keyPath) {
        return file + ": " + keyPath;
    }

    /**
     * The {@code metrics} mapping.
     *
     * @param key     its key path, for messages
     * @param enabled {@code enabled}; true when absent
     */
    record Metrics(String key, boolean enabled) {
    }

    /**
     * The {@code cluster} mapping: the Hazelcast member this runner embeds, and the members it joins.
     *
     * @param key     its key path, for messages
     * @param name    {@code name}, the Hazelcast cluster name; {@value #DEFAULT_NAME} when absent
     * @param port    {@code port}, the member's own port, 1-65535; {@value #DEFAULT_PORT} when absent
     * @param members {@code members}, each {@code host:port}, in order; empty when absent
     * @param limitsFallback {@code limitsFallback}: what shared limits do when the cluster does not answer;
     *                       {@code local} when absent
     * @param limitsTimeout  {@code limitsTimeout}: how long a shared limit waits for the cluster; 1 s when absent
     */
    record Cluster(String key, String name, int port, List<String> members, HazelcastCluster.Fallback limitsFallback,
            Duration limitsTimeout) {

        static final String DEFAULT_NAME = "gatehouse";
        static final int DEFAULT_PORT = 5701;

        Cluster {
            members = List.copyOf(members);
        }

        /** A block with these values and the defaults of the shared limits. */
        Cluster(String key, String name, int port, List<String> members) {
            this(key, name, port, members, HazelcastCluster.Fallback.LOCAL, HazelcastCluster.DEFAULT_LIMITS_TIMEOUT);
        }
    }

    /**
     * The {@code management} mapping.
     *
     * @param key     its key path, for messages
     * @param port    {@code port}, required
     * @param host    {@code host}; the runner listens on loopback without it
     * @param apiKeys {@code apiKeys}; empty when absent, and then {@code --management-key} must give one
     */
    record Management(String key, int port, Optional<String> host, List<Secret> apiKeys) {
        Management {
            apiKeys = List.copyOf(apiKeys);
        }
    }

    /**
     * A {@code settings} mapping: the values it sets, each already checked as its flag (or its
     * {@link Settings.Builder} setter) checks it.
     */
    record SettingsValues(Optional<Duration> idleTimeout, Optional<Duration> pingInterval,
            Optional<Duration> connectTimeout, OptionalLong maxMessageSize, Optional<Duration> maxLifetime,
            OptionalDouble maxLifetimeJitter, Optional<CloseStatus> lifetimeStatus,
            Optional<OverflowAction> outboundOverflow) {

        static final SettingsValues NONE = new SettingsValues(Optional.empty(), Optional.empty(), Optional.empty(),
                OptionalLong.empty(), Optional.empty(), OptionalDouble.empty(), Optional.empty(), Optional.empty());

        /** Sets the values present here on {@code settings}, leaving the others; returns it. */
        Settings.Builder applyTo(Settings.Builder settings) {
            idleTimeout.ifPresent(settings::idleTimeout);
            pingInterval.ifPresent(settings::pingInterval);
            connectTimeout.ifPresent(settings::connectTimeout);
            maxMessageSize.ifPresent(settings::maxMessageSize);
            maxLifetime.ifPresent(settings::maxLifetime);
            maxLifetimeJitter.ifPresent(settings::maxLifetimeJitter);
            lifetimeStatus.ifPresent(settings::lifetimeStatus);
            outboundOverflow.ifPresent(settings::outboundOverflow);
            return settings;
        }
    }

    /** A route's {@code auth}: {@code none}, or its own credentials. */
    sealed interface Auth permits Anonymous, Credentials {
    }

    /** {@code auth: none}: the route admits clients without credentials, whatever the gateway-wide auth. */
    record Anonymous() implements Auth {
    }

    /**
     * An {@code auth} mapping: API keys, a JWT, or both (then a client may present either).
     *
     * @param key     its key path, {@code auth} or {@code routes[N].auth}
     * @param apiKeys {@code apiKeys}, in order; their consumers are {@code key-1}, {@code key-2}...
     * @param jwt     {@code jwt}
     */
    record Credentials(String key, List<Secret> apiKeys, Optional<Jwt> jwt) implements Auth {
        Credentials {
            apiKeys = List.copyOf(apiKeys);
        }
    }

    /**
     * A {@code jwt} mapping: an HS256 secret with the required issuer and audience. Only the gateway-wide
     * one may leave its secret to {@code --jwt-hs256-secret}.
     *
     * @param hs256Secret {@code hs256Secret}
     * @param issuer      {@code issuer}
     * @param audience    {@code audience}
     */
    record Jwt(Optional<Secret> hs256Secret, Optional<String> issuer, Optional<String> audience) {
    }

    /** A secret from the file; its {@link #toString()} never shows it. */
    record Secret(String value) {
        @Override
        public String toString() {
            return "Secret[redacted]";
        }
    }

    /**
     * One entry of {@code routes}.
     *
     * @param key      its key path, {@code routes[N]}, N from 0
     * @param path     {@code path}, a valid path template
     * @param target   where its connections go
     * @param settings {@code settings}, over the gateway-wide ones for this route
     * @param auth     {@code auth}, instead of the gateway-wide one
     * @param limits   {@code maxConnections}, {@code maxConnectionsPerPrincipal}, {@code maxConnectionsPerIp} and
     *                 {@code rateLimit}
     */
    record RouteEntry(String key, String path, Target target, Optional<SettingsValues> settings,
            Optional<Auth> auth, Limits limits) {
    }

    /**
     * A route's limits; each absent when its key is.
     *
     * @param maxConnections             {@code maxConnections}: the route's open connections, 1 or more
     * @param maxConnectionsPerPrincipal {@code maxConnectionsPerPrincipal}: per subject (anonymous: per address)
     * @param maxConnectionsPerIp        {@code maxConnectionsPerIp}: per client address
     * @param rateLimit                  {@code rateLimit}: a handshake rate limit
     */
    record Limits(OptionalInt maxConnections, OptionalInt maxConnectionsPerPrincipal, OptionalInt maxConnectionsPerIp,
            Optional<RateLimit> rateLimit) {

        static final Limits NONE = new Limits(OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(),
                Optional.empty());
    }

    /**
     * A route's {@code rateLimit} mapping: a token bucket per key, checked as {@code RateLimitPolicy} checks it.
     *
     * @param permits {@code permits}: handshakes per period, required
     * @param per     {@code per}: the period; 1 s when absent
     * @param burst   {@code burst}: the bucket's capacity; {@code permits} when absent
     * @param key     {@code key}: what the handshakes are counted by; {@code ip} when absent
     */
    record RateLimit(int permits, Duration per, int burst, RateLimitKey key) {
    }

    /** A {@code rateLimit}'s {@code key}. */
    enum RateLimitKey {
        /** {@code ip}: per client address. */
        IP,
        /** {@code principal}: per subject; anonymous handshakes per client address. */
        PRINCIPAL,
        /** {@code route}: all the route's handshakes together. */
        ROUTE
    }

    /** What a route does with its connections: relay them to a backend or a group of them, or route their messages. */
    sealed interface Target permits Proxy, Group, WebSocketApi {
    }

    /** {@code backend}: a proxy route to one WebSocket backend, a valid URL template for its path. */
    record Proxy(String backend) implements Target {
    }

    /**
     * {@code targets} with {@code balance}, {@code healthCheck} and the group's other keys: a proxy route to a
     * load-balanced group, valid for its path.
     */
    record Group(BackendGroup group) implements Target {
    }

    /**
     * {@code integrations} with {@code selection} and {@code replies}: a WebSocket API route, whose messages
     * go to HTTP integrations by route key. Validated, not yet run by the engine.
     *
     * @param selection    the route selection expression, {@value #DEFAULT_SELECTION} by default
     * @param integrations route key ({@code $connect}, {@code $disconnect}, {@code $default} or a custom
     *                     name) to an http or https URL, in the file's order
     * @param replies      whether an integration's answer is sent to the client, true by default
     */
    record WebSocketApi(String selection, Map<String, URI> integrations, boolean replies) implements Target {

        static final String DEFAULT_SELECTION = "$request.body.action";

        WebSocketApi {
            integrations = Collections.unmodifiableMap(new LinkedHashMap<>(integrations));
        }
    }
}
