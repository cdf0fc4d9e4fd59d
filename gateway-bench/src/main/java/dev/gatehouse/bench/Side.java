package dev.gatehouse.bench;

/** Where a run's load goes: straight to the backend, or through the gateway. */
enum Side {
    DIRECT("direct"),
    GATEWAY("gateway");

    private final String label;

    Side(String label) {
        this.label = label;
    }

    @Override
    public String toString() {
        return label;
    }
}
