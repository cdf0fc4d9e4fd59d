package dev.gatehouse.hazelcast;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import dev.gatehouse.hazelcast.internal.Fallbacks;
import dev.gatehouse.hazelcast.internal.HazelcastLimiterStore;
import dev.gatehouse.hazelcast.internal.HazelcastNode;
import dev.gatehouse.spi.Cluster;
import dev.gatehouse.spi.LimiterStore;

/**
 * Several gateway nodes as one, on Hazelcast: each node embeds a Hazelcast member, and any node's
 * {@code gateway.connections()} (and so its management API) reaches the connections of every node.
 *
 * <pre>{@code
 * Config config = new Config().setClusterName("gatehouse");
 * config.getNetworkConfig().setPort(5701).getJoin().getTcpIpConfig().setEnabled(true)
 *         .setMembers(List.of("10.0.0.1:5701", "10.0.0.2:5701"));
 * config.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
 * HazelcastCluster cluster = HazelcastCluster.embedded(config);
 * Gateway gateway = Gateway.builder().cluster(cluster).route(chat).build();
 * }</pre>
 *
 * <p>What is shared: the directory of connections (a map from connection id to its node, user and groups, whose
 * entries leave with their node as soon as Hazelcast declares the node gone), requests to a connection on
 * another node (run there through Hazelcast's executor service), and sends, closes and revocations for an
 * audience (run once on every node). What is not: the relay itself, which always runs on the node the client
 * connected to. A connection on this node is always served without Hazelcast. The CP subsystem is not used.
 *
 * <p>One gateway joins through a cluster object at a time. {@link #close()} leaves the cluster; it shuts the
 * member down only if {@link #embedded(Config)} started it.
 */
public final class HazelcastCluster implements Cluster, AutoCloseable {

    /** How long a shared limit waits for the engine by default before it falls back. */
    public static final Duration DEFAULT_LIMITS_TIMEOUT = Duration.ofSeconds(1);

    private final HazelcastInstance instance;
    private final boolean owned;
    private final Fallback limitsFallback;
    private final Duration limitsTimeout;
    private final Fallbacks fallbacks;
    private final HazelcastLimiterStore limiterStore;
    private volatile Cluster.Handler handler; // the last gateway's that joined, or null
    private HazelcastNode node; // the node of the last gateway that joined, or null; guarded by this

    private HazelcastCluster(Builder b) {
        this.instance = b.instance != null ? b.instance : Hazelcast.newHazelcastInstance(b.config);
        this.owned = b.instance == null;
        this.limitsFallback = b.limitsFallback;
        this.limitsTimeout = b.limitsTimeout;
        this.fallbacks = new Fallbacks(limitsFallback, () -> handler);
        this.limiterStore = new HazelcastLimiterStore(instance.getMap(HazelcastLimiterStore.MAP), limitsTimeout,
                fallbacks);
    }

    /**
     * Starts a Hazelcast member with this configuration, embedded in this gateway node; {@link #close()}
     * shuts it down. Shared limits fall back to local counts when the engine cannot be reached.
     */
    public static HazelcastCluster embedded(Config config) {
        return builder().embedded(config).build();
    }

    /**
     * Joins through a member that the application runs already; {@link #close()} leaves it running.
     *
     * @throws IllegalArgumentException if the instance is a Hazelcast client rather than a member
     */
    public static HazelcastCluster of(HazelcastInstance member) {
        return builder().member(member).build();
    }

    /** A builder, for the settings beyond the member: what shared limits do when the engine cannot be reached. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * What a shared limit (a per-principal connection limit; a rate limit or quota kept by the cluster)
     * does when the engine does not answer in time: each time, the cluster logs a warning (at most one every
     * ten seconds) and reports a {@code gatehouse.cluster.fallbacks} metric.
     */
    public enum Fallback {
        /** Counts on this node alone, as a single gateway would (the default): the limit holds per node. */
        LOCAL,
        /** Lets the handshake pass: availability over the limit. */
        OPEN,
        /** Refuses the handshake, as over its limit (429): the limit over availability. */
        CLOSED
    }

    /** What shared limits do when the engine cannot be reached. */
    public Fallback limitsFallback() {
        return limitsFallback;
    }

    /** How long a shared limit waits for the engine before it falls back. */
    public Duration limitsTimeout() {
        return limitsTimeout;
    }

