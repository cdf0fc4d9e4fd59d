package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Settings;
import dev.gatehouse.internal.BridgeHarness.Connection;

/**
 * Idle timeout and keepalive. Timers run for real with short settings; tests wait (at most 5 s) for what
 * the engine does, never for a time, and assert on outcomes only.
 */
class BridgeTimerTest {

    private static final CloseStatus IDLE = CloseStatus.of(1001, "idle timeout");
    private static final CloseStatus KEEPALIVE = CloseStatus.of(1001, "keepalive timeout");

    private BridgeHarness harness;

    @AfterEach
    void engineKeptTheChannelContract() {
        harness.assertNoViolations();
    }

    private Connection connect(Settings settings) {
        harness = BridgeHarness.create(settings);
        return harness.connect();
    }

    @Test
    void idleConnectionIsClosedWith1001IdleTimeoutOnBothLegs() {
        Connection c = connect(BridgeHarness.quiet().idleTimeout(Duration.ofMillis(100)).build());

        assertEquals(IDLE, c.client.channel.awaitClose());
        assertEquals(IDLE, c.backend.channel.awaitClose());

        c.bothAnswerTheirClose();
        c.awaitClosed();
        assertEquals(1, c.client.channel.closes().size());
        assertEquals(1, c.backend.channel.closes().size());
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

        assertEquals(IDLE, c.client.channel.awaitClose());
        assertEquals(IDLE, c.backend.channel.awaitClose());
    }

    @Test
    void keepalivePingsReachBothLegs() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofSeconds(30))
                .build());

        byte[] toClient = c.client.channel.awaitPing();
        byte[] toBackend = c.backend.channel.awaitPing();

        assertTrue(toClient.length <= 125);
        assertTrue(toBackend.length <= 125);
        assertTrue(c.client.channel.closes().isEmpty());
    }

    @Test
    void matchingPongClearsThePingSoTheNextOneIsSent() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofSeconds(30))
                .build());

        c.client.sendPong(c.client.channel.awaitPing());
        c.backend.sendPong(c.backend.channel.awaitPing());

        // A next ping goes out only once the previous one was answered.
        c.client.channel.awaitPing();
        c.backend.channel.awaitPing();
        assertTrue(c.client.channel.closes().isEmpty());
        assertTrue(c.backend.channel.closes().isEmpty());
    }

    @Test
    void missingPongClosesBothLegsWith1001KeepaliveTimeout() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(100))
                .build());

        c.client.channel.awaitPing();

        assertEquals(KEEPALIVE, c.client.channel.awaitClose());
        assertEquals(KEEPALIVE, c.backend.channel.awaitClose());
    }

    @Test
    void oneSilentLegClosesBothWithKeepaliveTimeout() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(200))
                .build());
        c.backend.channel.answerPingsWith(c.backend.handler);

        assertEquals(KEEPALIVE, c.client.channel.awaitClose());
        assertEquals(KEEPALIVE, c.backend.channel.awaitClose());
    }

    @Test
    void pongWithAnotherPayloadDoesNotAnswerTheKeepalivePing() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(200))
                .build());
        c.backend.channel.answerPingsWith(c.backend.handler);

        byte[] ping = c.client.channel.awaitPing();
        byte[] wrong = ping.clone();
        wrong[wrong.length - 1] ^= 1;
        c.client.sendPong(wrong);

        assertEquals(KEEPALIVE, c.client.channel.awaitClose());
    }

    @Test
    void keepaliveStopsOnceTheBridgeIsClosed() {
        Connection c = connect(BridgeHarness.quiet()
                .pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofSeconds(30))
                .build());

        c.client.sendClose(CloseStatus.NORMAL);
        c.backend.echoClose();
        c.awaitClosed();

        assertFalse(c.bridge.isOpen());
        assertTrue(c.client.channel.closes().size() <= 1);
    }
}
