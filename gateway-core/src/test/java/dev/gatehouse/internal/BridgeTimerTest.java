package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.Authenticator;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Principal;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.BridgeHarness.Connection;

/**
 * Idle timeout, keepalive and credential expiry, on the harness's manual clock: each test moves the time
 * to just before and just at a deadline and asserts on what the engine did by then. Nothing waits for
 * wall time.
 */
class BridgeTimerTest {

    private static final CloseStatus IDLE = CloseStatus.of(1001, "idle timeout");
    private static final CloseStatus KEEPALIVE = CloseStatus.of(1001, "keepalive timeout");
    private static final CloseStatus EXPIRED = CloseStatus.of(1008, "credential expired");

    private BridgeHarness harness;

    @AfterEach
    void engineKeptTheChannelContract() {
        harness.assertNoViolations();
    }

    private Connection connect(Settings settings) {
        return connect(settings, Authenticator.none());
    }

    private Connection connect(Settings settings, Authenticator authenticator) {
        harness = BridgeHarness.create(settings, authenticator);
        return harness.connect();
    }

    private void advanceMillis(long millis) {
        harness.ticker().advanceMillis(millis);
    }

    @Test
    void idleConnectionIsClosedWith1001IdleTimeoutOnBothLegs() {
        Connection c = connect(BridgeHarness.quiet().idleTimeout(Duration.ofMillis(100)).build());

        advanceMillis(99);
        assertTrue(c.client.channel.closes().isEmpty(), "closed before the idle timeout");
        advanceMillis(1);

        assertEquals(List.of(IDLE), c.client.channel.closes());
        assertEquals(List.of(IDLE), c.backend.channel.closes());
        c.bothAnswerTheirClose();
        assertTrue(c.bridge.closed().isDone());
        assertEquals(1, c.client.channel.closes().size());
        assertEquals(1, c.backend.channel.closes().size());
    }

    @Test
    void aDataFrameRestartsTheIdleTimeout() {
        Connection c = connect(BridgeHarness.quiet().idleTimeout(Duration.ofMillis(100)).build());

        advanceMillis(60);
        c.client.sendText("still here");
        c.backend.channel.nextSent().succeed();
        advanceMillis(99);
        assertTrue(c.client.channel.closes().isEmpty(), "the frame did not count as activity");
        advanceMillis(1);

        assertEquals(List.of(IDLE), c.client.channel.closes());
    }

    @Test
    void answeredKeepalivePingsDoNotKeepAnIdleConnectionOpen() {
        Connection c = connect(BridgeHarness.quiet()
                .idleTimeout(Duration.ofMillis(300))
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofSeconds(30))
                .build());
        c.client.channel.answerPingsWith(c.client.handler);
        c.backend.channel.answerPingsWith(c.backend.handler);

        advanceMillis(299);
        assertEquals(5, c.client.channel.pings().size(), "pings every 50 ms, each answered");
        assertTrue(c.client.channel.closes().isEmpty());
        advanceMillis(1);

