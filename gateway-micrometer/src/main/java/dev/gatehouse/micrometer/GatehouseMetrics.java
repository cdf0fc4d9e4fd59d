package dev.gatehouse.micrometer;

import static java.util.Objects.requireNonNull;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.spi.GatewayListener;

/**
 * The gateway's meters on a Micrometer {@link MeterRegistry}: pass it to the gateway's builder.
 *
 * <pre>{@code
 * MeterRegistry registry = new SimpleMeterRegistry(); // or Prometheus, OTLP, Datadog...
 * Gateway gateway = Gateway.builder()
 *         .route(Route.of("/echo", Backend.of("ws://localhost:9001/echo")))
 *         .listener(GatehouseMetrics.of(registry))
 *         .build();
 * }</pre>
 *
 * <p>The meters, with low-cardinality tags only (never a connection id, user, raw path or message):
 * <table>
 * <caption>Meters</caption>
 * <tr><th>meter</th><th>type</th><th>tags</th></tr>
 * <tr><td>{@code gatehouse.connections.active}</td><td>gauge</td><td>route</td></tr>
 * <tr><td>{@code gatehouse.handshakes}</td><td>counter</td><td>route, outcome ({@code accepted}/{@code rejected}), status</td></tr>
 * <tr><td>{@code gatehouse.handshake.duration}</td><td>timer</td><td>route, outcome</td></tr>
 * <tr><td>{@code gatehouse.backend.connect.duration}</td><td>timer</td><td>route, target</td></tr>
 * <tr><td>{@code gatehouse.messages}</td><td>counter</td><td>route, direction ({@code in}/{@code out})</td></tr>
 * <tr><td>{@code gatehouse.message.bytes}</td><td>distribution summary</td><td>route, direction</td></tr>
 * <tr><td>{@code gatehouse.closes}</td><td>counter</td><td>route, code, initiator, cause</td></tr>
 * <tr><td>{@code gatehouse.session.duration}</td><td>timer</td><td>route</td></tr>
 * <tr><td>{@code gatehouse.integration.duration}</td><td>timer</td><td>route, routeKey, status</td></tr>
 * <tr><td>{@code gatehouse.integration.errors}</td><td>counter</td><td>route, routeKey, status</td></tr>
 * <tr><td>{@code gatehouse.rejections}</td><td>counter</td><td>route, kind</td></tr>
 * <tr><td>{@code gatehouse.pending.bytes}</td><td>gauge</td><td>(none)</td></tr>
 * <tr><td>{@code gatehouse.cluster.members}</td><td>gauge</td><td>(none; only with a cluster)</td></tr>
 * <tr><td>{@code gatehouse.cluster.forwards}</td><td>counter</td><td>op, result ({@code ok}/{@code unreachable}/{@code error})</td></tr>
 * <tr><td>{@code gatehouse.cluster.fallbacks}</td><td>counter</td><td>limit ({@code rate}/{@code quota}/{@code connections}), fallback ({@code local}/{@code open}/{@code closed})</td></tr>
 * </table>
 *
 * <p>{@code route} is the route's path template as configured ({@link #NO_ROUTE} for a request that matched
 * none); {@code target} the backend's scheme, host and port. The gauges and each route's meters are registered
 * when the gateway is built, so that they read 0 before the first connection. One instance may serve several
 * gateways on one registry: the connection gauges count all of them and the pending bytes are summed; it
 * holds the gateways weakly. Thread-safe.
 */
public final class GatehouseMetrics implements GatewayListener {

    /** The {@code route} tag of a handshake that matched no route. */
    public static final String NO_ROUTE = "none";

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, RouteMeters> routes = new ConcurrentHashMap<>(); // by path template
    // Whose pending bytes the gauge sums: held weakly, so that a gateway given up is not kept for its meters.
    private final List<WeakReference<Gateway>> gateways = new CopyOnWriteArrayList<>();

