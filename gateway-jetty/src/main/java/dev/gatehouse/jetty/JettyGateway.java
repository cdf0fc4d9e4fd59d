package dev.gatehouse.jetty;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.ProcessorUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.BackendTls;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.jetty.internal.BackendConnector;
import dev.gatehouse.jetty.internal.BackendDialer;
import dev.gatehouse.jetty.internal.ErrorResponses;
import dev.gatehouse.jetty.internal.GatewayHandler;
import dev.gatehouse.jetty.internal.GatewayServlet;
import dev.gatehouse.jetty.internal.HealthProbes;
import dev.gatehouse.jetty.internal.HttpIntegrations;
import dev.gatehouse.jetty.internal.RequestDeadline;
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
 * <p>Routes match the request path inside the context (servlet: context path removed). After the
 * handshake, Gatehouse owns both legs' connections: it reads and writes their frames itself on Jetty's
 * endpoints (HTTP/1.1; the selector thread reads without a hand-off), and frames pass through as they came,
 * text as raw UTF-8, compressed ones (permessage-deflate, negotiated end to end between client and backend
 * on routes without in-session policies) as they are. The mount dials backends with a Jetty
 * {@link ClientConnector} of its own and a lean HTTP/1.1 upgrade (Jetty's {@code HttpParser} reads the
 * answer), and calls the HTTP integrations of WebSocket API routes with a Jetty {@link HttpClient}; both are
 * started and stopped with the context or handler, and share the server's thread pool, scheduler and
 * buffer pool. The active health checks of backend groups run from the mount's start to its stop, their
 * WebSocket probes dialled like backend legs, their HTTP probes sent with that client. An integration's origin gets at most
 * 64 calls at a time (HTTP/1.1 connections, kept alive) and 1024 more waiting; a call beyond that fails
 * at once, and every call is bounded by its route's integration timeout, queue time included. When the
 * server stops, the gateway drains before Jetty closes anything: new upgrades get 503, open connections are
 * closed with their route's {@link dev.gatehouse.Settings#drainStatus()} (1012 "service restart" unless
 * changed) over the gateway's {@link Gateway#drainWindow()}, and the stop waits for them up to that window
 * plus the close timeout, then up to the close timeout for their {@code $disconnect} calls. Jetty stops the
 * server on SIGTERM or Ctrl-C only with {@code server.setStopAtShutdown(true)}: set it, or a stopped process
 * drops its connections without a drain.
 */
public final class JettyGateway extends ContainerLifeCycle {

    private static final Logger LOG = LoggerFactory.getLogger(JettyGateway.class);

    private final DefaultGateway gateway;
    private final BackendDialer dialer;
    private final Supplier<Server> server;
    private final LifeCycle.Listener drainOnStop = new LifeCycle.Listener() {
        @Override
        public void lifeCycleStopping(LifeCycle event) {
            drainAndWait();
        }
    };
    private Server listening; // the server whose stop drains the gateway; guarded by this
    private BackendConnector connector; // dials the backend legs, from start to stop; guarded by this
    private HttpIntegrations calls;     // the HTTP integrations' client, from start to stop; guarded by this

    private JettyGateway(Gateway gateway, Supplier<Server> server) {
        this.gateway = DefaultGateway.of(gateway);
        this.server = server;
        this.dialer = new BackendDialer(this.gateway);
    }

    /**
     * Installs the gateway as an upgrade servlet in an ee10 context.
     *
     * @param pathSpec the servlet mapping, e.g. {@code /*} or {@code /ws/*}; routes match the path inside
     *                 the context, so a route {@code /ws/chat} is reached through mapping {@code /ws/*}
     * @return the mount, a bean of the context
     */
    public static JettyGateway install(Gateway gateway, ServletContextHandler context, String pathSpec) {
        requireNonNull(context, "context");
        requireNonNull(pathSpec, "pathSpec");
        JettyGateway mount = new JettyGateway(gateway, context::getServer);
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
        JettyGateway mount = new JettyGateway(gateway, () -> server);
        GatewayHandler handler = new GatewayHandler(mount.dialer, next);
        handler.addBean(mount, true);
        return handler;
    }

