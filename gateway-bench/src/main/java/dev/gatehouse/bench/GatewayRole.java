package dev.gatehouse.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.util.VirtualThreads;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.hazelcast.HazelcastCluster;
import dev.gatehouse.jetty.JettyGateway;
import dev.gatehouse.jetty.ManagementApi;
import dev.gatehouse.policy.LimitKey;
import dev.gatehouse.policy.RateLimitPolicy;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.IntegrationHandler;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.WebSocketApi;
import dev.gatehouse.spi.LimiterStore;

/**
 * The gateway role: a Jetty 12 core server on 127.0.0.1 with {@link JettyGateway#handler} and four routes:
 * {@code /echo}, a proxy route to the backend's {@code /echo}; {@link #API_INPROCESS_PATH}, a WebSocket API
 * route whose {@code $default} integration replies in this JVM with the message it got;
 * {@link #API_HTTP_PATH}, one whose {@code $default} integration is the backend's HTTP echo
 * ({@link HttpEcho#PATH}); and {@link #PUSH_PATH}, the management scenarios' route, whose {@code $default}
 * integration replies with the caller's connection id. Idle timeout and keepalive keep their defaults; the
 * message size limit is raised for the 1 MiB scenario (the WebSocket API routes keep their own 128 KiB). A
 * reference relay ({@code --relay}) serves {@code /echo} only.
 *
 * <p>When the environment variable {@link #MANAGEMENT_KEY_ENV} is set (and the relay is Gatehouse), the role also
 * serves the HTTP management API ({@link ManagementApi}) on a second connector of its own on 127.0.0.1, behind an
 * {@link ApiKeyAuthenticator} with that key, and announces its port after the gateway's ({@link RoleControl}).
 * The key comes in the environment, never on the command line, and is never printed. Usage:
 * {@code gateway --backend ws://127.0.0.1:P [--port 0] [--auth none|jwt-hs256|jwt-rs256] [--auth-key FILE]
 * [--max-lifetime 60m] [--max-per-principal N] [--shared-rate-limit R]
 * [--cluster NAME --cluster-port BASE --node NAME [--cluster-members M]]}.
 * {@code --max-per-principal N} adds {@link #LIMITED_PATH}: {@code /echo} with
 * {@link Route.Builder#maxConnectionsPerPrincipal(int)}. {@code --shared-rate-limit R} adds
 * {@link #RATE_LIMITED_PATH}: {@code /echo} with {@link #rateLimit}, R handshakes a second per principal in bursts
 * of R, counted in the cluster's {@link HazelcastCluster#limiterStore()} on a node, in memory without a cluster.
 * {@code --cluster} makes the gateway a node of a Hazelcast
 * cluster on loopback ({@link #clusterConfig}), and with {@code --cluster-members M} announces its port only once
 * the cluster has {@code M} members. A JWT mode verifies the token of every handshake with the key in {@code FILE}, a
 * JWK in JSON (the shared secret for {@code jwt-hs256}, the RSA public key for {@code jwt-rs256}); the file
 * is read once, before the server starts.
 */
final class GatewayRole {

    /** The WebSocket API route with the in-process echo integration. */
    static final String API_INPROCESS_PATH = "/api-inprocess";
    /** The WebSocket API route with the backend's HTTP echo as its integration. */
    static final String API_HTTP_PATH = "/api-http";

    /**
     * The management scenarios' WebSocket API route: each message is answered with the caller's connection id,
     * which is how a load-generator connection learns the id that the management API knows it by.
     */
    static final String PUSH_PATH = "/push";
    /**
     * The shared-limit scenario's route: {@code /echo} with a per-principal connection limit, which a clustered
     * gateway counts across the cluster.
     */
    static final String LIMITED_PATH = "/limited";
    /**
     * The shared-limit scenario's rate-limited route: {@code /echo} with a per-principal {@link RateLimitPolicy},
     * whose buckets a clustered gateway keeps in the cluster's store.
     */
    static final String RATE_LIMITED_PATH = "/rate-limited";
    /** The name of {@link #rateLimit}'s policy, the prefix of its keys in the store. */
    static final String RATE_LIMIT_NAME = "bench-rate";
    /** The environment variable that holds the management API's key; without it the API is off. */
    static final String MANAGEMENT_KEY_ENV = "GATEHOUSE_BENCH_MANAGEMENT_KEY";
    /** The name of the management API's connector, which its context's virtual host names. */
    static final String MANAGEMENT_CONNECTOR = "management";

    /** The push route's integration: replies with the caller's connection id. */
    static final IntegrationHandler CONNECTION_ID = event -> CompletableFuture.completedFuture(
            Reply.text(event.connectionId()));