    private GatehouseMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("gatehouse.pending.bytes", gateways, GatehouseMetrics::pendingBytes)
                .description("Data bytes the relay holds between the legs of its connections")
                .baseUnit("bytes")
                .register(registry);
    }

    /** Meters on this registry, for the builder's {@link Gateway.Builder#listener}. */
    public static GatehouseMetrics of(MeterRegistry registry) {
        return new GatehouseMetrics(requireNonNull(registry, "registry"));
    }

    /** The registry the meters are on. */
    public MeterRegistry registry() {
        return registry;
    }

    private static double pendingBytes(List<WeakReference<Gateway>> gateways) {
        long sum = 0;
        for (WeakReference<Gateway> ref : gateways) {
            Gateway g = ref.get();
            if (g == null) {
                gateways.remove(ref); // collected: nothing to count any more
            } else {
                sum += g.pendingBytes();
            }
        }
        return sum;
    }

    @Override
    public void built(Gateway gateway) {
        gateways.add(new WeakReference<>(gateway));
        for (Route route : gateway.routes()) {
            meters(route.path());
        }
    }

    @Override
    public MessageCounter messages(Route route) {
        return meters(route.path());
    }

    @Override
    public void handshakeAccepted(HandshakeEvent event) {
        String route = route(event);
        meters(route).active.incrementAndGet();
        handshake(event, route, "accepted");
    }

    @Override
    public void handshakeRejected(HandshakeEvent event) {
        String route = route(event);
        handshake(event, route, "rejected");
        event.rejection().ifPresent(kind -> Counter.builder("gatehouse.rejections")
                .description("Handshakes refused, by kind of refusal")
                .tag("route", route).tag("kind", kind.error())
                .register(registry).increment());
    }

    @Override
    public void clusterJoined(ClusterEvent event) {
        Gauge.builder("gatehouse.cluster.members", event.members(), m -> m.getAsInt())
                .description("Gateway nodes in the cluster, this one included")
                .strongReference(true) // the event's supplier is held by nothing else
                .register(registry);
    }

    @Override
    public void clusterForwarded(ForwardEvent event) {
        Counter.builder("gatehouse.cluster.forwards")
                .description("Operations on connections of other nodes: forwarded to one node, or broadcast to all")
                .tag("op", event.operation()).tag("result", event.result())
                .register(registry).increment();
    }

    @Override
    public void clusterFellBack(FallbackEvent event) {
        Counter.builder("gatehouse.cluster.fallbacks")
                .description("Shared limits decided without the cluster's engine, which could not be reached")
                .tag("limit", event.limit()).tag("fallback", event.fallback())
                .register(registry).increment();
    }

    private void handshake(HandshakeEvent event, String route, String outcome) {
        Counter.builder("gatehouse.handshakes")
                .description("Upgrade requests answered, by outcome and HTTP status")
                .tag("route", route).tag("outcome", outcome).tag("status", Integer.toString(event.status()))
                .register(registry).increment();
        event.duration().ifPresent(d -> Timer.builder("gatehouse.handshake.duration")
                .description("From the request to the 101 or the refusal, the backend's dial included")
                .tag("route", route).tag("outcome", outcome)
                .register(registry).record(d));
    }

    @Override
    public void backendDialed(DialEvent event) {
        Timer.builder("gatehouse.backend.connect.duration")
                .description("Backend dials, from the start to the backend's 101 or the failure")
                .tag("route", event.route().path()).tag("target", event.target())
                .register(registry).record(event.duration());
    }

    @Override
    public void connectionClosed(CloseEvent event) {
        RouteMeters m = meters(event.route().path());
        m.active.decrementAndGet();
        m.session.record(event.duration());
        Counter.builder("gatehouse.closes")
                .description("Connections ended, by the client's close code, who decided it and why")
                .tag("route", event.route().path()).tag("code", Integer.toString(event.code()))
                .tag("initiator", event.initiator()).tag("cause", event.cause())
                .register(registry).increment();
    }

    @Override
    public void integrationCalled(IntegrationEvent event) {
        String route = event.route().path();
        String status = Integer.toString(event.status());
        Timer.builder("gatehouse.integration.duration")
                .description("Integration calls of WebSocket API routes, from the call to the answer or failure")
                .tag("route", route).tag("routeKey", event.routeKey()).tag("status", status)
                .register(registry).record(event.latency());
        if (event.failed()) {
            Counter.builder("gatehouse.integration.errors")
                    .description("Integration calls that failed: unreachable, timed out, or an unusable answer")
                    .tag("route", route).tag("routeKey", event.routeKey()).tag("status", status)
                    .register(registry).increment();
        }
    }

    private static String route(HandshakeEvent event) {
        return event.route().map(Route::path).orElse(NO_ROUTE);
    }

    private RouteMeters meters(String route) {
        return routes.computeIfAbsent(route, r -> new RouteMeters(registry, r));
    }

    /** A route's meters that are looked up per message or per connection, registered once. */
    private static final class RouteMeters implements MessageCounter {
        private final AtomicLong active = new AtomicLong(); // connections of the route whose relay runs
        private final Counter messagesIn;
        private final Counter messagesOut;
        private final DistributionSummary bytesIn;
        private final DistributionSummary bytesOut;
        private final Timer session;

        RouteMeters(MeterRegistry registry, String route) {
            Gauge.builder("gatehouse.connections.active", active, AtomicLong::get)
                    .description("Connections whose relay runs")
                    .tag("route", route).register(registry);
            messagesIn = messages(registry, route, "in");
            messagesOut = messages(registry, route, "out");
            bytesIn = bytes(registry, route, "in");
            bytesOut = bytes(registry, route, "out");
            session = Timer.builder("gatehouse.session.duration")
                    .description("Connections' lives, from the 101 to the end of both legs")
                    .tag("route", route).register(registry);
        }

        private static Counter messages(MeterRegistry registry, String route, String direction) {
            return Counter.builder("gatehouse.messages")
                    .description("Messages relayed: in from clients, out to clients")
                    .tag("route", route).tag("direction", direction).register(registry);
        }

        private static DistributionSummary bytes(MeterRegistry registry, String route, String direction) {
            return DistributionSummary.builder("gatehouse.message.bytes")
                    .description("Payload sizes of the messages relayed: in from clients, out to clients")
                    .baseUnit("bytes")
                    .tag("route", route).tag("direction", direction).register(registry);
        }

        @Override
        public void message(Direction direction, long bytes) {
            if (direction == Direction.IN) {
                messagesIn.increment();
                bytesIn.record(bytes);
            } else {
                messagesOut.increment();
                bytesOut.record(bytes);
            }
        }
    }
}
