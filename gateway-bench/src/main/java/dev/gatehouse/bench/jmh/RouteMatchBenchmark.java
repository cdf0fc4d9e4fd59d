package dev.gatehouse.bench.jmh;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Route;
import dev.gatehouse.internal.Admission;
import dev.gatehouse.internal.DefaultGateway;

/**
 * Route matching among 1,000 routes of varied shapes, through {@link DefaultGateway}'s public methods
 * (the route table itself is package-private). The routes, in the table's order (most specific first):
 * 50 bound to a host ({@code h<i>.example.com}, {@code /chat/{room}}), 200 {@code /api/v<i>/{a}/{b}/items},
 * 300 {@code /svc<i>/stream}, 300 {@code /tenant<i>/{room}/events} and 150 {@code /files<i>/*}.
 * {@code request} picks which is hit: the first path route, the last of each shape, a host route, or none.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouteMatchBenchmark {

    /** Which route the request hits. */
    @Param({"first", "literal-last", "param-last", "wildcard-last", "host", "miss"})
    public String request;

    private DefaultGateway gateway;
    private Handshake handshake;

    /** Builds the 1,000 routes and the request. */
    @Setup
    public void setUp() {
        Gateway.Builder b = Gateway.builder();
        Backend backend = Backend.of("ws://127.0.0.1:9/backend");
        for (int i = 0; i < 50; i++) {
            b.route(Route.builder("/chat/{room}").host("h" + i + ".example.com").backend(backend).build());
        }
        for (int i = 0; i < 200; i++) {
            b.route(Route.of("/api/v" + i + "/{a}/{b}/items", backend));
        }
        for (int i = 0; i < 300; i++) {
            b.route(Route.of("/svc" + i + "/stream", backend));
        }
        for (int i = 0; i < 300; i++) {
            b.route(Route.of("/tenant" + i + "/{room}/events", backend));
        }
        for (int i = 0; i < 150; i++) {
            b.route(Route.of("/files" + i + "/*", backend));
        }
        gateway = DefaultGateway.of(b.build());
        String host = "gw.example.com";
        String path;
        switch (request) {
            case "first":
                path = "/api/v0/x/y/items";
                break;
            case "literal-last":
                path = "/svc299/stream";
                break;
            case "param-last":
                path = "/tenant299/lobby/events";
                break;
            case "wildcard-last":
                path = "/files149/a/b/c";
                break;
            case "host":
                host = "h49.example.com";
                path = "/chat/lobby";
                break;
            default:
                path = "/nothing/here";
        }
        handshake = Handshake.builder("bench", path)
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Host", host)
                .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .header("Sec-WebSocket-Version", "13")
                .host(host)
                .remoteAddress(new InetSocketAddress("127.0.0.1", 40000))
                .build();
        if (!request.equals("miss") && !gateway.hasRoute(handshake)) {
            throw new IllegalStateException("no route for " + path);
        }
    }

    /** Stops the gateway's timer thread. */
    @TearDown
    public void tearDown() {
        gateway.drain(java.time.Duration.ZERO);
    }

    /** The route lookup alone: what the core handler runs on every request to decide whether it is the gateway's. */
    @Benchmark
    public boolean hasRoute() {
        return gateway.hasRoute(handshake);
    }

    /**
     * The whole pre-handshake pipeline without network: route match, identity-header scrub, anonymous
     * authenticator, no policies, backend target, forwarded headers. A miss also formats its access-log line
     * (logged only if the access logger is enabled).
     */
    @Benchmark
    public Admission admit() {
        return gateway.admit(handshake);
    }
}
