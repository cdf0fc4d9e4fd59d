package dev.gatehouse.hazelcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.hazelcast.core.HazelcastInstance;

import dev.gatehouse.Audience;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Message;
import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.hazelcast.internal.DirectoryEntry;
import dev.gatehouse.hazelcast.internal.HazelcastNode;
import dev.gatehouse.jetty.RecordingListener;

/**
 * Several gateway nodes in one JVM, each a Jetty server with its own embedded Hazelcast member on loopback: the
 * management API of any node reaches the connections of every node, audience sends reach each member once, and
 * a killed node's connections leave the directory while the others keep serving.
 *
 * <p>Nodes {@code a} and {@code b} live for the whole class; a test that kills a node starts its own third one.
 * Each test uses users and groups of its own. The directory learns of a connection shortly after it opens, so a
 * test first waits, bounded, for another node to see it. That a client did not get a message twice is shown by
 * order: a marker sent to it afterwards must be the next thing it receives.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HazelcastClusterTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final String clusterName = "gatehouse-test-" + UUID.randomUUID();
    private int base;
    private ClusterNode a;
    private ClusterNode b;
    private final List<Client> clients = new ArrayList<>();

    /** A client connected through a node, and its connection's id. */
    private record Client(WebSocket ws, RecordingListener events, String id) {
    }

    @BeforeAll
    void startTwoNodes() throws Exception {
        base = ClusterNode.freePort();
        a = new ClusterNode("a", ClusterNode.loopback(clusterName, base));
        b = new ClusterNode("b", ClusterNode.loopback(clusterName, base));
        await("both members see each other", () -> a.cluster.members() == 2 && b.cluster.members() == 2);
    }

    @AfterAll
    void stopNodes() throws Exception {
        try (ClusterNode x = a; ClusterNode y = b) {
            // closes both, b first
        }
    }

    @AfterEach
    void closeClients() {
        for (Client c : clients) {
            c.ws().abort();
        }
        clients.clear();
    }

    @Test
    void postOnOneNodeReachesAClientOnAnother() throws Exception {
        Client alice = connect(a, "/api?user=alice-post");
        awaitKnownTo(b, alice);
        double forwarded = b.forwards("send", "ok");

        HttpResponse<String> r = call(b, "POST", "/@connections/" + alice.id(), "text/plain", "hello from b");

        assertEquals(200, r.statusCode(), r::body);
        alice.events().assertText("hello from b");
        assertEquals(forwarded + 1, b.forwards("send", "ok"));
        assertEquals(2.0, b.membersGauge());
    }

    @Test
    void getAndDeleteWorkAcrossNodes() throws Exception {
        Client carl = connect(a, "/api?user=carl-get&group=get-room");
        awaitKnownTo(b, carl);

        HttpResponse<String> info = call(b, "GET", "/@connections/" + carl.id(), null, null);
        assertEquals(200, info.statusCode(), info::body);
        assertTrue(info.body().contains("\"connectionId\":\"" + carl.id() + "\""), info::body);
        assertTrue(info.body().contains("\"userId\":\"carl-get\""), info::body);
        assertTrue(info.body().contains("\"groups\":[\"get-room\"]"), info::body);

        HttpResponse<String> delete = call(b, "DELETE", "/@connections/" + carl.id() + "?code=4000&reason=bye", null, null);
        assertEquals(204, delete.statusCode(), delete::body);
        carl.events().assertClose(4000, "bye");

        await("b's directory forgets the closed connection", () -> b.gateway.connections().info(carl.id())
                .toCompletableFuture().join().isEmpty());
        assertEquals(410, call(b, "GET", "/@connections/" + carl.id(), null, null).statusCode());
        assertEquals(410, call(b, "POST", "/@connections/" + carl.id(), "text/plain", "late").statusCode());
    }

    @Test
    void userAndGroupSendsReachMembersOnEveryNodeExactlyOnce() throws Exception {
        Client onA1 = connect(a, "/api?user=erin-send&group=send-room");
        Client onA2 = connect(a, "/api?user=erin-send");
        Client onB = connect(b, "/api?user=erin-send&group=send-room");
        Client other = connect(b, "/api?user=frank-send&group=send-room");
        awaitKnownTo(a, onB);
        awaitKnownTo(b, onA1);

        HttpResponse<String> toUser = call(b, "POST", "/users/erin-send/:send", "text/plain", "to erin");
        assertEquals(202, toUser.statusCode(), toUser::body);
        assertEquals("3", toUser.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());

        HttpResponse<String> toGroup = call(a, "POST", "/groups/send-room/:send?excluded=" + other.id(), "text/plain",
                "to the room");
        assertEquals(202, toGroup.statusCode(), toGroup::body);
        assertEquals("2", toGroup.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());

        onA1.events().assertText("to erin");
        onA1.events().assertText("to the room");
        onA2.events().assertText("to erin");
        onB.events().assertText("to erin");
        onB.events().assertText("to the room");
        for (Client c : List.of(onA1, onA2, onB, other)) {
            assertNextIsMarker(a, c, "marker " + c.id());
        }
    }

    @Test
    void usersAndGroupsAreListedAcrossNodes() throws Exception {
        Client onA = connect(a, "/api?user=gina-list&group=list-room");
        Client onB = connect(b, "/api?user=gina-list&group=list-room");
        Set<String> both = Set.of(onA.id(), onB.id());

        await("a lists the group's members on both nodes", () -> idsOf(a, Audience.group("list-room")).equals(both));
        assertEquals(both, idsOf(b, Audience.user("gina-list")));
        HttpResponse<String> group = call(b, "GET", "/groups/list-room", null, null);
        assertEquals(200, group.statusCode(), group::body);
        assertTrue(group.body().contains(onA.id()) && group.body().contains(onB.id()), group::body);
        assertEquals(404, call(b, "GET", "/groups/nobody-here", null, null).statusCode());
    }

    @Test
    void joinAndLeaveAcrossNodes() throws Exception {
        Client hal = connect(a, "/api?user=hal-join");
        awaitKnownTo(b, hal);

        assertEquals(204, call(b, "PUT", "/groups/join-room/connections/" + hal.id(), null, null).statusCode());
        await("the directory holds the new membership", () -> idsOf(b, Audience.group("join-room")).contains(hal.id()));
        HttpResponse<String> send = call(b, "POST", "/groups/join-room/:send", "text/plain", "joined");
        assertEquals("1", send.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());
        hal.events().assertText("joined");

        assertEquals(204, call(b, "DELETE", "/groups/join-room/connections/" + hal.id(), null, null).statusCode());
        await("the directory drops the membership", () -> idsOf(b, Audience.group("join-room")).isEmpty());
        HttpResponse<String> after = call(b, "POST", "/groups/join-room/:send", "text/plain", "left");
        assertEquals("0", after.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());
        assertNextIsMarker(b, hal, "marker");
    }

    @Test
    void closingAnAudienceAndRevokingReachEveryNode() throws Exception {
        Client ivyA = connect(a, "/api?user=ivy-close");
        Client ivyB = connect(b, "/api?user=ivy-close");
        Client daveA = connect(a, "/api", "X-API-Key", "k-dave");
        Client daveB = connect(b, "/api", "X-API-Key", "k-dave");

        assertEquals(204, call(a, "POST", "/users/ivy-close/:closeConnections?code=4001&reason=out", null, null)
                .statusCode());
        ivyA.events().assertClose(4001, "out");
        ivyB.events().assertClose(4001, "out");

        assertEquals(2, b.gateway.connections().revoke("dave").toCompletableFuture().get(5, TimeUnit.SECONDS));
        daveA.events().assertClose(1008, "revoked");
        daveB.events().assertClose(1008, "revoked");
    }

    @Test
    void anUnknownIdIsGoneAndAnUnreachableNodeAnswers503() throws Exception {
        assertEquals(410, call(a, "POST", "/@connections/no-such-id", "text/plain", "x").statusCode());
        assertEquals(410, call(a, "GET", "/@connections/no-such-id", null, null).statusCode());
        assertEquals(410, call(a, "DELETE", "/@connections/no-such-id", null, null).statusCode());

        // A connection whose node is not a member (it died, and no member has purged it yet).
        String ghost = "ghost-" + UUID.randomUUID();
        HazelcastInstance hz = a.cluster.instance();
        hz.<String, DirectoryEntry>getMap(HazelcastNode.DIRECTORY)
                .set(ghost, new DirectoryEntry(UUID.randomUUID().toString(), null, Set.of()));
        try {
            double unreachable = b.forwards("send", "unreachable");
            HttpResponse<String> post = call(b, "POST", "/@connections/" + ghost, "text/plain", "x");
            assertEquals(503, post.statusCode(), post::body);
            assertEquals(unreachable + 1, b.forwards("send", "unreachable"));
            assertEquals(String.valueOf(NodeUnreachableException.RETRY_AFTER_SECONDS),
                    post.headers().firstValue("Retry-After").orElseThrow());
            assertEquals(503, call(b, "GET", "/@connections/" + ghost, null, null).statusCode());
            assertEquals(503, call(b, "DELETE", "/@connections/" + ghost, null, null).statusCode());
            ExecutionException x = assertThrows(ExecutionException.class, () -> a.gateway.connections()
                    .send(ghost, Message.text("x")).toCompletableFuture().get(5, TimeUnit.SECONDS));
            assertTrue(x.getCause() instanceof NodeUnreachableException, () -> x.getCause().toString());
        } finally {
            hz.getMap(HazelcastNode.DIRECTORY).delete(ghost);
        }
    }

    @Test
    void aKilledNodesConnectionsLeaveTheDirectoryAndTheOthersKeepServing() throws Exception {
        Client onA = connect(a, "/api?user=kim-kill");
        String doomedId;
        try (ClusterNode c = new ClusterNode("c", ClusterNode.loopback(clusterName, base))) {
            await("three members", () -> a.cluster.members() == 3);
            Client onC = connect(c, "/api?user=kim-kill&group=kill-room");
            doomedId = onC.id();
            await("a knows the connection on c", () -> idsOf(a, Audience.user("kim-kill")).contains(onC.id()));
            assertEquals(200, call(b, "POST", "/@connections/" + onC.id(), "text/plain", "before").statusCode());
            onC.events().assertText("before");

            c.kill();
        }

        await("the killed node leaves the cluster", () -> a.cluster.members() == 2 && b.cluster.members() == 2);
        await("its connections leave the directory", () -> !idsOf(b, Audience.user("kim-kill")).contains(doomedId));
        HttpResponse<String> gone = call(b, "POST", "/@connections/" + doomedId, "text/plain", "after");
        assertEquals(410, gone.statusCode(), gone::body);
        assertEquals(Set.of(onA.id()), idsOf(a, Audience.user("kim-kill")));

        // The others keep serving, across nodes too.
        awaitKnownTo(b, onA);
        assertEquals(200, call(b, "POST", "/@connections/" + onA.id(), "text/plain", "still here").statusCode());
        onA.events().assertText("still here");
        assertNotEquals(0, a.gateway.connections().count());
    }

    @Test
    void aClusterOnAnApplicationsMemberLeavesItRunningWhenClosed() {
        HazelcastCluster borrowed = HazelcastCluster.of(a.cluster.instance());
        assertEquals(a.cluster.nodeId(), borrowed.nodeId());

        borrowed.close();

        assertTrue(a.cluster.instance().getLifecycleService().isRunning());
    }

    // ---- helpers ----

    /** Connects a client to a node and finds its connection's id there. */
    private Client connect(ClusterNode node, String path, String... headers) throws Exception {
        Set<String> before = node.gateway.connections().list().stream().map(ConnectionInfo::id)
                .collect(Collectors.toSet());
        RecordingListener events = new RecordingListener();
        WebSocket.Builder builder = HTTP.newWebSocketBuilder();
        for (int i = 0; i < headers.length; i += 2) {
            builder.header(headers[i], headers[i + 1]);
        }
        WebSocket ws = builder.buildAsync(node.uri(path), events).get(5, TimeUnit.SECONDS);
        String[] id = new String[1];
        await("the new connection is listed", () -> {
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

    /** Waits until another node's directory holds the client's connection. */
    private static void awaitKnownTo(ClusterNode node, Client client) throws InterruptedException {
        await("the directory of " + node.gateway + " holds " + client.id(), () -> node.gateway.connections()
                .info(client.id()).toCompletableFuture().join().isPresent());
    }

    private static Set<String> idsOf(ClusterNode node, Audience audience) {
        return new HashSet<>(node.gateway.connections().ids(audience).toCompletableFuture().join());
    }

    /** Sends a marker through a node's API: it must be the next message the client receives. */
    private static void assertNextIsMarker(ClusterNode node, Client client, String marker) throws Exception {
        assertEquals(200, call(node, "POST", "/@connections/" + client.id(), "text/plain", marker).statusCode());
        client.events().assertText(marker);
    }

    private static HttpResponse<String> call(ClusterNode node, String method, String path, String contentType,
            String body) throws Exception {
        URI uri = node.managementUri(path);
        HttpRequest.Builder rq = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("X-API-Key", ClusterNode.KEY);
        if (contentType != null) {
            rq.header("Content-Type", contentType);
        }
        return HTTP.send(rq.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Polls a condition that no event signals (another node's view of the directory, the members' count) every
     * 20 ms until it holds, failing after 20 s: the bound covers Hazelcast declaring a killed member gone.
     */
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
