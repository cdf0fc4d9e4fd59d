package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.BridgeHarness.Connection;
import dev.gatehouse.spi.Cluster;

/**
 * Connections of a revoked principal that the revocation meets late: on a node that hears of it through the
 * cluster's map ({@link ClusterConnections.Requests#revoked}) instead of its broadcast, and on a bridge registered
 * after the handshake pipeline checked the revocations. The principal's subject comes from {@code X-User}, its
 * credential's issue time ({@code iat}, seconds) from {@code X-Iat}.
 */
class RevokedConnectionsTest {

    private static final CloseStatus REVOKED = CloseStatus.of(1008, "revoked");
    private static final Instant T0 = ManualTicker.EPOCH;

    private final ManualTicker ticker = new ManualTicker();
    private final List<Connection> connections = new ArrayList<>();

    @AfterEach
    void engineKeptTheChannelContract() {
        List<String> violations = new ArrayList<>();
        for (Connection c : connections) {
            violations.addAll(c.client.channel.violations());
            violations.addAll(c.backend.channel.violations());
        }
        assertEquals(List.of(), violations);
    }

    private DefaultGateway gateway(Gateway.Builder builder) {
        Authenticator byHeader = h -> Verdict.allow(h.header("X-User").map(u -> {
            Principal.Builder p = Principal.builder(u);
            h.header("X-Iat").ifPresent(iat -> p.claims(Map.of("iat", Long.parseLong(iat))));
            return h.withPrincipal(p.build());
        }).orElse(h));
        Route chat = Route.builder("/chat/{room}").authenticator(byHeader).backend(Backend.of(BridgeHarness.BACKEND)).build();
        return DefaultGateway.of(builder.route(chat).settings(BridgeHarness.quiet().build()).build(), ticker);
    }

    /** A request of the principal, whose credential was issued at {@code iat} (null: it has no issue time). */
    private static Handshake request(String subject, Instant iat) {
        Handshake.Builder r = BridgeHarness.request(Ids.next(), "/chat/lobby").header("X-User", subject);
        if (iat != null) {
            r.header("X-Iat", Long.toString(iat.getEpochSecond()));
        }
        return r.build();
    }

    private Connection bridge(DefaultGateway gateway, Admission.Admitted admission) {
        Connection c = new Connection(gateway.newBridge(admission));
        connections.add(c);
        return c;
    }

    /** An open connection of the principal. */
    private Connection open(DefaultGateway gateway, String subject, Instant iat) {
        Connection c = bridge(gateway, Admissions.admitted(gateway.admit(request(subject, iat))));
        assertTrue(c.connectBackend(null));
        c.connectClient();
        assertTrue(c.bridge.isOpen());
        return c;
    }

    // ---- a revocation heard through the cluster's map ----

    @Test
    void aRevocationHeardFromTheClusterClosesTheConnectionsOfTheCredentialsItCoversAndNoNewLogin() {
        DefaultGateway gateway = gateway(Gateway.builder());
        Connection old = open(gateway, "alice", T0.minusSeconds(60));
        Connection noIssueTime = open(gateway, "alice", null);
        Connection bob = open(gateway, "bob", T0.minusSeconds(60));
        ticker.advanceMillis(1_500);
        Cluster.Revocation revocation = new Cluster.Revocation("alice", ticker.now(), ticker.now().plus(Duration.ofHours(1)));
        Connection sameSecond = open(gateway, "alice", T0.plusSeconds(1)); // the revocation's second: a new login
        Connection later = open(gateway, "alice", T0.plusSeconds(2));
        ClusterConnections.Requests requests = new ClusterConnections.Requests(gateway.registry(), null);

        requests.revoked(revocation);

        old.client.channel.assertClosedOnceWith(REVOKED);
        noIssueTime.client.channel.assertClosedOnceWith(REVOKED);
        assertEquals(List.of(CloseStatus.GOING_AWAY.code()), codes(old.backend));
        assertEquals(List.of(CloseStatus.GOING_AWAY.code()), codes(noIssueTime.backend));
        for (Connection c : List.of(bob, sameSecond, later)) {
            assertEquals(List.of(), c.client.channel.closes());
            assertTrue(c.bridge.isOpen());
        }
        assertTrue(gateway.registry().revocations().refuses(Principal.of("alice"), ticker.now()), "remembered too");

        ticker.advance(Duration.ofMinutes(10));
        requests.revoked(revocation); // delivered again

        old.client.channel.assertClosedOnceWith(REVOKED);
        for (Connection c : List.of(bob, sameSecond, later)) {
            assertEquals(List.of(), c.client.channel.closes(), "a re-delivery closes no new login");
            assertTrue(c.bridge.isOpen());
        }
        for (Connection c : List.of(old, noIssueTime)) {
            c.bothAnswerTheirClose();
            c.awaitClosed();
        }
        assertEquals(3, gateway.connections().count());
    }

    @Test
    void aRevokeBroadcastStillClosesEveryConnectionOfThePrincipalAndCountsThem() throws IOException {
        DefaultGateway gateway = gateway(Gateway.builder());
        Connection old = open(gateway, "alice", T0.minusSeconds(60));
        Connection fresh = open(gateway, "alice", T0.plusSeconds(5));
        ticker.advanceMillis(1_500);
        ClusterConnections.Requests requests = new ClusterConnections.Requests(gateway.registry(), null);
        Cluster.Revocation revocation = new Cluster.Revocation("alice", ticker.now(), ticker.now().plus(Duration.ofHours(1)));

        byte[] answer = requests.handle(revokeRequest(revocation)).toCompletableFuture().join();

        assertEquals(2, ClusterCodec.readAnswer(answer).readLong(), "the broadcast's count");
        old.client.channel.assertClosedOnceWith(REVOKED);
        fresh.client.channel.assertClosedOnceWith(REVOKED);
    }

