package dev.gatehouse.examples;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.JettyGateway;
import dev.gatehouse.policy.OriginPolicy;

/** A WebSocket gateway on port 8080 in front of the chat and echo services of ws://localhost:9001. */
public class ChatGateway {

    /**
     * Runs the gateway until the process is stopped.
     *
     * @param args none
     * @throws Exception if the server cannot start, e.g. because CHAT_KEY is not set or port 8080 is taken
     */
    public static void main(String[] args) throws Exception {
        Server server = start(8080, System.getenv("CHAT_KEY"), "ws://localhost:9001");
        server.join();
    }

    /**
     * Starts the gateway.
     *
     * @param port    the port to listen on; 0 picks a free one
     * @param apiKey  the key clients send in X-API-Key (or the query parameter api_key)
     * @param backend where the chat and echo services are
     * @return the started server
     * @throws Exception if the server cannot start
     */
    public static Server start(int port, String apiKey, String backend) throws Exception {
        Gateway gateway = Gateway.builder()
                .authenticator(ApiKeyAuthenticator.of(apiKey, "web-app"))  // every route without its own
                .policy(OriginPolicy.allow("https://app.example.com"))      // browsers from this origin only
                .route(Route.of("/chat/{room}", Backend.of(backend + "/rooms/{room}")))
                .route(Route.builder("/echo")
                        .authenticator(Authenticator.none())                   // open to all
                        .backend(Backend.of(backend + "/echo"))
                        .build())
                .build();

        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(JettyGateway.handler(gateway, server));
        server.setStopTimeout(10_000);   // stopping drains the gateway: clients get 1012 "service restart"
        server.setStopAtShutdown(true);  // and so does SIGTERM or Ctrl-C
        server.start();
        return server;
    }
}