    /**
     * A deadline for complete requests on a connector, against clients that send their upgrade request a
     * byte at a time to hold sockets (Jetty's idle timeout restarts with every byte):
     *
     * <pre>{@code
     * connector.addBean(JettyGateway.requestDeadline(Duration.ofSeconds(10)));
     * }</pre>
     *
     * <p>An HTTP/1.1 connection of that connector that has not received one complete request line and
     * header block within {@code deadline} of opening is closed without a response, and one access-log line
     * with status 408 and error {@code request_timeout} is written (request id, remote address; no path).
     * With TLS the deadline runs from the TCP connection, so the TLS handshake counts, unless the connector
     * negotiates its protocol with ALPN: then it runs from the choice of HTTP/1.1. On a connection kept alive
     * between requests, a later header block that is still incomplete at two checks in a row is closed the
     * same way (checks run every {@code deadline}, so that takes between one and two deadlines). A
     * connection waiting for its next request, one whose request is being handled, and an upgraded
     * WebSocket connection are never closed by it: the idle timeouts govern them. HTTP/2 connections are
     * not watched. The checks run on the connector's scheduler.
     *
     * @param deadline how long a client has to send a complete request header block, at least 1 ms
     * @return a listener to add to a connector, as a bean or with {@code addEventListener}, before it starts;
     *         one listener may serve several connectors
     * @throws IllegalArgumentException if {@code deadline} is shorter than 1 ms
     */
    public static Connection.Listener requestDeadline(Duration deadline) {
        requireNonNull(deadline, "deadline");
        if (deadline.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException("deadline: " + deadline + " (expected: >= 1 ms)");
        }
        return new RequestDeadline(deadline);
    }

    /**
     * An error handler that gives the responses Jetty writes itself the gateway's JSON body, for a server
     * that serves the gateway:
     *
     * <pre>{@code
     * server.setErrorHandler(JettyGateway.errorHandler());
     * }</pre>
     *
     * <p>Jetty answers some requests before any gateway sees them: 400 for a request its HTTP parser refuses,
     * 414 for a request line and 431 for a header block larger than the connector's
     * {@code HttpConfiguration.requestHeaderSize}, and 404 or 500 when no handler takes a request or a
     * handler fails. With this handler they get {@code {"error":"<kind>","message":"...","requestId":"..."}}
     * with {@code Cache-Control: no-store} instead of Jetty's HTML page: 400 {@code bad_request},
     * 404 {@code route_not_found}, 408 {@code request_timeout}, 414 {@code uri_too_long},
     * 431 {@code request_headers_too_large}, 503 {@code service_unavailable}, another 4xx
     * {@code bad_request} and another 5xx {@code internal_error}, each with its status. The message is the
     * gateway's own for the status, never Jetty's reason, which may name an exception or quote the request.
     * An upgrade request with {@code Upgrade: websocket} but no {@code Connection: Upgrade}, which Jetty
     * refuses with 400, gets 426 {@code upgrade_required} with {@code Upgrade: websocket} and
     * {@code Sec-WebSocket-Version: 13}, as the gateway answers it. Each answer writes one line to the
     * access log, like a gateway's rejection (route {@code -}; the path only when Jetty parsed the request
     * line, never the query).
     *
     * <p>It answers every error Jetty writes with the server's error handler, also for the application's
     * other handlers; a servlet context's errors go to the context's own error handler. The gateway's
     * {@link dev.gatehouse.GatewayResponse}s do not apply to these answers. The handler holds no state and
     * may serve several servers.
     *
     * @return a handler for {@code Server.setErrorHandler}
     */
    public static Request.Handler errorHandler() {
        return new ErrorResponses();
    }

