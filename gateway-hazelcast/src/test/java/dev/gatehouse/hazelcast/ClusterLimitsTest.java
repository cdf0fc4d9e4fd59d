package dev.gatehouse.hazelcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.auth.JwtAuthenticator;
import dev.gatehouse.hazelcast.internal.ConnectionCounts;
import dev.gatehouse.jetty.JettyGateway;
import dev.gatehouse.jetty.RecordingListener;
import dev.gatehouse.micrometer.GatehouseMetrics;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.WebSocketApi;

/**
 * Limits and revocations shared by several nodes in one JVM, each a Jetty server with its own embedded Hazelcast
 * member on loopback: a per-principal connection limit holds across nodes, its slots leave with a killed node,
 * and a revocation made on one node closes the principal's connections on the others and is refused by a node
 * that joined later.
 */
class ClusterLimitsTest {

    private static final String SECRET = "a-secret-of-at-least-thirty-two-bytes!!";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String clusterName = "gatehouse-limits-" + UUID.randomUUID();
    private final List<Node> nodes = new ArrayList<>();
    private final List<WebSocket> sockets = new ArrayList<>();
    private int base;

    /** A gateway node: route {@code /chat}, JWT (HS256) for everyone, at most two connections per principal. */
    private static final class Node implements AutoCloseable {
        final HazelcastCluster cluster;
        final Gateway gateway;
        final MeterRegistry meters = new SimpleMeterRegistry();
        final Server server = new Server();
        final ServerConnector connector = new ServerConnector(server);

        Node(String name, HazelcastCluster cluster) throws Exception {
            this.cluster = cluster;
            WebSocketApi api = WebSocketApi.builder()
                    .integration("$default", Integration.of(e -> CompletableFuture.completedFuture(Reply.none())))
                    .build();
            gateway = Gateway.builder().node(name).cluster(cluster).listener(GatehouseMetrics.of(meters))
                    .route(Route.builder("/chat")
                            .authenticator(JwtAuthenticator.builder().secret(SECRET).algorithms("HS256").build())
                            .maxConnectionsPerPrincipal(2)
                            .webSocketApi(api).build())
                    .build();
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            server.addConnector(connector);
            server.setHandler(JettyGateway.handler(gateway, server));
            server.start();
        }

        URI uri() {
            return URI.create("ws://127.0.0.1:" + connector.getLocalPort() + "/chat");
        }

        void kill() throws Exception {
            cluster.instance().getLifecycleService().terminate();
            server.stop();
        }

        @Override
        public void close() throws Exception {
            try {
                server.stop();
            } finally {
                cluster.close();
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        sockets.forEach(WebSocket::abort);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
    }

    private Node start(String name) throws Exception {
        if (base == 0) {
            base = ClusterNode.freePort();
        }
        // A long wait for the engine: the fallback must never stand in for it on a loaded machine.
        Node n = new Node(name, HazelcastCluster.builder().embedded(ClusterNode.loopback(clusterName, base))
                .limitsTimeout(Duration.ofSeconds(10)).build());
        nodes.add(n);
        int size = nodes.size();
        await(size + " members", () -> nodes.stream().allMatch(x -> !x.cluster.instance().getLifecycleService()
                .isRunning() || x.cluster.members() == size));
        return n;
    }

    @Test
    void aPerPrincipalLimitOfTwoHoldsAcrossThreeNodesAndItsSlotsComeBack() throws Exception {
        Node a = start("a");
        Node b = start("b");
        Node c = start("c");
        String token = token("carol", Instant.now().minusSeconds(5));

        List<CompletableFuture<WebSocket>> attempts = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            Node n = List.of(a, b, c).get(i % 3);
            attempts.add(HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + token)
                    .buildAsync(n.uri(), new RecordingListener()).toCompletableFuture());
        }
        int open = 0;
        int refused = 0;
        WebSocket first = null;
        for (CompletableFuture<WebSocket> f : attempts) {
            try {
                WebSocket ws = f.get(10, TimeUnit.SECONDS);
                sockets.add(ws);
                first = first == null ? ws : first;
                open++;
            } catch (java.util.concurrent.ExecutionException e) {
                assertEquals(429, ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode());
                refused++;
            }
        }
        assertEquals(2, open, "exactly the limit across the three nodes");
        assertEquals(10, refused);

        first.sendClose(1000, "done").get(5, TimeUnit.SECONDS);
        await("the closed connection's slot is given back", () -> heldSlots(a) == 1);
        sockets.add(connect(c, token));
        assertEquals(429, refusal(b, token));
    }

