package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.gatehouse.internal.DefaultGateway;

/**
 * A WebSocket gateway: a route table with default settings, and the registry of the connections it
 * bridges. Build it once, then mount it on Jetty with {@code JettyGateway} from {@code gateway-jetty}:
 *
 * <pre>{@code
 * Gateway gateway = Gateway.builder()
 *         .route(Route.of("/echo", Backend.of("ws://localhost:9001/echo")))
 *         .settings(Settings.builder().idleTimeout(Duration.ofMinutes(5)).build())
 *         .build();
 * JettyGateway.install(gateway, servletContextHandler, "/*");
 * }</pre>
 *
 * <p>The route table and settings are immutable. Instances come only from {@link #builder()}.
 */
public interface Gateway {

    /** Starts a gateway. */
    static Builder builder() {
        return new Builder();
    }

    /** The routes, in the order they were added. */
    List<Route> routes();

    /** The default settings of routes that have none of their own. */
    Settings settings();

    /** The open connections. */
    Connections connections();

    /**
     * Starts a graceful drain: new upgrades get 503 with {@code Retry-After}, and every open connection is
     * closed with its route's {@link Settings#drainStatus()} (the backend gets 1001), at moments spread
     * evenly over {@code window} so that clients do not all reconnect at once. Calling it again returns
     * the same future. There is no way back: a drained gateway stays closed to new upgrades.
     *
     * @param window the time over which to spread the closes; zero closes everything at once
     * @return completes when no connection is left
     */
    CompletableFuture<Void> drain(Duration window);

    /** Whether {@link #drain(Duration)} was called. */
    boolean isDraining();

    /**
     * The window over which an adapter spreads the closes when its server stops; zero (all at once) unless
     * set with {@link Builder#drainWindow(Duration)}.
     */
    Duration drainWindow();

    /** Builds a {@link Gateway}. */
    final class Builder {
        private final List<Route> routes = new ArrayList<>();
        private Settings settings = Settings.defaults();
        private Duration drainWindow = Duration.ZERO;

        private Builder() {
        }

        /**
         * The window over which stopping the server spreads the connections' closes (see
         * {@link Gateway#drain(Duration)}); zero by default. Stopping waits for the drain up to this window
         * plus the close timeout.
         */
        public Builder drainWindow(Duration drainWindow) {
            requireNonNull(drainWindow, "drainWindow");
            if (drainWindow.isNegative()) {
                throw new IllegalArgumentException("drainWindow: " + drainWindow + " (expected: >= 0)");
            }
            this.drainWindow = drainWindow;
            return this;
        }

        /** Adds a route. */
        public Builder route(Route route) {
            routes.add(requireNonNull(route, "route"));
            return this;
        }

        /** The default settings; {@link Settings#defaults()} unless set. */
        public Builder settings(Settings settings) {
            this.settings = requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Builds the gateway.
         *
         * @throws IllegalStateException if there is no route, or two routes match the same requests
         */
        public Gateway build() {
            return new DefaultGateway(routes, settings, drainWindow);
        }
    }
}
