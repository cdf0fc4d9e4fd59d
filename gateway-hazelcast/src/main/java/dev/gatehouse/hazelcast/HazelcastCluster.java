package dev.gatehouse.hazelcast;

import static java.util.Objects.requireNonNull;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import dev.gatehouse.hazelcast.internal.HazelcastNode;
import dev.gatehouse.spi.Cluster;

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

    private final HazelcastInstance instance;
    private final boolean owned;
    private HazelcastNode node; // the node of the last gateway that joined, or null; guarded by this

    private HazelcastCluster(HazelcastInstance instance, boolean owned) {
        this.instance = instance;
        this.owned = owned;
    }

    /**
     * Starts a Hazelcast member with this configuration, embedded in this gateway node; {@link #close()}
     * shuts it down.
     */
    public static HazelcastCluster embedded(Config config) {
        requireNonNull(config, "config");
        return new HazelcastCluster(Hazelcast.newHazelcastInstance(config), true);
    }

    /**
     * Joins through a member that the application runs already; {@link #close()} leaves it running.
     *
     * @throws IllegalArgumentException if the instance is a Hazelcast client rather than a member
     */
    public static HazelcastCluster of(HazelcastInstance member) {
        requireNonNull(member, "member");
        try {
            member.getCluster().getLocalMember();
        } catch (UnsupportedOperationException e) {
            throw new IllegalArgumentException("member: a Hazelcast client (expected: a member, embedded in this "
                    + "gateway node)", e);
        }
        return new HazelcastCluster(member, false);
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
        node = new HazelcastNode(instance, handler);
        return node;
    }

    /** Leaves the cluster: this node answers no more requests; the member is shut down if this object started it. */
    @Override
    public synchronized void close() {
        if (node != null) {
            node.close();
            node = null;
        }
        if (owned && instance.getLifecycleService().isRunning()) {
            instance.shutdown();
        }
    }

    @Override
    public String toString() {
        return "HazelcastCluster[" + instance.getName() + "]";
    }
}