    @Test
    void aRevokeBroadcastCountsTheConnectionsItsRevocationClosedWhenHeardFromTheMapFirst() throws IOException {
        DefaultGateway gateway = gateway(Gateway.builder());
        Connection old = open(gateway, "alice", T0.minusSeconds(60));
        Connection fresh = open(gateway, "alice", T0.plusSeconds(5));
        ticker.advanceMillis(1_500);
        ClusterConnections.Requests requests = new ClusterConnections.Requests(gateway.registry(), null);
        Cluster.Revocation revocation = new Cluster.Revocation("alice", ticker.now(), ticker.now().plus(Duration.ofHours(1)));

        requests.revoked(revocation); // the map's event came before the broadcast
        old.client.channel.assertClosedOnceWith(REVOKED);
        old.bothAnswerTheirClose();
        old.awaitClosed();
        byte[] answer = requests.handle(revokeRequest(revocation)).toCompletableFuture().join();

        assertEquals(2, ClusterCodec.readAnswer(answer).readLong(), "the one its map event closed, and the new login");
        fresh.client.channel.assertClosedOnceWith(REVOKED);
        old.client.channel.assertClosedOnceWith(REVOKED);
        answer = requests.handle(revokeRequest(revocation)).toCompletableFuture().join();
        assertEquals(0, ClusterCodec.readAnswer(answer).readLong(), "counted once");
    }

    @Test
    void aRevocationHeardFromTheMapAfterItsBroadcastClosesNothingMore() throws IOException {
        DefaultGateway gateway = gateway(Gateway.builder());
        Connection old = open(gateway, "alice", T0.minusSeconds(60));
        ticker.advanceMillis(1_500);
        ClusterConnections.Requests requests = new ClusterConnections.Requests(gateway.registry(), null);
        Cluster.Revocation revocation = new Cluster.Revocation("alice", ticker.now(), ticker.now().plus(Duration.ofHours(1)));

        byte[] answer = requests.handle(revokeRequest(revocation)).toCompletableFuture().join();
        requests.revoked(revocation);

        assertEquals(1, ClusterCodec.readAnswer(answer).readLong());
        old.client.channel.assertClosedOnceWith(REVOKED);
        assertEquals(0, gateway.registry().closeRevoked(revocation));
    }

    private static byte[] revokeRequest(Cluster.Revocation r) {
        return ClusterCodec.request(ClusterCodec.Op.REVOKE).string(r.subject()).number(r.revokedAt().toEpochMilli())
                .number(r.until().toEpochMilli()).bytes();
    }

    // ---- a revocation between the pipeline's check and the bridge's registration ----

    @Test
    void aBridgeRegisteredAfterItsPrincipalsRevocationIsClosedAsRevokedAndGivesItsSlotsBackOnce() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(1));
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request("alice", T0.minusSeconds(60))));
        assertEquals(0, BridgeHarness.await(gateway.connections().revoke("alice").toCompletableFuture(), "revoke"),
                "no bridge registered yet to close");

        Connection c = bridge(gateway, admission);

        assertFalse(c.bridge.isOpen());
        assertFalse(c.connectBackend(null), "the adapter must not upgrade the client, and refuses it");
        assertEquals(List.of(CloseStatus.GOING_AWAY.code()), codes(c.backend));
        assertEquals(REVOKED, c.bridge.clientCloseStatus(), "a client leg that opened would get 1008 revoked");
        c.bridge.abandon("closed before the client upgrade"); // what the adapter does then
        c.backend.echoClose();
        c.awaitClosed();
        assertEquals(List.of(), c.client.channel.closes(), "the client's leg never opened");
        assertEquals(0, gateway.connectionLimits().keys(), "its slot was given back");

        open(gateway, "bob", T0.minusSeconds(60));
        assertEquals(1, gateway.connectionLimits().count("global"), "given back once: bob holds the only slot");
        assertEquals(503, gateway.admit(request("carol", T0)).rejection().orElseThrow().status());
    }

    @Test
    void aBridgeRevokedBeforeItsDialEndsGivesItsSlotsBackWhenTheDialFails() {
        DefaultGateway gateway = gateway(Gateway.builder().maxConnections(1));
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request("alice", null)));
        gateway.connections().revoke("alice");

        Connection c = bridge(gateway, admission);
        c.bridge.abandon("backend dial failed");

        assertTrue(c.bridge.closed().isDone());
        assertEquals(0, gateway.connectionLimits().keys());
        open(gateway, "bob", null);
        assertEquals(1, gateway.connectionLimits().count("global"));
    }

    @Test
    void aNewLoginRegisteredAfterTheRevocationOpens() {
        DefaultGateway gateway = gateway(Gateway.builder());
        ticker.advanceMillis(1_500);
        gateway.connections().revoke("alice");
        Admission.Admitted admission = Admissions.admitted(gateway.admit(request("alice", T0.plusSeconds(1))));

        Connection c = bridge(gateway, admission);

        assertTrue(c.connectBackend(null));
        c.connectClient();
        assertTrue(c.bridge.isOpen());
    }

    private static List<Integer> codes(BridgeHarness.Leg leg) {
        return leg.channel.closes().stream().map(CloseStatus::code).toList();
    }
}
