package dev.gatehouse.jetty;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.eclipse.jetty.server.ServerConnector;
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

    /** Starts the gateway on the mount, to be stopped after the test. */
    GatewayServer start(Gateway gateway, GatewayServer.Mount mount) throws Exception {
        return closeAfter(GatewayServer.start(gateway, mount));
    }

    /** Starts the gateway on the mount with its connector configured, to be stopped after the test. */
    GatewayServer start(Gateway gateway, GatewayServer.Mount mount, Consumer<ServerConnector> configure) throws Exception {
        return closeAfter(GatewayServer.start(gateway, mount, configure));
    }

    /** Closes {@code c} after the test. */
    <T extends AutoCloseable> T closeAfter(T c) {
        started.add(c);
        return c;
    }
}