    /**
     * The store of rate limits and quotas shared by every node of the cluster: give it to the policies whose limit
     * holds for the cluster as a whole, each policy with a {@code name} of its own.
     *
     * <pre>{@code
     * Policy perIp = RateLimitPolicy.builder(LimitKey.clientAddress())
     *         .rate(10, Duration.ofSeconds(1)).burst(20)
     *         .name("per-ip")
     *         .store(cluster.limiterStore())
     *         .build();
     * Policy daily = QuotaPolicy.builder(1000, Duration.ofDays(1)).name("daily").store(cluster.limiterStore()).build();
     * }</pre>
     *
     * <p>Buckets and windows live in the map {@value HazelcastLimiterStore#MAP}, one entry per key, each taken or
     * counted by one entry processor on its partition: atomic per key, with no update lost when nodes race. Time is
     * each node's clock, so the nodes' clocks should agree. An entry lives as long as it matters (a bucket until it
     * would be full again, a window until it ends). When the engine does not answer within {@link #limitsTimeout()},
     * {@link #limitsFallback()} decides: this node's own in-memory counts ({@code LOCAL}), an admission
     * ({@code OPEN}), or a refusal as over the limit ({@code CLOSED}, a rate limit's {@code Retry-After} 1 s), with
     * a warning and the {@code gatehouse.cluster.fallbacks} metric (limit {@code rate} or {@code quota}).
     * Thread-safe; the same store for every call, usable before and after a gateway joins.
     */
    public LimiterStore limiterStore() {
        return limiterStore;
    }

    /** The Hazelcast member this node runs on. */
    public HazelcastInstance instance() {
        return instance;
    }

    /** How many members the cluster has, this one included. */
    public int members() {
        return instance.getCluster().getMembers().size();
    }

    /** This node's id in the directory: its member's UUID. */
    public String nodeId() {
        return instance.getCluster().getLocalMember().getUuid().toString();
    }

    /**
     * Called by the gateway when it is built; a gateway joining later takes over from the one before.
     */
    @Override
    public synchronized Node join(String name, Handler handler) {
        requireNonNull(name, "name");
        requireNonNull(handler, "handler");
        if (node != null) {
            node.close();
        }
        this.handler = handler;
        node = new HazelcastNode(instance, handler, fallbacks, limitsTimeout);
        return node;
    }

    /** Leaves the cluster: this node answers no more requests; the member is shut down if this object started it. */
    @Override
    public synchronized void close() {
        if (node != null) {
            node.close();
            node = null;
            handler = null;
        }
        if (owned && instance.getLifecycleService().isRunning()) {
            instance.shutdown();
        }
    }

    @Override
    public String toString() {
        return "HazelcastCluster[" + instance.getName() + "]";
    }

    /** Builds a {@link HazelcastCluster}: exactly one of {@link #embedded} and {@link #member}. */
    public static final class Builder {
        private Config config;
        private HazelcastInstance instance;
        private Fallback limitsFallback = Fallback.LOCAL;
        private Duration limitsTimeout = DEFAULT_LIMITS_TIMEOUT;

        private Builder() {
        }

        /** Starts a member with this configuration when built, embedded in this node and shut down by {@link #close()}. */
        public Builder embedded(Config config) {
            this.config = requireNonNull(config, "config");
            return this;
        }

        /** Joins through a member the application runs already, and leaves it running on {@link #close()}. */
        public Builder member(HazelcastInstance member) {
            this.instance = requireNonNull(member, "member");
            return this;
        }

        /** What shared limits do when the engine cannot be reached; {@link Fallback#LOCAL} by default. */
        public Builder limitsFallback(Fallback fallback) {
            this.limitsFallback = requireNonNull(fallback, "fallback");
            return this;
        }

        /** How long a shared limit waits for the engine before it falls back; 1 second by default. */
        public Builder limitsTimeout(Duration timeout) {
            this.limitsTimeout = requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Starts or joins the member.
         *
         * @throws IllegalStateException    if neither or both of {@code embedded} and {@code member} were given
         * @throws IllegalArgumentException if the member is a Hazelcast client, or the timeout is not positive
         */
        public HazelcastCluster build() {
            if ((config == null) == (instance == null)) {
                throw new IllegalStateException("embedded/member: exactly one is required (got "
                        + (config == null ? "neither" : "both") + ")");
            }
            if (limitsTimeout.isZero() || limitsTimeout.isNegative()) {
                throw new IllegalArgumentException("limitsTimeout: " + limitsTimeout + " (expected: > 0)");
            }
            if (instance != null) {
                try {
                    instance.getCluster().getLocalMember();
                } catch (UnsupportedOperationException e) {
                    throw new IllegalArgumentException("member: a Hazelcast client (expected: a member, embedded in "
                            + "this gateway node)", e);
                }
            }
            return new HazelcastCluster(this);
        }
    }
}
