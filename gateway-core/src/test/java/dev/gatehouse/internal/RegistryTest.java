package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Principal;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.BridgeHarness.Connection;

/** The connection registry behind {@code gateway.connections()}. */
class RegistryTest {

    private BridgeHarness harness = BridgeHarness.create();

    @AfterEach
    void engineKeptTheChannelContract() {
        harness.assertNoViolations();
    }

    @Test
    void listShowsAnOpenConnectionWithRouteRemoteAddressPrincipalAndSubprotocol() {
        harness = BridgeHarness.create(BridgeHarness.quiet().build(), h -> Verdict.allow(
                h.withPrincipal(Principal.builder("alice").consumer("mobile-app").build())));
        Connection c = harness.connect(BridgeHarness.request("conn-1").build(), "chat.v2");

        List<ConnectionInfo> list = harness.gateway().connections().list();

        assertEquals(1, list.size());
        ConnectionInfo info = list.get(0);
        assertEquals("conn-1", info.id());
        assertEquals(c.id(), info.id());
        assertEquals(BridgeHarness.ROUTE, info.route());
        assertEquals(BridgeHarness.REMOTE, info.remoteAddress());
        assertEquals("alice", info.principal().orElseThrow().subject());
        assertEquals(Optional.of("mobile-app"), info.principal().orElseThrow().consumer());
        assertEquals(Optional.of("chat.v2"), info.subprotocol());
        assertEquals(info.connectedAt(), info.lastActiveAt());
        assertEquals(0, info.messagesIn());
        assertEquals(0, info.pendingBytes());
    }

    @Test
    void anonymousConnectionWithoutSubprotocolHasEmptyPrincipalAndSubprotocol() {
        harness.connect();

        ConnectionInfo info = harness.gateway().connections().list().get(0);

        assertTrue(info.principal().isEmpty());
        assertTrue(info.subprotocol().isEmpty());
    }

    @Test
    void findReturnsTheConnectionById() {
        Connection a = harness.connect();
        Connection b = harness.connect();

        assertEquals(a.id(), harness.gateway().connections().info(a.id()).toCompletableFuture().join().orElseThrow().id());
        assertEquals(b.id(), harness.gateway().connections().info(b.id()).toCompletableFuture().join().orElseThrow().id());
        assertTrue(harness.gateway().connections().info("no-such-id").toCompletableFuture().join().isEmpty());
        assertEquals(2, harness.gateway().connections().count());
        assertEquals(2, harness.gateway().connections().list().size());
    }

    @Test
    void connectionIsNotListedUntilBothLegsAreOpen() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        assertEquals(0, harness.gateway().connections().count());

        c.connectBackend(null);
        assertEquals(0, harness.gateway().connections().count());
        assertTrue(harness.gateway().connections().info(c.id()).toCompletableFuture().join().isEmpty());
        assertTrue(harness.gateway().connections().list().isEmpty());

        c.connectClient();
        assertEquals(1, harness.gateway().connections().count());
        assertTrue(harness.gateway().connections().info(c.id()).toCompletableFuture().join().isPresent());
    }

    @Test
    void closeSendsTheStatusToTheClientAnd1001ToTheBackend() {
        Connection c = harness.connect();

        assertTrue(harness.gateway().connections().close(c.id(), CloseStatus.of(4000, "kicked")).toCompletableFuture().join());

        c.client.channel.assertClosedOnceWith(CloseStatus.of(4000, "kicked"));
        assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
    }

    @Test
    void closingAConnectionTwiceClosesItOnce() {
        Connection c = harness.connect();

        assertTrue(harness.gateway().connections().close(c.id(), CloseStatus.of(4000, "kicked")).toCompletableFuture().join());
        assertFalse(harness.gateway().connections().close(c.id(), CloseStatus.of(4001, "again")).toCompletableFuture().join());

        c.client.channel.assertClosedOnceWith(CloseStatus.of(4000, "kicked"));
        assertEquals(1, c.backend.channel.closes().size());
    }

    @Test
    void closingAnUnknownConnectionReturnsFalse() {
        assertFalse(harness.gateway().connections().close("nope", CloseStatus.NORMAL).toCompletableFuture().join());
    }

    @Test
    void closeRejectsStatusesThatMayNotBeSent() {
        Connection c = harness.connect();

        for (int code : new int[] {1004, 1005, 1006, 1015}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> harness.gateway().connections().close(c.id(), CloseStatus.of(code)).toCompletableFuture().join());
            assertTrue(e.getMessage().contains(Integer.toString(code)), e.getMessage());
        }
        assertTrue(c.client.channel.closes().isEmpty());
    }

    @Test
    void closingConnectionIsNoLongerCountedAsOpen() {
        Connection c = harness.connect();

        harness.gateway().connections().close(c.id(), CloseStatus.NORMAL).toCompletableFuture().join();

        assertEquals(0, harness.gateway().connections().count());
        assertTrue(harness.gateway().connections().info(c.id()).toCompletableFuture().join().isEmpty());
    }

    @Test
    void endedBridgeLeavesTheRegistryAndCompletesClosed() {
        Connection c = harness.connect();
        Connection other = harness.connect();

        c.client.sendClose(CloseStatus.NORMAL);
        assertFalse(c.bridge.closed().isDone());
        c.backend.echoClose();

        assertTrue(c.bridge.closed().isDone());
        assertTrue(harness.gateway().connections().info(c.id()).toCompletableFuture().join().isEmpty());
        assertEquals(List.of(other.id()), harness.gateway().registry().all().stream().map(Bridge::id).toList());
        assertEquals(1, harness.gateway().connections().count());
    }
}
