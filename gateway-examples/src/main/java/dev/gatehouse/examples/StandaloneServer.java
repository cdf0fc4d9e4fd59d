package dev.gatehouse.examples;

import java.net.InetAddress;
import java.nio.channels.UnresolvedAddressException;
import java.util.List;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jetty.JettyConnectionMetrics;
import io.micrometer.core.instrument.binder.jetty.JettyServerThreadPoolMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.JettyGateway;
import dev.gatehouse.jetty.ManagementApi;
import dev.gatehouse.hazelcast.HazelcastCluster;
import dev.gatehouse.micrometer.GatehouseMetrics;

/**
 * The servers of one standalone run: a Jetty server with the gateway mounted as a core handler and, in
 * demo mode, the {@link DemoBackend} behind {@code /echo} and {@code /chat/{room}}, the {@link DemoRooms}
 * WebSocket API at {@code /rooms}, and the {@link DemoPage}. {@link #close()} drains the gateway (clients
 * get 1012, backends 1001), then stops the demo backend.
 *
 * <p>The server is set up as the README's "Hardening the server" advises: no {@code Server} header, Jetty's
 * own error responses as the gateway's JSON (logged), the {@code --request-timeout} deadline on the
 * connector, and a thread pool whose surplus threads leave after one idle timeout.
 *
 * <p>With the config file's {@code cluster} block, the gateway joins a Hazelcast cluster through a member
 * embedded here, which {@link #close()} shuts down once the gateway has drained.
 */
