package dev.gatehouse.bench;

/**
 * Where a run's load goes: straight to the backend, through the gateway, or (for {@link Scenario#API_HTTP})
 * as HTTP POSTs from Jetty's {@code HttpClient} in the load generator to the backend's HTTP echo; the cluster
 * scenarios compare one node ({@link #LOCAL}) with the cluster ({@link #CLUSTER}).
 */
enum Side {
    DIRECT("direct"),
    GATEWAY("gateway"),
    HTTP_CLIENT("http-client"),
    /**
     * The cluster scenarios' reference: {@link Scenario#POST_CONNECTION_CROSS}'s POSTs to the node that holds the
     * connections; {@link Scenario#HANDSHAKES_SHARED_LIMIT}'s limited route on a gateway without a cluster.
     */
    LOCAL("local"),
    /**
     * Through the cluster: {@link Scenario#POST_CONNECTION_CROSS}'s POSTs to the other node, forwarded;
     * {@link Scenario#HANDSHAKES_SHARED_LIMIT}'s limited route on a node of a two-member cluster.
     */
    CLUSTER("cluster"),
    /** {@link Scenario#HANDSHAKES_SHARED_LIMIT}'s unlimited route on the same cluster node: the cluster without the limit. */
    CLUSTER_OPEN("cluster-open"),
    /**
     * {@link Scenario#HANDSHAKES_SHARED_LIMIT}'s rate-limited route ({@link GatewayRole#RATE_LIMITED_PATH}) on the
     * gateway without a cluster: the rate limit counted in memory.
     */
    LOCAL_RATE("local-rate"),
    /**
     * {@link Scenario#HANDSHAKES_SHARED_LIMIT}'s rate-limited route on node A: the rate limit counted in the
     * cluster's store.
     */
    CLUSTER_RATE("cluster-rate");

    private final String label;

    Side(String label) {
        this.label = label;
    }

    @Override
    public String toString() {
        return label;
    }
}
