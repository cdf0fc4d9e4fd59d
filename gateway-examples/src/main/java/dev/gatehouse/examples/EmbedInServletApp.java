package dev.gatehouse.examples;

import java.io.IOException;
import java.net.InetSocketAddress;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.JettyGateway;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Adds a gateway to an existing ee10 servlet application: the app keeps its servlet at {@code /hello},
 * and WebSocket clients reach an echo backend through {@code ws://localhost:8080/ws/echo}.
 *
 * <p>Run it with no argument to relay to a built-in echo backend, or pass a backend URL:
 * {@code EmbedInServletApp ws://localhost:9001/echo}.
 */
public final class EmbedInServletApp {

    private EmbedInServletApp() {
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
        System.out.println("try: curl http://localhost:8080/hello  and  websocat ws://localhost:8080/ws/echo");
        server.join();
    }

    /** Builds and starts the application with a gateway route {@code /ws/echo} to {@code backendUrl}. */
    static Server start(InetSocketAddress address, String backendUrl) throws Exception {
        Server server = new Server(address);
        ServletContextHandler context = new ServletContextHandler("/");

        // The application as it was: its own servlets, untouched by the gateway.
        context.addServlet(new ServletHolder(new HelloServlet()), "/hello");

        // The gateway. Routes match the path inside the context, and the servlet mapping /ws/* does not
        // strip its prefix: the route for ws://host/ws/echo is /ws/echo.
        Gateway gateway = Gateway.builder()
                .route(Route.of("/ws/echo", Backend.of(backendUrl)))
                .build();
        JettyGateway.install(gateway, context, "/ws/*");

        server.setHandler(context);
        // On stop, drain the gateway: clients get 1012 "service restart" instead of a dropped connection.
        server.setStopTimeout(5_000);
        server.start();
        return server;
    }

    /** The application's own servlet. */
    static final class HelloServlet extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain; charset=utf-8");
            response.getWriter().println("Hello from the servlet app. WebSocket clients: /ws/echo");
        }
    }
}