final class StandaloneServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StandaloneServer.class);
    /** The most threads the server's pool starts, Jetty's default. */
    static final int MAX_THREADS = 200;
    /** The threads the server's pool keeps however idle, Jetty's default. */
    static final int MIN_THREADS = 8;
    /** How long a pool thread above {@link #MIN_THREADS} may stay idle. */
    static final int THREAD_IDLE_TIMEOUT_MS = 30_000;
    /** The name of the management API's connector, which its context's virtual host names. */
    private static final String MANAGEMENT_CONNECTOR = "management";
    /** The demo backend's message size limit when the gateway has none. */
    private static final long DEMO_BACKEND_MAX_MESSAGE = 64L << 20;

    private final Server server;
    private final ServerConnector connector;
    private final ServerConnector management; // the management API's connector; null when it is off
    private final DemoBackend demo; // null unless in demo mode
    private final List<Route> routes;
    private final Gateway gateway;
    private final HazelcastCluster cluster; // null: no cluster block
    private volatile AutoCloseable companion; // closed first by close(), e.g. the config file's reloader; null: none

    private StandaloneServer(Server server, ServerConnector connector, ServerConnector management, DemoBackend demo,
            List<Route> routes, Gateway gateway, HazelcastCluster cluster) {
        this.gateway = gateway;
        this.cluster = cluster;
        this.server = server;
        this.connector = connector;
        this.management = management;
        this.demo = demo;
        this.routes = routes;
    }

    /**
     * Starts the servers the options describe.
     *
     * @throws UsageException   if the routes conflict (the options have checked that already)
     * @throws StartupException if a server cannot start, e.g. because the port is taken
     */
    static StandaloneServer start(RunnerOptions options) {
        DemoBackend demo = null;
        DemoRooms rooms = null;
        Server server = null;
        HazelcastCluster cluster = null;
        try {
            List<Route> routes = options.routes();
            if (routes.isEmpty()) {
                long max = options.settings().maxBackendMessageSize();
                demo = DemoBackend.start(max == 0 ? DEMO_BACKEND_MAX_MESSAGE : max);
                rooms = new DemoRooms();
                routes = List.of(
                        Route.of("/echo", Backend.of(demo.url() + "/echo")),
                        Route.of("/chat/{room}", Backend.of(demo.url() + "/chat/{room}")),
                        Route.builder(DemoRooms.PATH).webSocketApi(rooms.api()).build());
            }
            // With the management API, /metrics serves the gateway's meters in Prometheus' format.
            PrometheusMeterRegistry metrics = options.management().filter(RunnerOptions.Management::metrics)
                    .map(m -> new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).orElse(null);
            cluster = cluster(options);
            if (cluster != null) {
                options.clusterLimits().orElseThrow().bind(cluster.limiterStore());
            }
            Gateway gateway = gateway(routes, options, metrics, cluster);
            if (rooms != null) {
                // The rooms' integrations use the registry of the gateway that holds them: known only now.
                rooms.attach(gateway.connections());
            }

            server = new Server(threadPool());
            HttpConfiguration http = new HttpConfiguration();
            http.setSendServerVersion(false);
            ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
            connector.setHost(options.host().orElse(null));
            connector.setPort(options.port());
            if (!options.requestTimeout().isZero()) {
                connector.addBean(JettyGateway.requestDeadline(options.requestTimeout()));
            }
            server.addConnector(connector);
            server.setErrorHandler(JettyGateway.errorHandler());
            Handler handler = demo == null
                    ? JettyGateway.handler(gateway, server)
                    : JettyGateway.handler(gateway, server, new DemoPage());
            ServerConnector managementConnector = null;
            if (options.management().isPresent()) {
                RunnerOptions.Management m = options.management().get();
                managementConnector = new ServerConnector(server, new HttpConnectionFactory(http));
                managementConnector.setName(MANAGEMENT_CONNECTOR);
                managementConnector.setHost(m.host());
                managementConnector.setPort(m.port());
                if (!options.requestTimeout().isZero()) {
                    managementConnector.addBean(JettyGateway.requestDeadline(options.requestTimeout()));
                }
                server.addConnector(managementConnector);
                // Only requests that came in on the management connector reach the API; none reach the gateway.
                Handler managementApi = ManagementApi.handler(gateway, m.authenticator());
                if (metrics != null) {
                    managementApi = new Handler.Sequence(new MetricsHandler(metrics, m.authenticator()), managementApi);
                }
                ContextHandler api = new ContextHandler(managementApi, "/");
                api.setVirtualHosts(List.of("@" + MANAGEMENT_CONNECTOR));
                handler = new Handler.Sequence(api, handler);
            }
            server.setHandler(handler);
            if (metrics != null) {
                // Micrometer's own Jetty binders: the server's connections, bytes and thread pool.
                JettyConnectionMetrics.addToAllConnectors(server, metrics);
                new JettyServerThreadPoolMetrics(server.getThreadPool(), Tags.empty()).bindTo(metrics);
            }
            // With a stop timeout, server.stop() drains the gateway and waits for its connections to close.
            server.setStopTimeout(options.settings().closeTimeout().toMillis() + 1000);
            listen(connector, options.host().orElse("0.0.0.0") + ":" + options.port());
            if (managementConnector != null) {
                listen(managementConnector, managementConnector.getHost() + ":" + managementConnector.getPort()
                        + " (management)");
            }
            try {
                server.start();
            } catch (Exception e) {
                throw new StartupException("cannot start: " + reason(e), e);
            }
            return new StandaloneServer(server, connector, managementConnector, demo, routes, gateway, cluster);
        } catch (UsageException | StartupException e) {
            stopQuietly(server, demo);
            leaveQuietly(cluster);
            throw e;
        } catch (Exception e) {
            stopQuietly(server, demo);
            leaveQuietly(cluster);
            throw new StartupException("cannot start: " + e, e);
        }
    }

    /** The port the gateway listens on. */
    int port() {
        return connector.getLocalPort();
    }

    /** The gateway the server mounts. */
    Gateway gateway() {
        return gateway;
    }

    /** The port the management API listens on. */
    int managementPort() {
        if (management == null) {
            throw new IllegalStateException("the management API is off");
        }
        return management.getLocalPort();
    }

    /** The Hazelcast cluster the gateway is a node of, when the config file has a {@code cluster} block. */
    java.util.Optional<HazelcastCluster> cluster() {
        return java.util.Optional.ofNullable(cluster);
    }

    /**
     * The line the runner prints once its member joined: {@code cluster gatehouse: member 127.0.0.1:5701,
     * 2 member(s)}; empty without a cluster.
     */
    java.util.Optional<String> clusterLine() {
        return cluster().map(c -> {
            var address = c.instance().getCluster().getLocalMember().getAddress();
            return "cluster " + c.instance().getConfig().getClusterName() + ": member " + address.getHost() + ":"
                    + address.getPort() + ", " + c.members() + " member(s)";
        });
    }

    /** Whether this is the demo: built-in backends, the rooms API and the chat page. */
    boolean isDemo() {
        return demo != null;
    }

    /**
     * The gateway's routes as configured at start; those without an authenticator of their own have the
     * gateway's. A reload of the config file changes the gateway's ({@link Gateway#routes()}), not these.
     */
    List<Route> routes() {
        return routes;
    }

    /** Waits until the server has stopped. */
    void join() throws InterruptedException {
        server.join();
    }

    /** Something to close before the servers, such as the config file's reloader. */
    void closeFirst(AutoCloseable companion) {
        this.companion = companion;
    }

    /** Drains and stops the gateway, then the demo backend, then leaves the cluster; safe to call more than once. */
    @Override
    public void close() {
        AutoCloseable c = companion;
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("Closing {} failed", c, e);
            }
        }
        stopQuietly(server, demo);
        leaveQuietly(cluster);
    }

    /**
     * The server's threads. A burst of connections that open or close together (a few hundred slow clients
     * cut off at once) starts a thread per task that finds none idle, up to {@link #MAX_THREADS}; Jetty's
     * pool then lets only one idle thread go per idle timeout (its {@code maxEvictCount} is 1), so the surplus
     * stayed for hours. Here every idle thread above {@link #MIN_THREADS} may go after one idle timeout.
     */
    private static QueuedThreadPool threadPool() {
        QueuedThreadPool pool = new QueuedThreadPool(MAX_THREADS, MIN_THREADS, THREAD_IDLE_TIMEOUT_MS);
        pool.setMaxEvictCount(MAX_THREADS);
        pool.setName("gatehouse");
        return pool;
    }

    /**
     * Starts the embedded Hazelcast member of the config file's {@code cluster} block, joined to its members;
     * null without one. The member listens on the block's port only (no auto-increment), on the runner's
     * {@code host} when that is an address of this machine other than the wildcard, and finds the others by
     * TCP-IP only (multicast and auto-detection off).
     */
    private static HazelcastCluster cluster(RunnerOptions options) {
        if (options.cluster().isEmpty()) {
            return null;
        }
        RunnerConfig.Cluster c = options.cluster().get();
        Config config = new Config().setClusterName(c.name());
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.shutdownhook.enabled", "false"); // the runner leaves on its own stop
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(c.port()).setPortAutoIncrement(false);
        options.host().filter(StandaloneServer::isSpecificAddress).ifPresent(h -> {
            config.setProperty("hazelcast.socket.bind.any", "false");
            network.getInterfaces().setEnabled(true).addInterface(h);
        });
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(c.members());
        try {
            return HazelcastCluster.builder().embedded(config)
                    .limitsFallback(c.limitsFallback()).limitsTimeout(c.limitsTimeout()).build();
        } catch (RuntimeException e) {
            throw new StartupException("cannot join cluster " + c.name() + " on port " + c.port() + ": " + reason(e), e);
        }
    }

    /** Whether a host is a literal IPv4 address other than the wildcard, which Hazelcast's interfaces take. */
    private static boolean isSpecificAddress(String host) {
        if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return false;
        }
        try {
            return !InetAddress.getByName(host).isAnyLocalAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static void leaveQuietly(HazelcastCluster cluster) {
        if (cluster == null) {
            return;
        }
        try {
            cluster.close();
        } catch (RuntimeException e) {
            LOG.warn("Leaving the cluster failed", e);
        }
    }

    private static Gateway gateway(List<Route> routes, RunnerOptions options, PrometheusMeterRegistry metrics,
            HazelcastCluster cluster) {
        Gateway.Builder b = options.applyTo(Gateway.builder());
        if (cluster != null) {
            b.cluster(cluster);
        }
        if (metrics != null) {
            b.listener(GatehouseMetrics.of(metrics));
        }
        routes.forEach(b::route);
        try {
            return b.build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            // Only routes can conflict: "routes: Route[/a] and Route[/a] match the same requests".
            throw UsageException.of(RunnerOptions.Flag.ROUTE.flag, e);
        }
    }

    /** Binds a connector before the server starts, so that a port in use is reported as that connector's. */
    private static void listen(ServerConnector connector, String where) {
        try {
            connector.open();
        } catch (Exception e) {
            throw new StartupException("cannot listen on " + where + ": " + reason(e), e);
        }
    }

    /** Why the server did not start, in a few words: the innermost cause's message. */
    private static String reason(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        if (cause instanceof UnresolvedAddressException) {
            return "unknown host";
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }

    private static void stopQuietly(Server server, DemoBackend demo) {
        try {
            if (server != null) {
                server.stop();
            }
        } catch (Exception e) {
            LOG.warn("Stopping the gateway failed", e);
        }
        if (server != null) {
            // A connector bound before a failed start is not running, so stopping the server leaves it open.
            for (Connector c : server.getConnectors()) {
                if (c instanceof ServerConnector sc && sc.isOpen()) {
                    sc.close();
                }
            }
        }
        try {
            if (demo != null) {
                demo.close();
            }
        } catch (Exception e) {
            LOG.warn("Stopping the demo backend failed", e);
        }
    }

    /** The servers could not start; the message is one line for the user. */
    static final class StartupException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