    /** The in-process integration: replies with the message it got. */
    static final IntegrationHandler ECHO = event -> CompletableFuture.completedFuture(
            event.body().map(Reply::send).orElse(Reply.none()));

    private GatewayRole() {
    }

    static void main(String[] args) throws Exception {
        int port = 0;
        URI backend = null;
        Auth auth = Auth.NONE;
        Path authKey = null;
        Duration maxLifetime = Duration.ofMinutes(60);
        String relay = "gatehouse";
        int maxPerPrincipal = 0;
        int sharedRateLimit = 0;
        String clusterName = null;
        int clusterPort = 0;
        String node = null;
        int clusterMembers = 1;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--port":
                    port = Args.integer("--port", Args.value(args, i), 0);
                    break;
                case "--backend":
                    backend = URI.create(Args.value(args, i));
                    break;
                case "--auth":
                    auth = Auth.parse(Args.value(args, i));
                    break;
                case "--auth-key":
                    authKey = Path.of(Args.value(args, i));
                    break;
                case "--relay":
                    relay = Args.value(args, i);
                    break;
                case "--max-lifetime":
                    maxLifetime = Args.duration("--max-lifetime", Args.value(args, i));
                    break;
                case "--max-per-principal":
                    maxPerPrincipal = Args.integer("--max-per-principal", Args.value(args, i), 1);
                    break;
                case "--shared-rate-limit":
                    sharedRateLimit = Args.integer("--shared-rate-limit", Args.value(args, i), 1);
                    break;
                case "--cluster":
                    clusterName = Args.value(args, i);
                    break;
                case "--cluster-port":
                    clusterPort = Args.integer("--cluster-port", Args.value(args, i), 1);
                    break;
                case "--node":
                    node = Args.value(args, i);
                    break;
                case "--cluster-members":
                    clusterMembers = Args.integer("--cluster-members", Args.value(args, i), 1);
                    break;
                default:
                    throw new UsageException("gateway: unknown option " + args[i]);
            }
        }
        if (backend == null) {
            throw new UsageException("gateway: --backend ws://HOST:PORT is required");
        }
        if (clusterName != null && clusterPort == 0) {
            throw new UsageException("gateway: --cluster needs --cluster-port BASE");
        }
        Authenticator authenticator = auth.authenticator(authKey == null ? null : readKey(authKey));
        System.err.println("gateway: --auth " + auth.flag() + (auth == Auth.NONE ? "" : ": " + authenticator));
        Gateway.Builder builder = Gateway.builder();
        HazelcastCluster cluster = null;
        if (clusterName != null) {
            cluster = HazelcastCluster.embedded(clusterConfig(clusterName, clusterPort));
            HazelcastCluster member = cluster;
            Runtime.getRuntime().addShutdownHook(new Thread(member::close, "leave-cluster"));
            try {
                awaitMembers(cluster, clusterMembers, Duration.ofSeconds(30));
            } catch (RuntimeException | InterruptedException e) {
                cluster.close(); // its threads would keep this JVM alive
                throw e;
            }
            System.err.println("gateway: node " + node + " in cluster " + clusterName + ", " + cluster.members()
                    + " member(s)");
            builder.cluster(cluster);
        }
        if (node != null) {
            builder.node(node);
        }
        if (maxPerPrincipal > 0) {
            builder.route(Route.builder(LIMITED_PATH)
                    .authenticator(authenticator)
                    .maxConnectionsPerPrincipal(maxPerPrincipal)
                    .backend(Backend.of(backend.resolve("/echo")))
                    .build());
        }
        if (sharedRateLimit > 0) {
            RateLimitPolicy rateLimit = rateLimit(sharedRateLimit, cluster == null ? null : cluster.limiterStore());
            System.err.println("gateway: " + RATE_LIMITED_PATH + " with " + rateLimit + " in "
                    + (cluster == null ? "memory" : "the cluster's store"));
            builder.route(Route.builder(RATE_LIMITED_PATH)
                    .authenticator(authenticator)
                    .policy(rateLimit)
                    .backend(Backend.of(backend.resolve("/echo")))
                    .build());
        }
        Gateway gateway = builder
                .route(Route.builder("/echo")
                        .authenticator(authenticator)
                        .backend(Backend.of(backend.resolve("/echo")))
                        .build())
                .route(Route.builder(API_INPROCESS_PATH)
                        .authenticator(authenticator)
                        .webSocketApi(WebSocketApi.builder().integration("$default", Integration.of(ECHO)).build())
                        .build())
                .route(Route.builder(API_HTTP_PATH)
                        .authenticator(authenticator)
                        .webSocketApi(WebSocketApi.builder()
                                .integration("$default", Integration.http(httpEcho(backend)))
                                .build())
                        .build())
                .route(Route.builder(PUSH_PATH)
                        .authenticator(authenticator)
                        .webSocketApi(WebSocketApi.builder().integration("$default", Integration.of(CONNECTION_ID)).build())
                        .build())
                .settings(Settings.builder().maxMessageSize(EchoBackend.MAX_MESSAGE).build())
                .build();
        QueuedThreadPool threads = new QueuedThreadPool(Integer.getInteger("gatehouse.bench.threads", 200));
        threads.setName("gateway");
        if (Boolean.getBoolean("gatehouse.bench.virtual") && VirtualThreads.areSupported()) {
            threads.setVirtualThreadsExecutor(VirtualThreads.getNamedVirtualThreadsExecutor("gateway-virtual-"));
        }
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setAcceptQueueSize(1024);
        server.addConnector(connector);
        String managementKey = System.getenv(MANAGEMENT_KEY_ENV);
        ServerConnector management = null;
        switch (relay) {
            case "gatehouse":
                server.setHandler(JettyGateway.handler(gateway, server));
                if (managementKey != null && !managementKey.isEmpty()) {
                    management = new ServerConnector(server);
                    management.setName(MANAGEMENT_CONNECTOR);
                    management.setHost("127.0.0.1");
                    management.setPort(0);
                    management.setAcceptQueueSize(1024);
                    server.addConnector(management);
                    // Only requests that came in on the management connector reach the API; none reach the gateway.
                    ContextHandler api = new ContextHandler(
                            ManagementApi.handler(gateway, ApiKeyAuthenticator.of(managementKey, "bench")), "/");
                    api.setVirtualHosts(List.of("@" + MANAGEMENT_CONNECTOR));
                    server.setHandler(new Handler.Sequence(api, server.getHandler()));
                }
                break;
            case "jetty-listener":
                server.setHandler(ListenerRelay.handler(server, backend));
                break;
            case "jetty-frames":
                server.setHandler(FrameRelay.handler(server, backend, false));
                break;
            case "jetty-frames-nonblocking":
                server.setHandler(FrameRelay.handler(server, backend, true));
                break;
            case "endpoint-tunnel":
                server.setHandler(EndpointTunnel.handler(connector, backend));
                break;
            default:
                throw new UsageException("gateway: --relay " + relay + " (expected one of " + String.join(", ", Options.RELAYS) + ")");
        }
        server.start();
        if (management != null) {
            System.err.println("gateway: management API on 127.0.0.1:" + management.getLocalPort() + " (key from "
                    + MANAGEMENT_KEY_ENV + ")");
        }
        RoleControl.serve(server, connector.getLocalPort(), management == null ? 0 : management.getLocalPort(),
                maxLifetime);
    }

    /**
     * A Hazelcast member's configuration on loopback only: TCP-IP join among {@code 127.0.0.1:base} to
     * {@code base + 9}, the member taking the first free port from {@code base}, multicast and auto-detection
     * off, phone-home off, and a member that stops answering declared gone after 5 s.
     */
    static Config clusterConfig(String clusterName, int base) {
        Config c = new Config().setClusterName(clusterName);
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.socket.bind.any", "false");
        c.setProperty("hazelcast.wait.seconds.before.join", "0");
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

    /**
     * The rate-limited route's policy: {@code perSecond} handshakes a second per principal ({@link LimitKey#principal()}),
     * in bursts of {@code perSecond}, named {@link #RATE_LIMIT_NAME}, its buckets in {@code store} (a cluster's
     * {@link HazelcastCluster#limiterStore()}), or in the policy's own memory when {@code store} is {@code null}.
     */
    static RateLimitPolicy rateLimit(int perSecond, LimiterStore store) {
        RateLimitPolicy.Builder b = RateLimitPolicy.builder(LimitKey.principal())
                .rate(perSecond, Duration.ofSeconds(1))
                .burst(perSecond)
                .name(RATE_LIMIT_NAME);
        if (store != null) {
            b.store(store);
        }
        return b.build();
    }

    private static void awaitMembers(HazelcastCluster cluster, int members, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (cluster.members() < members) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the cluster has " + cluster.members() + " member(s) after "
                        + timeout.toSeconds() + " s (expected: " + members + ")");
            }
            Thread.sleep(50);
        }
    }

    /** The backend's HTTP echo, on the host and port of its WebSocket URI. */
    static URI httpEcho(URI backend) {
        return URI.create("http://" + backend.getHost() + ":" + backend.getPort() + HttpEcho.PATH);
    }

    private static String readKey(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("--auth-key: cannot read " + file + " (" + e + ")");
        }
    }
}
