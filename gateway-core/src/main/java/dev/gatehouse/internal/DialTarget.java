package dev.gatehouse.internal;

import java.net.URI;

/**
 * One target a backend dial tries: its URI (the client's query included) and, for a {@link dev.gatehouse.balance.BackendGroup},
 * the balancer's lease on it, which the dial's outcome settles: {@link #connected(Bridge)} makes it the
 * connection's target until the connection ends; {@link #failed(boolean)} gives it back.
 */
public final class DialTarget {

    private final URI uri;
    private final String name;
    private final Balancer.Lease lease; // null for a single backend

    DialTarget(URI uri, String name, Balancer.Lease lease) {
        this.uri = uri;
        this.name = name;
        this.lease = lease;
    }

    /** The URI to dial, query included. */
    public URI uri() {
        return uri;
    }

    /** The target's name: its URL template for a group's target, else the URI without its query. */
    public String name() {
        return name;
    }

    /** The dial succeeded: the connection relays to this target, which counts it until the connection ends. */
    public void connected(Bridge bridge) {
        if (lease != null) {
            lease.connected();
            lease.track(bridge);
        }
        bridge.relaysTo(name, lease == null ? null : lease::release);
    }

    /**
     * The dial failed; a failure that is the target's fault (unreachable, timeout, 5xx, a broken answer)
     * counts against its health, others (a 4xx, the gateway's own limits) only give the lease back.
     */
    public void failed(boolean targetsFault) {
        if (lease == null) {
            return;
        }
        if (targetsFault) {
            lease.failed();
        } else {
            lease.release();
        }
    }
}
