package dev.gatehouse.hazelcast;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import dev.gatehouse.Audience;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.jetty.RecordingListener;

/**
 * The clients, management calls and bounded waits of the tests that restart or kill nodes: a test makes one, and
 * {@link #abortClients()} after each test.
 */
final class Nodes {

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final List<Client> clients = new ArrayList<>();

    /** A client connected through a node, and its connection's id. */
    record Client(WebSocket ws, RecordingListener events, String id) {
    }

    /** Connects a client to a node and finds its connection's id there. */
    Client connect(ClusterNode node, String path) throws Exception {
        Set<String> before = node.gateway.connections().list().stream().map(ConnectionInfo::id)
                .collect(Collectors.toSet());
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(node.uri(path), events).get(5, TimeUnit.SECONDS);
        String[] id = new String[1];
        await("the new connection is listed", Duration.ofSeconds(5), () -> {
            for (ConnectionInfo c : node.gateway.connections().list()) {
                if (!before.contains(c.id())) {
                    id[0] = c.id();
                    return true;
                }
            }
            return false;
        });
        Client client = new Client(ws, events, id[0]);
        clients.add(client);
        return client;
    }

    void abortClients() {
        for (Client c : clients) {
            c.ws().abort();
        }
        clients.clear();
    }

    /** Whether a node's directory (or registry) holds the client's connection now. */
    static boolean knows(ClusterNode node, Client client) {
        try {
            return node.gateway.connections().info(client.id()).toCompletableFuture().join().isPresent();
        } catch (java.util.concurrent.CompletionException e) {
            return false; // its node cannot be reached (yet)
        }
    }

    static Set<String> idsOf(ClusterNode node, Audience audience) {
        return new HashSet<>(node.gateway.connections().ids(audience).toCompletableFuture().join());
    }

    static HttpResponse<String> call(ClusterNode node, String method, String path, String contentType, String body)
            throws Exception {
        URI uri = node.managementUri(path);
        HttpRequest.Builder rq = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .header("X-API-Key", ClusterNode.KEY);
        if (contentType != null) {
            rq.header("Content-Type", contentType);
        }
        return HTTP.send(rq.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends a marker through a node's API: it must be the next message the client receives. */
    static void assertNextIsMarker(ClusterNode node, Client client, String marker) throws Exception {
        HttpResponse<String> r = call(node, "POST", "/@connections/" + client.id(), "text/plain", marker);
        if (r.statusCode() != 200) {
            throw new AssertionError("marker: " + r.statusCode() + " " + r.body());
        }
        client.events().assertText(marker);
    }

    /**
     * Polls a condition that no event signals (another node's view of the directory, the members' count, a node's
     * entry expiring) every 20 ms until it holds, failing after {@code bound}.
     */
    static void await(String what, Duration bound, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        CountDownLatch never = new CountDownLatch(1);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            never.await(20, TimeUnit.MILLISECONDS);
        }
    }
}
