package dev.gatehouse.internal;

import org.slf4j.MDC;

/**
 * The MDC keys around what the gateway logs for a connection: {@link #CONNECTION_ID} and {@link #ROUTE}. A
 * scope puts them and, when closed, puts back what the thread had before, so that scopes nest.
 */
final class Mdc implements AutoCloseable {

    /** The connection's id (the handshake's request id). */
    static final String CONNECTION_ID = "gatehouse.connectionId";
    /** The route's path template. */
    static final String ROUTE = "gatehouse.route";

    private final String previousId;    // the thread's value before this scope, or null
    private final String previousRoute; // the thread's value before this scope, or null

    private Mdc(String id, String route) {
        previousId = MDC.get(CONNECTION_ID);
        previousRoute = MDC.get(ROUTE);
        put(CONNECTION_ID, id);
        put(ROUTE, route);
    }

    /**
     * Puts the keys for this connection until {@link #close()}.
     *
     * @param route the route's path template, or null when none is known yet
     */
    static Mdc of(String connectionId, String route) {
        return new Mdc(connectionId, route);
    }

    /** Sets the route once it is known. */
    void route(String route) {
        put(ROUTE, route);
    }

    @Override
    public void close() {
        put(CONNECTION_ID, previousId);
        put(ROUTE, previousRoute);
    }

    private static void put(String key, String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }
}
