package dev.gatehouse.hazelcast;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;

import dev.gatehouse.hazelcast.internal.AsyncExecutor;
import dev.gatehouse.hazelcast.internal.Fallbacks;
import dev.gatehouse.hazelcast.internal.HazelcastLimiterStore;
import dev.gatehouse.hazelcast.internal.HazelcastNode;
import dev.gatehouse.spi.Cluster;
import dev.gatehouse.spi.LimiterStore;

/**
 * Several gateway nodes as one, on Hazelcast: each node embeds a Hazelcast member (or is a client of a Hazelcast
 * cluster), and any node's
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
 * <p>A node may also join an existing Hazelcast cluster as a client ({@link Builder#client}, {@link Builder#clientOf}):
 * requests then travel over Hazelcast topics, since clients run no executor tasks, and the live gateway nodes are
 * the entries of a map that each node refreshes every 2 seconds and that expire after 10 seconds without a
 * refresh: the survivors then remove a dead node's connections and connection slots. The cluster's members need
 * {@code gateway-hazelcast} on their class path, for the directory's entries and entry processors.
 *
 * <p>When the member that {@link #embedded(Config)} started stops without {@link #close()} (it was terminated,
 * or crashed), a new member is started with the same configuration (up to {@value #RESTART_ATTEMPTS} attempts,
 * backing off from 100 ms to 5 s, each logged), and the gateway's node goes on with it: under the new member's
 * id, its open connections registered again, its connection slots counted again, the revocations reloaded. The
 * same re-registration follows a merge after a split brain, and a client's reconnection. Meanwhile the node
 * serves its own connections as before, and requests to other nodes fail at once with
 * {@code NodeUnreachableException} (503).
 *
 * <p>One gateway joins through a cluster object at a time. {@link #close()} leaves the cluster; it shuts the
 * member or client down only if this object started it.
 */
public final class HazelcastCluster implements Cluster, AutoCloseable {

    /** How long a shared limit waits for the engine by default before it falls back. */
    public static final Duration DEFAULT_LIMITS_TIMEOUT = Duration.ofSeconds(1);

    /** How many times in a row an embedded member that stopped is started again before the node gives up. */
    public static final int RESTART_ATTEMPTS = 10;

    private static final Logger LOG = LoggerFactory.getLogger(HazelcastCluster.class);
    private static final long FIRST_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final Config config; // the embedded member's, to start it again; null when not embedded
    private final boolean client;
    private final boolean owned;
    private final Fallback limitsFallback;
    private final Duration limitsTimeout;
    private final Fallbacks fallbacks;
    private final Runnable beforeRestart; // a test's hook, run before each attempt to start the member again
    private final ScheduledExecutorService restarts; // the embedded member's restarts; null when not embedded
    private volatile HazelcastInstance instance; // the engine now: replaced when an embedded member is restarted
    private final HazelcastLimiterStore limiterStore; // on the engine of the moment
    private volatile Cluster.Handler handler; // the last gateway's that joined, or null
    private HazelcastNode node; // the node of the last gateway that joined, or null; guarded by this
    private volatile boolean closed; // set once, by close()

