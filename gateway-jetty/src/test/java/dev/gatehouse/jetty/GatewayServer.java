package dev.gatehouse.jetty;

import java.net.URI;
import java.util.List;
import java.util.function.Consumer;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Gateway;

/** A Jetty server on 127.0.0.1, port 0, with a gateway mounted as a servlet or as a core handler. */
final class GatewayServer implements AutoCloseable {

    enum Mount { SERVLET, HANDLER }

    final Server server;
    final Gateway gateway;
    private final ServerConnector connector;
    private ServerConnector management; // the management API's own connector, or null; set once in the constructor

    private final String scheme;

    private GatewayServer(Gateway gateway, Mount mount, org.eclipse.jetty.util.ssl.SslContextFactory.Server tls,
            Consumer<ServerConnector> configure) throws Exception {
        this(gateway, mount, tls, configure, null);
    }

    private GatewayServer(Gateway gateway, Mount mount, org.eclipse.jetty.util.ssl.SslContextFactory.Server tls,
            Consumer<ServerConnector> configure, Authenticator managementAuth) throws Exception {
        this.gateway = gateway;
        server = new Server();
        if (tls == null) {
            connector = new ServerConnector(server);
            scheme = "ws";
        } else {
            org.eclipse.jetty.server.HttpConfiguration https = new org.eclipse.jetty.server.HttpConfiguration();
            https.addCustomizer(new org.eclipse.jetty.server.SecureRequestCustomizer());
            connector = new ServerConnector(server, tls, new org.eclipse.jetty.server.HttpConnectionFactory(https));
            scheme = "wss";
        }
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        if (mount == Mount.SERVLET) {
            ServletContextHandler context = new ServletContextHandler("/");
            JettyGateway.install(gateway, context, "/*");
            server.setHandler(context);
        } else {
            server.setHandler(JettyGateway.handler(gateway, server));
        }
        if (managementAuth != null) {
            management = new ServerConnector(server);
            management.setHost("127.0.0.1");
            management.setPort(0);
            management.setName("management");
            server.addConnector(management);
            ContextHandler api = new ContextHandler(ManagementApi.handler(gateway, managementAuth), "/");
            api.setVirtualHosts(List.of("@management"));
            server.setHandler(new Handler.Sequence(api, server.getHandler()));
        }
        configure.accept(connector);
        server.start();
    }

    static GatewayServer start(Gateway gateway) throws Exception {
        return new GatewayServer(gateway, Mount.SERVLET, null, c -> { });
    }

    static GatewayServer start(Gateway gateway, Mount mount) throws Exception {
        return new GatewayServer(gateway, mount, null, c -> { });
    }

    /** A gateway whose connector (and, through it, server) {@code configure} changes before it starts. */
    static GatewayServer start(Gateway gateway, Mount mount, Consumer<ServerConnector> configure) throws Exception {
        return new GatewayServer(gateway, mount, null, configure);
    }

    /** A gateway serving {@code wss://} through the server's own TLS connector. */
    static GatewayServer startTls(Gateway gateway, Mount mount, org.eclipse.jetty.util.ssl.SslContextFactory.Server tls)
            throws Exception {
        return new GatewayServer(gateway, mount, tls, c -> { });
    }

    /** A gateway serving {@code wss://}, whose connector {@code configure} changes before it starts. */
    static GatewayServer startTls(Gateway gateway, Mount mount, org.eclipse.jetty.util.ssl.SslContextFactory.Server tls,
            Consumer<ServerConnector> configure) throws Exception {
        return new GatewayServer(gateway, mount, tls, configure);
    }

    /**
     * A gateway that also serves its management API, behind {@code authenticator}, on a second loopback
     * connector of its own (as the README advises): the gateway's connector never reaches it.
     */
    static GatewayServer startWithManagement(Gateway gateway, Mount mount, Authenticator authenticator)
            throws Exception {
        return new GatewayServer(gateway, mount, null, c -> { }, authenticator);
    }

    /** Sets the idle timeout of the management API's connector, for connections opened from now on. */
    void managementIdleTimeout(long millis) {
        management.setIdleTimeout(millis);
    }

    /** The management API's base URI: {@code http://127.0.0.1:PORT}. */
    URI managementUri(String path) {
        if (management == null) {
            throw new IllegalStateException("this server has no management API");
        }
        return URI.create("http://127.0.0.1:" + management.getLocalPort() + path);
    }

    /** The gateway this server mounts. */
    Gateway gateway() {
        return gateway;
    }

    URI uri(String path) {
        return URI.create(scheme + "://127.0.0.1:" + connector.getLocalPort() + path);
    }

    URI httpUri(String path) {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + path);
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
