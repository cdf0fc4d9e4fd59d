package dev.gatehouse.hazelcast;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;

import dev.gatehouse.Gateway;
import dev.gatehouse.Policy;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.JettyGateway;
import dev.gatehouse.jetty.ManagementApi;
import dev.gatehouse.micrometer.GatehouseMetrics;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.WebSocketApi;

/**
 * One gateway node for the tests: an embedded Hazelcast member on loopback (or a client), and a Jetty server on 127.0.0.1
 * port 0 with the gateway on one connector and its management API on another.
 *
 * <p>The gateway has one route, {@code /api}, a WebSocket API route whose in-process {@code $connect} takes the
 * user and group from the query ({@code ?user=&group=}) and whose {@code $default} answers nothing; a client with
 * {@code X-API-Key: k-dave} is the principal {@code dave}.
 */
final class ClusterNode implements AutoCloseable {

    static final String KEY = "mgmt-key-0123456789";

    final HazelcastCluster cluster;
    final Gateway gateway;
    final MeterRegistry meters = new SimpleMeterRegistry();
    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);
    private final ServerConnector management = new ServerConnector(server);

    ClusterNode(String name, Config config) throws Exception {
        this(name, HazelcastCluster.embedded(config));
    }

    /** A node on a cluster object the test built: a client, or a member with a restart hook. */
    ClusterNode(String name, HazelcastCluster cluster) throws Exception {
        this(cluster, name, c -> Map.of());
    }

    /**
     * A node whose cluster is built with these options, and whose gateway has, besides {@code /api}, one route per
     * entry of {@code limited}: the same WebSocket API at that path, behind those policies (given the cluster, for
     * its {@link HazelcastCluster#limiterStore()}).
     */
    ClusterNode(String name, Config config, UnaryOperator<HazelcastCluster.Builder> options,
            Function<HazelcastCluster, Map<String, List<Policy>>> limited) throws Exception {
        this(options.apply(HazelcastCluster.builder().embedded(config)).build(), name, limited);
    }

    private ClusterNode(HazelcastCluster cluster, String name,
            Function<HazelcastCluster, Map<String, List<Policy>>> limited) throws Exception {
        this.cluster = cluster;
        WebSocketApi api = WebSocketApi.builder()
                .integration("$connect", Integration.of(e -> {
                    Reply.Accept accept = Reply.accept();
                    if (e.handshake().queryParameter("user").isPresent()) {
                        accept = accept.withUser(e.handshake().queryParameter("user").get());
                    }
                    if (e.handshake().queryParameter("group").isPresent()) {
                        accept = accept.withGroups(e.handshake().queryParameter("group").get());
                    }
                    return CompletableFuture.completedFuture(accept);
                }))
                .integration("$default", Integration.of(e -> CompletableFuture.completedFuture(Reply.none())))
                .build();
        Gateway.Builder gw = Gateway.builder()
                .node(name)
                .cluster(cluster)
                .listener(GatehouseMetrics.of(meters))
                .route(Route.builder("/api")
                        .authenticator(ApiKeyAuthenticator.builder().key("k-dave", "dave").build()
                                .orAnonymous())
                        .webSocketApi(api).build());
        limited.apply(cluster).forEach((path, policies) -> {
            Route.Builder route = Route.builder(path).webSocketApi(api);
            policies.forEach(route::policy);
            gw.route(route.build());
        });
        gateway = gw.build();
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        management.setHost("127.0.0.1");
        management.setPort(0);
        management.setName("management");
        server.addConnector(management);
        ContextHandler mgmt = new ContextHandler(ManagementApi.handler(gateway, ApiKeyAuthenticator.of(KEY, "ops")), "/");
        mgmt.setVirtualHosts(List.of("@management"));
        server.setHandler(new Handler.Sequence(mgmt, JettyGateway.handler(gateway, server)));
        server.start();
    }

    /**
     * A Hazelcast configuration on loopback only: TCP-IP join among {@code 127.0.0.1:base} to {@code base + 9},
     * the member taking the first free port from {@code base}, multicast and auto-detection off, and a member
     * that stops answering declared gone after 5 s.
     */
    static Config loopback(String clusterName, int base) {
        Config c = new Config().setClusterName(clusterName);
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.setProperty("hazelcast.socket.bind.any", "false");
        c.setProperty("hazelcast.wait.seconds.before.join", "0");
        c.setProperty("hazelcast.partition.count", "23");
        c.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        c.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
        NetworkConfig network = c.getNetworkConfig();
        network.setPort(base).setPortAutoIncrement(true).setPortCount(10);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1"); // with no port: the member's port range
        return c;
    }

    /** A port that was free a moment ago, as the base of a cluster's member ports. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            int port = s.getLocalPort();
            // Leaves room for the members' auto-increment below the ephemeral range's end.
            return Math.min(port, 65_000);
        }
    }

    /** How many operations went through the cluster with this op and result, by the meters. */
    double forwards(String op, String result) {
        var counter = meters.find("gatehouse.cluster.forwards").tag("op", op).tag("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    /** How many shared limits fell back, by the meters: {@code limit} rate, quota or connections. */
    double fallbacks(String limit, String fallback) {
        var counter = meters.find("gatehouse.cluster.fallbacks").tag("limit", limit).tag("fallback", fallback)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    /** The members gauge. */
    double membersGauge() {
        return meters.get("gatehouse.cluster.members").gauge().value();
    }

    URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + connector.getLocalPort() + path);
    }

    URI managementUri(String path) {
        return URI.create("http://127.0.0.1:" + management.getLocalPort() + path);
    }

    /** Kills the node as a crash would: its member terminates without a goodbye, then its server stops. */
    void kill() throws Exception {
        cluster.instance().getLifecycleService().terminate();
        server.stop();
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            cluster.close();
        }
    }
}
