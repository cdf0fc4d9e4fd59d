package dev.gatehouse.hazelcast;

import static dev.gatehouse.hazelcast.Nodes.assertNextIsMarker;
import static dev.gatehouse.hazelcast.Nodes.await;
import static dev.gatehouse.hazelcast.Nodes.call;
import static dev.gatehouse.hazelcast.Nodes.idsOf;
import static dev.gatehouse.hazelcast.Nodes.knows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import dev.gatehouse.Audience;

/**
 * Gateway nodes that are Hazelcast clients of a cluster the test runs (one member, with no gateway on it): node
 * {@code a} starts its own client ({@code client(ClientConfig)}), node {@code b} is given one
 * ({@code clientOf(client)}). Requests between them travel over topics; a client node that dies leaves the
 * directory once its heartbeat expires.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HazelcastClientModeTest {

    /** Covers a dead node's heartbeat expiring (10 s) and the member noticing it (every second here). */
    private static final Duration BOUND = Duration.ofSeconds(40);

    private final String clusterName = "gatehouse-clients-" + UUID.randomUUID();
    private final Nodes nodes = new Nodes();
    private HazelcastInstance member;
    private HazelcastInstance clientOfB;
    private ClusterNode a;
    private ClusterNode b;

    @BeforeAll
    void startAMemberAndTwoClientNodes() throws Exception {
        Config config = ClusterNode.loopback(clusterName, ClusterNode.freePort());
        config.setProperty("hazelcast.internal.map.expiration.task.period.seconds", "1");
        member = Hazelcast.newHazelcastInstance(config);
        a = new ClusterNode("a", HazelcastCluster.builder().client(clientConfig()).build());
        clientOfB = HazelcastClient.newHazelcastClient(clientConfig());
        b = new ClusterNode("b", HazelcastCluster.builder().clientOf(clientOfB).build());
        await("both nodes see each other", BOUND, () -> a.cluster.members() == 2 && b.cluster.members() == 2);
    }

    private ClientConfig clientConfig() {
        ClientConfig c = new ClientConfig().setClusterName(clusterName);
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.getNetworkConfig().addAddress("127.0.0.1:" + member.getCluster().getLocalMember().getAddress().getPort());
        return c;
    }

    @AfterAll
    void stopAll() throws Exception {
        try (ClusterNode x = a; ClusterNode y = b) {
            // closes both, b first
        } finally {
            clientOfB.shutdown();
            member.shutdown();
        }
    }

    @AfterEach
    void abortClients() {
        nodes.abortClients();
    }

    @Test
    void theNodesAreClientsAndCountEachOther() {
        assertTrue(a.cluster.instance().getCluster().getMembers().size() == 1);
        assertEquals(2, a.cluster.members());
        assertEquals(2.0, b.membersGauge());
        assertNotEquals(a.cluster.nodeId(), b.cluster.nodeId());
        assertTrue(clientOfB.getLifecycleService().isRunning());
    }

    @Test
    void postOnOneNodeReachesAClientOnAnother() throws Exception {
        Nodes.Client alice = nodes.connect(a, "/api?user=alice-client");
        await("b knows alice", BOUND, () -> knows(b, alice));
        double forwarded = b.forwards("send", "ok");

        HttpResponse<String> r = call(b, "POST", "/@connections/" + alice.id(), "text/plain", "hello from b");

        assertEquals(200, r.statusCode(), r::body);
        alice.events().assertText("hello from b");
        assertEquals(forwarded + 1, b.forwards("send", "ok"));
    }

    @Test
    void getAndDeleteWorkAcrossNodes() throws Exception {
        Nodes.Client carl = nodes.connect(a, "/api?user=carl-client&group=client-get-room");
        await("b knows carl", BOUND, () -> knows(b, carl));

        HttpResponse<String> info = call(b, "GET", "/@connections/" + carl.id(), null, null);
        assertEquals(200, info.statusCode(), info::body);
        assertTrue(info.body().contains("\"userId\":\"carl-client\""), info::body);
        assertTrue(info.body().contains("\"groups\":[\"client-get-room\"]"), info::body);

        HttpResponse<String> delete = call(b, "DELETE", "/@connections/" + carl.id() + "?code=4000&reason=bye", null,
                null);
        assertEquals(204, delete.statusCode(), delete::body);
        carl.events().assertClose(4000, "bye");
        await("b's directory forgets carl", BOUND, () -> !knows(b, carl));
        assertEquals(410, call(b, "GET", "/@connections/" + carl.id(), null, null).statusCode());
    }

    @Test
    void userAndGroupSendsReachEveryNodeExactlyOnce() throws Exception {
        Nodes.Client onA1 = nodes.connect(a, "/api?user=erin-client&group=client-room");
        Nodes.Client onA2 = nodes.connect(a, "/api?user=erin-client");
        Nodes.Client onB = nodes.connect(b, "/api?user=erin-client&group=client-room");
        Nodes.Client other = nodes.connect(b, "/api?user=frank-client&group=client-room");
        await("each node knows the other's clients", BOUND, () -> knows(a, onB) && knows(b, onA1));

        HttpResponse<String> toUser = call(b, "POST", "/users/erin-client/:send", "text/plain", "to erin");
        assertEquals(202, toUser.statusCode(), toUser::body);
        assertEquals("3", toUser.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());
        HttpResponse<String> toGroup = call(a, "POST", "/groups/client-room/:send?excluded=" + other.id(),
                "text/plain", "to the room");
        assertEquals(202, toGroup.statusCode(), toGroup::body);
        assertEquals("2", toGroup.headers().firstValue("X-Gatehouse-Recipients").orElseThrow());

        onA1.events().assertText("to erin");
        onA1.events().assertText("to the room");
        onA2.events().assertText("to erin");
        onB.events().assertText("to erin");
        onB.events().assertText("to the room");
        for (Nodes.Client c : List.of(onA1, onA2, onB, other)) {
            assertNextIsMarker(a, c, "marker " + c.id());
        }
        assertEquals(Set.of(onA1.id(), onB.id(), other.id()), idsOf(b, Audience.group("client-room")));
    }

    @Test
    void aKilledClientNodesConnectionsLeaveTheDirectoryAfterItsHeartbeatExpires() throws Exception {
        Nodes.Client onA = nodes.connect(a, "/api?user=kim-client");
        String doomedId;
        try (ClusterNode c = new ClusterNode("c", HazelcastCluster.builder().client(clientConfig()).build())) {
            await("three nodes", BOUND, () -> a.cluster.members() == 3 && b.cluster.members() == 3);
            Nodes.Client onC = nodes.connect(c, "/api?user=kim-client");
            doomedId = onC.id();
            await("b knows the connection on c", BOUND, () -> knows(b, onC));
            assertEquals(200, call(b, "POST", "/@connections/" + onC.id(), "text/plain", "before").statusCode());
            onC.events().assertText("before");

            c.kill(); // its client terminates: no goodbye, its heartbeat just stops
        }

        await("the killed node's heartbeat expires", BOUND, () -> a.cluster.members() == 2 && b.cluster.members() == 2);
        await("its connections leave the directory", BOUND,
                () -> !idsOf(b, Audience.user("kim-client")).contains(doomedId));
        HttpResponse<String> gone = call(b, "POST", "/@connections/" + doomedId, "text/plain", "after");
        assertEquals(410, gone.statusCode(), gone::body);
        assertEquals(Set.of(onA.id()), idsOf(b, Audience.user("kim-client")));
        assertEquals(200, call(b, "POST", "/@connections/" + onA.id(), "text/plain", "still here").statusCode());
        onA.events().assertText("still here");
    }

    @Test
    void clientNodesRegisterTheirConnectionsAgainWhenTheyReconnectToAClusterThatLostThem() throws Exception {
        String name = "gatehouse-reconnect-" + UUID.randomUUID();
        Config config = ClusterNode.loopback(name, ClusterNode.freePort());
        HazelcastInstance first = Hazelcast.newHazelcastInstance(config);
        int port = first.getCluster().getLocalMember().getAddress().getPort();
        config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
        ClientConfig clients = new ClientConfig().setClusterName(name);
        clients.setProperty("hazelcast.phone.home.enabled", "false");
        clients.setProperty("hazelcast.logging.type", "slf4j");
        clients.setProperty("hazelcast.shutdownhook.enabled", "false");
        clients.getNetworkConfig().addAddress("127.0.0.1:" + port);
        clients.getConnectionStrategyConfig().getConnectionRetryConfig().setInitialBackoffMillis(100)
                .setMaxBackoffMillis(500);
        HazelcastInstance second = null;
        try (ClusterNode x = new ClusterNode("x", HazelcastCluster.builder().client(clients).build());
                ClusterNode y = new ClusterNode("y", HazelcastCluster.builder().client(clients).build())) {
            await("both nodes see each other", BOUND, () -> x.cluster.members() == 2 && y.cluster.members() == 2);
            Nodes.Client onX = nodes.connect(x, "/api?user=rita-reconnect");
            await("y knows the connection on x", BOUND, () -> knows(y, onX));
            String before = x.cluster.nodeId();

            first.shutdown(); // the whole cluster goes, and its data with it
            second = Hazelcast.newHazelcastInstance(config);

            await("x is a node again, under a new id", BOUND, () -> !x.cluster.nodeId().equals(before)
                    && x.cluster.members() == 2 && y.cluster.members() == 2);
            await("y knows the connection on x again", BOUND, () -> knows(y, onX));
            HttpResponse<String> post = call(y, "POST", "/@connections/" + onX.id(), "text/plain", "welcome back");
            assertEquals(200, post.statusCode(), post::body);
            onX.events().assertText("welcome back");
        } finally {
            if (first.getLifecycleService().isRunning()) {
                first.shutdown();
            }
            if (second != null) {
                second.shutdown();
            }
        }
    }

    @Test
    void aClientIsRefusedAsAMemberAndAMemberAsAClient() {
        assertThrows(IllegalArgumentException.class, () -> HazelcastCluster.builder().clientOf(member).build());
        assertThrows(IllegalArgumentException.class, () -> HazelcastCluster.of(clientOfB));
        assertThrows(IllegalStateException.class, () -> HazelcastCluster.builder().clientOf(clientOfB)
                .member(member).build());
    }
}