        assertEquals(List.of(IDLE), c.client.channel.closes());
        assertEquals(List.of(IDLE), c.backend.channel.closes());
    }

    @Test
    void keepalivePingsReachBothLegs() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofSeconds(30))
                .build());

        advanceMillis(49);
        assertTrue(c.client.channel.pings().isEmpty(), "pinged before the interval");
        advanceMillis(1);

        assertEquals(1, c.client.channel.pings().size());
        assertEquals(1, c.backend.channel.pings().size());
        assertTrue(c.client.channel.pings().get(0).length <= 125);
        assertTrue(c.backend.channel.pings().get(0).length <= 125);
        assertTrue(c.client.channel.closes().isEmpty());
    }

    @Test
    void matchingPongClearsThePingSoTheNextOneIsSent() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofSeconds(30))
                .build());
        advanceMillis(50);
        byte[] toClient = c.client.channel.pings().get(0);
        byte[] toBackend = c.backend.channel.pings().get(0);

        // A next ping goes out only once the previous one was answered.
        advanceMillis(100);
        assertEquals(1, c.client.channel.pings().size());
        assertEquals(1, c.backend.channel.pings().size());
        c.client.sendPong(toClient);
        c.backend.sendPong(toBackend);
        advanceMillis(0);

        assertEquals(2, c.client.channel.pings().size());
        assertEquals(2, c.backend.channel.pings().size());
        assertTrue(c.client.channel.closes().isEmpty());
        assertTrue(c.backend.channel.closes().isEmpty());
    }

    @Test
    void missingPongClosesBothLegsWith1001KeepaliveTimeout() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(100))
                .build());

        advanceMillis(50);
        assertEquals(1, c.client.channel.pings().size());
        advanceMillis(99);
        assertTrue(c.client.channel.closes().isEmpty(), "closed before the pong deadline");
        advanceMillis(1);

        assertEquals(List.of(KEEPALIVE), c.client.channel.closes());
        assertEquals(List.of(KEEPALIVE), c.backend.channel.closes());
    }

    @Test
    void oneSilentLegClosesBothWithKeepaliveTimeout() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(200))
                .build());
        c.backend.channel.answerPingsWith(c.backend.handler);

        advanceMillis(249);
        assertTrue(c.client.channel.closes().isEmpty());
        advanceMillis(1);

        assertEquals(List.of(KEEPALIVE), c.client.channel.closes());
        assertEquals(List.of(KEEPALIVE), c.backend.channel.closes());
    }

    @Test
    void pongWithAnotherPayloadDoesNotAnswerTheKeepalivePing() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(200))
                .build());
        c.backend.channel.answerPingsWith(c.backend.handler);
        advanceMillis(50);

        byte[] wrong = c.client.channel.pings().get(0).clone();
        wrong[wrong.length - 1] ^= 1;
        c.client.sendPong(wrong);
        advanceMillis(200);

        assertEquals(List.of(KEEPALIVE), c.client.channel.closes());
    }

    @Test
    void keepaliveStopsOnceTheBridgeIsClosed() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofSeconds(30))
                .build());

        c.client.sendClose(CloseStatus.NORMAL);
        c.backend.echoClose();
        assertTrue(c.bridge.closed().isDone());
        advanceMillis(1_000);

        assertFalse(c.bridge.isOpen());
        assertTrue(c.client.channel.closes().size() <= 1);
        assertTrue(c.client.channel.pings().isEmpty());
        assertEquals(0, harness.ticker().pending(), "a timer outlived the bridge");
    }

    @Test
    void expiredCredentialClosesTheClientWith1008AndTheBackendWith1001AfterTheGrace() {
        Connection c = connect(BridgeHarness.quiet().credentialGrace(Duration.ofSeconds(5)).build(),
                expiringAt(ManualTicker.EPOCH.plusSeconds(10)));

        advanceMillis(14_999);
        assertTrue(c.client.channel.closes().isEmpty(), "closed before the credential and its grace expired");
        advanceMillis(1);

        assertEquals(List.of(EXPIRED), c.client.channel.closes());
        assertEquals(List.of(CloseStatus.GOING_AWAY), c.backend.channel.closes());
    }

    @Test
    void credentialExpiredBeforeTheRelayStartsClosesItAtOnce() {
        Connection c = connect(BridgeHarness.quiet().credentialGrace(Duration.ZERO).build(),
                expiringAt(ManualTicker.EPOCH.minusSeconds(60)));

        advanceMillis(0);

        assertEquals(List.of(EXPIRED), c.client.channel.closes());
    }

    /** Admits every request with a principal whose credential expires at {@code at}. */
    private static Authenticator expiringAt(Instant at) {
        return h -> Verdict.allow(h.withPrincipal(Principal.builder("alice").expiresAt(at).build()));
    }
}
