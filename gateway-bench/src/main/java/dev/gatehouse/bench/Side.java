package dev.gatehouse.bench;

/**
 * Where a run's load goes: straight to the backend, through the gateway, or (for {@link Scenario#API_HTTP})
 * as HTTP POSTs from Jetty's {@code HttpClient} in the load generator to the backend's HTTP echo.
 */
enum Side {
    DIRECT("direct"),
    GATEWAY("gateway"),
    HTTP_CLIENT("http-client");

    private final String label;

    Side(String label) {
        this.label = label;
    }

    @Override
    public String toString() {
        return label;
    }
}
