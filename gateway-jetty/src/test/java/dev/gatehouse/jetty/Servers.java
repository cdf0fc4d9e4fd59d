package dev.gatehouse.jetty;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import dev.gatehouse.Gateway;

/**
 * A fresh {@link TestBackend} for each test, and the gateways (or anything else) the test starts, all
 * closed after it, the latest first. Register it with {@code @RegisterExtension}; it runs before the
 * test class's own {@code @BeforeEach} methods.
 */
final class Servers implements BeforeEachCallback, AfterEachCallback {

    private TestBackend backend;                              // the current test's backend
    private final List<AutoCloseable> started = new ArrayList<>(); // what the current test started

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        backend = new TestBackend();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        stopAll();
    }

    /**
     * Stops what the test started and its backend now, the latest first, for a test that checks what
     * stopping does; the rest of the test sees them stopped.
     */
    void stopAll() throws Exception {
        try {
            for (int i = started.size() - 1; i >= 0; i--) {
                started.get(i).close();
            }
        } finally {
            started.clear();
            backend.close();
        }
    }

    /** The current test's backend. */
    TestBackend backend() {
        return backend;
    }

    /** Starts the gateway as a servlet, to be stopped after the test. */
    GatewayServer start(Gateway gateway) throws Exception {
        return start(gateway, GatewayServer.Mount.SERVLET);
    }

    /** Starts the gateway on the mount, to be stopped after the test. */
    GatewayServer start(Gateway gateway, GatewayServer.Mount mount) throws Exception {
        return closeAfter(GatewayServer.start(gateway, mount));
    }

    /** Starts the gateway on the mount, with its management API on a second connector, to be stopped after the test. */
    GatewayServer startWithManagement(Gateway gateway, GatewayServer.Mount mount, dev.gatehouse.Authenticator auth)
            throws Exception {
        return closeAfter(GatewayServer.startWithManagement(gateway, mount, auth));
    }

    /** Starts the gateway on the mount with its connector configured, to be stopped after the test. */
    GatewayServer start(Gateway gateway, GatewayServer.Mount mount, Consumer<ServerConnector> configure) throws Exception {
        return closeAfter(GatewayServer.start(gateway, mount, configure));
    }

    /** Starts the gateway on the mount serving {@code wss://} with this TLS factory, to be stopped after the test. */
    GatewayServer startTls(Gateway gateway, GatewayServer.Mount mount, SslContextFactory.Server tls) throws Exception {
        return closeAfter(GatewayServer.startTls(gateway, mount, tls));
    }

    /** Like {@link #startTls(Gateway, GatewayServer.Mount, SslContextFactory.Server)}, with its connector configured. */
    GatewayServer startTls(Gateway gateway, GatewayServer.Mount mount, SslContextFactory.Server tls,
            Consumer<ServerConnector> configure) throws Exception {
        return closeAfter(GatewayServer.startTls(gateway, mount, tls, configure));
    }

    /** Starts another backend, serving {@code wss://} with this TLS factory, to be stopped after the test. */
    TestBackend startBackend(SslContextFactory.Server tls) throws Exception {
        return closeAfter(new TestBackend(tls));
    }

    /** Closes {@code c} after the test. */
    <T extends AutoCloseable> T closeAfter(T c) {
        started.add(c);
        return c;
    }
}