    private HazelcastCluster(Builder b) {
        AsyncExecutor.install();
        this.config = b.config;
        this.client = b.clientConfig != null || b.client != null;
        this.owned = b.config != null || b.clientConfig != null;
        this.limitsFallback = b.limitsFallback;
        this.limitsTimeout = b.limitsTimeout;
        this.beforeRestart = b.beforeRestart;
        this.fallbacks = new Fallbacks(limitsFallback, () -> handler);
        this.limiterStore = new HazelcastLimiterStore(() -> instance.getMap(HazelcastLimiterStore.MAP), limitsTimeout,
                fallbacks);
        if (b.config != null) {
            this.instance = Hazelcast.newHazelcastInstance(b.config);
            this.restarts = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "gatehouse-member-restart");
                t.setDaemon(true);
                return t;
            });
            watch(instance);
        } else {
            this.instance = b.clientConfig != null ? HazelcastClient.newHazelcastClient(b.clientConfig)
                    : b.instance != null ? b.instance : b.client;
            this.restarts = null;
        }
    }

    /** Starts the embedded member again when it stops without {@link #close()}. */
    private void watch(HazelcastInstance member) {
        member.getLifecycleService().addLifecycleListener(event -> {
            // Not under this object's lock: close() holds it while the member fires this event.
            if (event.getState() == LifecycleEvent.LifecycleState.SHUTDOWN) {
                if (closed || instance != member) {
                    return;
                }
                LOG.warn("The embedded Hazelcast member stopped: it is started again");
                restartLater(0);
            }
        });
    }

    private void restartLater(int attempt) {
        long delay = Math.min(FIRST_BACKOFF_MILLIS << Math.min(attempt, 20), MAX_BACKOFF_MILLIS);
        try {
            restarts.schedule(() -> restart(attempt), delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("Closed: the member is not started again");
        }
    }

    private void restart(int attempt) {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        HazelcastInstance fresh;
        try {
            beforeRestart.run();
            fresh = Hazelcast.newHazelcastInstance(config);
        } catch (RuntimeException e) {
            if (attempt + 1 >= RESTART_ATTEMPTS) {
                LOG.error("The embedded Hazelcast member could not be started again after {} attempts: this node "
                        + "stays alone until it is restarted", RESTART_ATTEMPTS, e);
            } else {
                LOG.warn("The embedded Hazelcast member could not be started again (attempt {} of {}): {}",
                        attempt + 1, RESTART_ATTEMPTS, e.toString());
                restartLater(attempt + 1);
            }
            return;
        }
        synchronized (this) {
            if (closed) {
                fresh.shutdown();
                return;
            }
            instance = fresh;
            watch(fresh);
            LOG.info("The embedded Hazelcast member was started again as {}",
                    fresh.getCluster().getLocalMember().getUuid());
            if (node != null) {
                node.restarted(fresh);
            }
        }
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

    /**
     * The Hazelcast instance this node runs on now: its member, or its client in client mode. An embedded member
     * that was started again is a new instance.
     */
    public HazelcastInstance instance() {
        return instance;
    }

    /**
     * How many members the cluster has, this one included; in client mode, how many gateway nodes are alive (once
     * a gateway joined; before, 0).
     */
    public synchronized int members() {
        if (node != null) {
            return node.members();
        }
        return client ? 0 : instance.getCluster().getMembers().size();
    }

    /**
     * This node's id in the directory: its member's UUID; in client mode, an id the node chose when it joined
     * (empty before). It changes when the node joins again after losing the cluster.
     */
    public synchronized String nodeId() {
        if (node != null) {
            return node.id();
        }
        return client ? "" : instance.getCluster().getLocalMember().getUuid().toString();
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
        node = new HazelcastNode(instance, client, handler, fallbacks, limitsTimeout);
        return node;
    }

    /**
     * Leaves the cluster: this node answers no more requests; the member or client is shut down if this object
     * started it, and is not started again.
     */
    @Override
    public synchronized void close() {
        closed = true;
        if (restarts != null) {
            restarts.shutdownNow();
        }
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

    /**
     * Builds a {@link HazelcastCluster}: exactly one of {@link #embedded}, {@link #member}, {@link #client} and
     * {@link #clientOf}.
     */
    public static final class Builder {
        private Config config;
        private HazelcastInstance instance;
        private ClientConfig clientConfig;
        private HazelcastInstance client;
        private Runnable beforeRestart = () -> { };
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

        /**
         * Starts a Hazelcast client with this configuration when built, and joins the cluster it connects to as a
         * client rather than a member; {@link #close()} shuts the client down.
         */
        public Builder client(ClientConfig config) {
            this.clientConfig = requireNonNull(config, "config");
            return this;
        }

        /**
         * Joins the cluster through a Hazelcast client the application runs already, and leaves it running on
         * {@link #close()}.
         */
        public Builder clientOf(HazelcastInstance client) {
            this.client = requireNonNull(client, "client");
            return this;
        }

        /** Runs before each attempt to start the embedded member again; for tests. */
        Builder beforeRestart(Runnable hook) {
            this.beforeRestart = requireNonNull(hook, "hook");
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
         * Starts or joins the member, or the client.
         *
         * @throws IllegalStateException    if not exactly one of {@code embedded}, {@code member}, {@code client}
         *                                  and {@code clientOf} was given
         * @throws IllegalArgumentException if the member is a Hazelcast client, the client a member, or the
         *                                  timeout is not positive
         */
        public HazelcastCluster build() {
            int given = (config == null ? 0 : 1) + (instance == null ? 0 : 1) + (clientConfig == null ? 0 : 1)
                    + (client == null ? 0 : 1);
            if (given != 1) {
                throw new IllegalStateException("embedded/member/client/clientOf: exactly one is required (got "
                        + (given == 0 ? "none" : given) + ")");
            }
            if (client != null) {
                boolean member;
                try {
                    client.getCluster().getLocalMember();
                    member = true;
                } catch (UnsupportedOperationException e) {
                    member = false;
                }
                if (member) {
                    throw new IllegalArgumentException("clientOf: a Hazelcast member (expected: a client; a member "
                            + "goes to member(..))");
                }
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