    @Test
    void aKilledNodesSlotsLeaveWithIt() throws Exception {
        Node a = start("a");
        Node b = start("b");
        String token = token("erin", Instant.now().minusSeconds(5));
        sockets.add(connect(b, token));
        sockets.add(connect(b, token));
        assertEquals(429, refusal(a, token));

        b.kill();

        await("a sees b gone and its slots forgotten", () -> a.cluster.members() == 1 && heldSlots(a) == 0);
        sockets.add(connect(a, token));
        sockets.add(connect(a, token));
        assertEquals(429, refusal(a, token));
    }

    @Test
    void aRevocationOnOneNodeClosesOnAnotherAndIsRefusedByANodeThatJoinsLater() throws Exception {
        Node a = start("a");
        Node b = start("b");
        String old = token("dave", Instant.now().minusSeconds(60));
        RecordingListener onB = new RecordingListener();
        sockets.add(HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + old).buildAsync(b.uri(), onB)
                .get(5, TimeUnit.SECONDS));
        await("b holds dave's connection", () -> b.gateway.connections().count() == 1);

        int closed = a.gateway.connections().revoke("dave", Instant.now().plusSeconds(600)).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);

        assertEquals(1, closed);
        onB.assertClose(1008, "revoked");
        assertEquals(401, refusal(a, old));
        assertEquals(401, refusal(b, old));
        Node c = start("c");
        assertEquals(401, refusal(c, old), "a node that joined later remembers the revocation");
        sockets.add(connect(c, token("dave", Instant.now().plusSeconds(2))));
    }

    @ParameterizedTest
    @EnumSource(HazelcastCluster.Fallback.class)
    void whenTheEngineCannotBeReachedTheLimitFallsBackAsConfigured(HazelcastCluster.Fallback fallback) throws Exception {
        HazelcastInstance member = Hazelcast.newHazelcastInstance(ClusterNode.loopback(clusterName, ClusterNode.freePort()));
        Node n = new Node("alone", HazelcastCluster.builder().member(member).limitsFallback(fallback)
                .limitsTimeout(Duration.ofMillis(500)).build());
        nodes.add(n);
        String token = token("frank", Instant.now().minusSeconds(5));
        sockets.add(connect(n, token)); // counted by the engine

        member.getLifecycleService().terminate();

        switch (fallback) {
            case LOCAL -> {
                sockets.add(connect(n, token)); // the engine's slot still counts on this node
                assertEquals(429, refusal(n, token));
            }
            case OPEN -> {
                sockets.add(connect(n, token));
                sockets.add(connect(n, token));
            }
            case CLOSED -> assertEquals(429, refusal(n, token));
        }
        Counter fellBack = n.meters.find("gatehouse.cluster.fallbacks").tag("limit", "connections")
                .tag("fallback", fallback.name().toLowerCase(java.util.Locale.ROOT)).counter();
        assertTrue(fellBack != null && fellBack.count() >= 1, "the fallback is counted");
    }

    /** The slots the cluster counts, on every key. */
    private static int heldSlots(Node n) {
        int total = 0;
        for (ConnectionCounts.Slots s : n.cluster.instance().<String, ConnectionCounts.Slots>getMap(ConnectionCounts.MAP)
                .values()) {
            total += s.total();
        }
        return total;
    }

    private static WebSocket connect(Node n, String token) throws Exception {
        return HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + token)
                .buildAsync(n.uri(), new RecordingListener()).get(10, TimeUnit.SECONDS);
    }

    /** The status of a handshake that must be refused. */
    private static int refusal(Node n, String token) throws Exception {
        try {
            WebSocket ws = connect(n, token);
            ws.abort();
            throw new AssertionError("the handshake was accepted");
        } catch (java.util.concurrent.ExecutionException e) {
            assertTrue(e.getCause() instanceof WebSocketHandshakeException, e::toString);
            return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
        }
    }

    private static String token(String subject, Instant issuedAt) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder().subject(subject)
                .issueTime(Date.from(issuedAt)).expirationTime(Date.from(Instant.now().plusSeconds(900))).build());
        jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    /** Polls a condition no event signals (Hazelcast's view of members and maps) every 20 ms, for at most 20 s. */
    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        CountDownLatch never = new CountDownLatch(1);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            never.await(20, TimeUnit.MILLISECONDS);
        }
    }
}
