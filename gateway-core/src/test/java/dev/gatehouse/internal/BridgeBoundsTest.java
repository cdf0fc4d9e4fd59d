package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.internal.BridgeHarness.Connection;

/** Bounds on what a peer can make the relay hold, and closes that must complete cleanly. */
class BridgeBoundsTest {

    private BridgeHarness harness = BridgeHarness.create();

    @AfterEach
    void noViolations() {
        harness.assertNoViolations();
    }

    @Test
    void aPingIsAnsweredBeforeTheNextFrameIsRead() {
        Connection c = harness.connect();
        c.client.channel.holdPongs();

        c.client.sendPing(new byte[] {1});

        assertEquals(0, c.client.channel.unusedDemand(), "no frame is read while the pong waits to be written");
        c.client.channel.completeHeldPongs();
        assertEquals(1, c.client.channel.unusedDemand());
    }

    @Test
    void aSendRefusedAfterTheGatewaysCloseDoesNotDropTheLeg() {
        Connection c = harness.connect();
        c.client.sendText("in flight");
        FakeChannel.Sent pending = c.backend.channel.nextSent();

        c.bridge.close(CloseStatus.of(4000, "kick"), CloseStatus.GOING_AWAY, "test");
        pending.failWith(new IOException("closed by our CLOSE"));
        c.bothAnswerTheirClose();

        assertEquals(0, c.backend.channel.aborts(), "the backend gets its close handshake, not a dropped connection");
        c.awaitClosed();
    }

    @Test
    void keepaliveDoesNotBlameALegWhoseFrameWaitsBehindASlowPeer() {
        harness = BridgeHarness.create(BridgeHarness.quiet().pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(50)).build());
        Connection c = harness.connect();
        c.backend.channel.answerPingsWith(c.bridge.backendHandler());
        c.client.sendText("stuck");
        FakeChannel.Sent pending = c.backend.channel.nextSent(); // the backend does not take it yet

        // The client cannot be read while its frame waits, so it cannot answer pings; the backend does.
        harness.advance(Duration.ofMillis(300));
        assertEquals(6, c.backend.channel.pings().size());
        assertTrue(c.client.channel.closes().isEmpty(), "the client was not blamed for the backend's slowness");

        pending.succeed();
        c.client.sendPong(c.client.channel.pings().get(c.client.channel.pings().size() - 1));
        assertTrue(c.client.channel.closes().isEmpty());
    }

    @Test
    void aBridgeWhoseClientLegNeverOpensIsDroppedAndLeavesTheRegistry() {
        harness = BridgeHarness.create(BridgeHarness.quiet().connectTimeout(Duration.ofMillis(50))
                .closeTimeout(Duration.ofMillis(50)).build());
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        c.connectBackend(null);

        // The deadline is twice the connect timeout plus the close timeout.
        harness.advance(Duration.ofMillis(199));
        assertFalse(c.bridge.closed().isDone(), "dropped before the connect deadline");
        harness.advance(Duration.ofMillis(1));

        assertEquals(1, c.backend.channel.aborts());
        assertTrue(c.bridge.closed().isDone());
        assertEquals(List.of(), harness.gateway().registry().all());
    }
}
