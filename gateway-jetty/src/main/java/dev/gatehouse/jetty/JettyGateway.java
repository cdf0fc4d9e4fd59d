package dev.gatehouse.jetty;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.websocket.server.config.JettyWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.component.Graceful;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Gateway;
import dev.gatehouse.jetty.internal.BackendDialer;
import dev.gatehouse.jetty.internal.GatewayHandler;
import dev.gatehouse.jetty.internal.GatewayServlet;
import dev.gatehouse.internal.DefaultGateway;

/**
 * Mounts a {@link Gateway} on Jetty 12.1, in one line for either kind of application:
 *
 * <pre>{@code
 * // an ee10 servlet application: an upgrade servlet at a path spec
 * JettyGateway.install(gateway, servletContextHandler, "/ws/*");
 *
 * // a Jetty core application: a handler that takes the routes' requests and passes the rest on
 * server.setHandler(JettyGateway.handler(gateway, server, appHandler));
 * }</pre>
 *
 * <p>Routes match the request path inside the context (servlet: context path removed). The mount owns
 * one Jetty {@link WebSocketClient} for all backend legs, started and stopped with the context or
 * handler. It is {@link Graceful}: with {@code server.setStopTimeout(ms)}, {@code server.stop()} first
 * drains the gateway (new upgrades get 503, open connections are closed with 1012) and waits for the
 * connections to close. Without a stop timeout, stopping still drains, bounded by the drain window plus
 * the close timeout.
 */
public final class JettyGateway extends ContainerLifeCycle implements Graceful {

    private static final Logger LOG = LoggerFactory.getLogger(JettyGateway.class);

    private final DefaultGateway gateway;
    private final BackendDialer dialer;
    private final Duration drainWindow;

    private JettyGateway(Gateway gateway, Duration drainWindow) {
        this.gateway = DefaultGateway.of(gateway);
        this.drainWindow = requireNonNull(drainWindow, "drainWindow");
        HttpClient http = new HttpClient();
        http.setSslContextFactory(new SslContextFactory.Client());
        http.setConnectTimeout(this.gateway.settings().connectTimeout().toMillis());
        WebSocketClient client = new WebSocketClient(http);
        client.setStopTimeout(0);
        addBean(client, true);
        this.dialer = new BackendDialer(this.gateway, client);
    }

    /**
     * Installs the gateway as an upgrade servlet in an ee10 context, and configures the context for
     * WebSocket if it is not already.
     *
     * @param pathSpec the servlet mapping, e.g. {@code /*} or {@code /ws/*}; routes match the path inside
     *                 the context, so a route {@code /ws/chat} is reached through mapping {@code /ws/*}
     * @return the mount, a bean of the context
     */
    public static JettyGateway install(Gateway gateway, ServletContextHandler context, String pathSpec) {
        requireNonNull(context, "context");
        requireNonNull(pathSpec, "pathSpec");
        JettyGateway mount = new JettyGateway(gateway, Duration.ZERO);
        JettyWebSocketServletContainerInitializer.configure(context, null);
        context.addBean(mount, true);
        context.addServlet(new ServletHolder("gatehouse", new GatewayServlet(mount.dialer)), pathSpec);
        return mount;
    }

    /**
     * A Jetty core handler for the gateway's routes; any request that matches no route goes to
     * {@code next}.
     */
    public static Handler handler(Gateway gateway, Server server, Handler next) {
        requireNonNull(next, "next");
        return newHandler(gateway, server, next);
    }

    /** A Jetty core handler for the gateway's routes; requests that match no route get 404. */
    public static Handler handler(Gateway gateway, Server server) {
        return newHandler(gateway, server, null);
    }

    private static Handler newHandler(Gateway gateway, Server server, Handler next) {
        requireNonNull(server, "server");
        JettyGateway mount = new JettyGateway(gateway, Duration.ZERO);
        ServerWebSocketContainer container = ServerWebSocketContainer.ensure(server);
        GatewayHandler handler = new GatewayHandler(mount.dialer, container, next);
        handler.addBean(mount, true);
        return handler;
    }

    /** The mounted gateway. */
    public Gateway gateway() {
        return gateway;
    }

    /** Drains the gateway; see {@link Gateway#drain(Duration)}. */
    @Override
    public CompletableFuture<Void> shutdown() {
        return gateway.drain(drainWindow);
    }

    @Override
    public boolean isShutdown() {
        return gateway.isDraining() && gateway.connections().count() == 0;
    }

    @Override
    protected void doStop() throws Exception {
        CompletableFuture<Void> drained = gateway.drain(drainWindow);
        long bound = drainWindow.plus(gateway.settings().closeTimeout()).toMillis() + 1000;
        try {
            drained.get(bound, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.warn("{} connection(s) still open after {} ms of drain; dropping them",
                    gateway.connections().count(), bound);
        }
        super.doStop();
    }
}