    /** The backend client's TLS: the gateway's trust, hostname verification and client certificate. */
    private static SslContextFactory.Client tls(BackendTls settings) {
        SslContextFactory.Client tls = new SslContextFactory.Client();
        settings.trustStore().ifPresent(tls::setTrustStore);
        settings.clientKeyStore().ifPresent(keys -> {
            tls.setKeyStore(keys);
            tls.setKeyManagerPassword(new String(settings.clientKeyPassword()));
        });
        tls.setEndpointIdentificationAlgorithm(settings.hostnameVerification() ? "HTTPS" : null);
        return tls;
    }

    /** The mounted gateway. */
    public Gateway gateway() {
        return gateway;
    }

    @Override
    protected void doStart() throws Exception {
        Server s = server.get();
        // One thread pool, timer and buffer pool for both legs: a relayed frame is read and written on the
        // same pool, and buffers flow between legs without crossing pools. Dials in flight per backend are
        // the gateway's setting; dials beyond it wait, each within its connect timeout; a full queue is 503.
        // The backend connections get as many selectors as Jetty gives a server connector by default.
        BackendConnector b = new BackendConnector(tls(gateway.backendTls()), s == null ? null : s.getThreadPool(),
                s == null ? null : s.getScheduler(), s == null ? null : s.getByteBufferPool(),
                Math.max(1, Math.min(4, ProcessorUtils.availableProcessors() / 2)), longestConnectTimeout(),
                gateway.maxConcurrentDials(), gateway.maxQueuedDials());
        b.start();
        HttpIntegrations i;
        try {
            // HTTP integrations get a client of their own on the same pools: plain POSTs on kept-alive
            // connections, with limits of their own.
            i = HttpIntegrations.start(tls(gateway.backendTls()), gateway.settings().connectTimeout(), s);
        } catch (Exception | Error e) {
            // Nothing started here outlives a failed start.
            b.stop();
            throw e;
        }
        synchronized (this) {
            connector = b;
            calls = i;
            listening = s;
        }
        dialer.connector(b);
        gateway.integrations().useHttp(i);
        if (s != null) {
            // In-process integrations run on the server's pool, never on a selector thread.
            gateway.integrations().useExecutor(s.getThreadPool());
            s.addEventListener(drainOnStop);
        }
        super.doStart();
        // The backend groups' active health checks probe with the connector and client just started.
        gateway.startHealthChecks(new HealthProbes(b, i));
    }

    /** The longest connect timeout of the gateway and its routes: the TCP connect's bound (each dial has its own too). */
    private Duration longestConnectTimeout() {
        Duration longest = gateway.settings().connectTimeout();
        for (Route route : gateway.routes()) {
            Duration own = route.settings().map(Settings::connectTimeout).orElse(longest);
            if (own.compareTo(longest) > 0) {
                longest = own;
            }
        }
        return longest;
    }

    @Override
    protected void doStop() throws Exception {
        gateway.stopHealthChecks();
        drainAndWait();
        gateway.abortAll();
        Server s;
        BackendConnector b;
        HttpIntegrations i;
        synchronized (this) {
            s = listening;
            b = connector;
            i = calls;
            listening = null;
            connector = null;
            calls = null;
        }
        if (s != null) {
            s.removeEventListener(drainOnStop);
        }
        if (b != null) {
            b.stop();
        }
        if (i != null) {
            // The $disconnect calls of the connections just closed get the close timeout to be answered.
            i.stop(gateway.settings().closeTimeout());
        }
        super.doStop();
    }

    /** Drains, and waits for the connections to close up to the drain window plus the close timeout. */
    private void drainAndWait() {
        CompletableFuture<Void> drained = gateway.drain(gateway.drainWindow());
        long bound = gateway.drainWindow().plus(gateway.settings().closeTimeout()).toMillis() + 1000;
        try {
            drained.get(bound, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{} connection(s) still open after {} ms of drain; dropping them",
                    gateway.connections().count(), bound);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("Drain failed", e);
        }
    }
}
