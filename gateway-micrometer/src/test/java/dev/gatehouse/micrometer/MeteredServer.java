package dev.gatehouse.micrometer;

import java.net.URI;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import dev.gatehouse.Gateway;
import dev.gatehouse.jetty.JettyGateway;

/** A Jetty server on 127.0.0.1, port 0, with a gateway mounted as a servlet or as a core handler. */
final class MeteredServer implements AutoCloseable {

    enum Mount { SERVLET, HANDLER }

    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);

    MeteredServer(Gateway gateway, Mount mount) throws Exception {
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
        server.start();
    }

    URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + connector.getLocalPort() + path);
    }

    URI httpUri(String path) {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + path);
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
