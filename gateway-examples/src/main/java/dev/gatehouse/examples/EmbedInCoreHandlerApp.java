package dev.gatehouse.examples;

import java.net.InetSocketAddress;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.JettyGateway;

/**
 * Adds a gateway in front of a plain Jetty core {@link Handler} application: upgrades to
 * {@code ws://localhost:8080/echo} are relayed to an echo backend, and every other request reaches the
 * application's handler. No servlets involved, and no thread waits while the backend is dialled.
 *
 * <p>Run it with no argument to relay to a built-in echo backend, or pass a backend URL:
 * {@code EmbedInCoreHandlerApp ws://localhost:9001/echo}.
 */
public final class EmbedInCoreHandlerApp {

    private EmbedInCoreHandlerApp() {
    }

    /**
     * Starts the app on port 8080 and runs until the process is stopped.
     *
     * @param args nothing, or the {@code ws://} URL of an echo backend to relay to
     * @throws Exception if the app cannot start
     */
    public static void main(String[] args) throws Exception {
        DemoBackend demo = args.length == 0 ? DemoBackend.start(1 << 20) : null;
        String backend = demo == null ? args[0] : demo.url() + "/echo";
        Server server = start(new InetSocketAddress(8080), backend);
        System.out.println("try: curl http://localhost:8080/  and  websocat ws://localhost:8080/echo");
        server.join();
    }

    /** Builds and starts the application with a gateway route {@code /echo} to {@code backendUrl}. */
    static Server start(InetSocketAddress address, String backendUrl) throws Exception {
        Server server = new Server(address);

        // The application as it was: a core handler.
        Handler app = new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
                Content.Sink.write(response, true, "Hello from the core app. WebSocket clients: /echo\n", callback);
                return true;
            }
        };

        // The gateway wraps the app: it takes the requests that match a route and passes the rest on.
        Gateway gateway = Gateway.builder()
                .route(Route.of("/echo", Backend.of(backendUrl)))
                .build();
        server.setHandler(JettyGateway.handler(gateway, server, app));

        // On stop, drain the gateway: clients get 1012 "service restart" instead of a dropped connection.
        server.setStopTimeout(5_000);
        server.start();
        return server;
    }
}
