package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.BridgeHarness.Connection;

/** Graceful drain: open connections closed with the drain status, new upgrades refused with 503. */
class DefaultGatewayDrainTest {

    private BridgeHarness harness = BridgeHarness.create();

    @AfterEach
    void engineKeptTheChannelContract() {
        harness.assertNoViolations();
    }

    @Test
    void drainClosesClientWith1012ServiceRestartAndBackendWith1001() {
        Connection c = harness.connect();

        harness.gateway().drain(Duration.ZERO);

        c.client.channel.assertClosedOnceWith(CloseStatus.of(1012, "service restart"));
        assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
    }

    @Test
    void drainCompletesOnceBothLegsOfEveryConnectionHaveClosed() {
        Connection a = harness.connect();
        Connection b = harness.connect();

        CompletableFuture<Void> drained = harness.gateway().drain(Duration.ZERO);

        a.bothAnswerTheirClose();
        b.client.echoClose();
        assertFalse(drained.isDone(), "one backend leg is still open");
        b.backend.echoClose();

        BridgeHarness.await(drained, "the drain");
        assertEquals(0, harness.gateway().registry().all().size());
    }

    @Test
    void drainWithNoConnectionsCompletesAtOnce() {
        assertTrue(harness.gateway().drain(Duration.ZERO).isDone());
        assertTrue(harness.gateway().isDraining());
    }

    @Test
    void drainStatusIsConfigurable() {
        harness = BridgeHarness.create(BridgeHarness.quiet().drainStatus(CloseStatus.of(1001, "maintenance")).build());
        Connection c = harness.connect();

        harness.gateway().drain(Duration.ZERO);

        c.client.channel.assertClosedOnceWith(CloseStatus.of(1001, "maintenance"));
    }

    @Test
    void drainSpreadOverAWindowEventuallyClosesEveryConnection() {
        Connection a = harness.connect();
        Connection b = harness.connect();
        Connection c = harness.connect();
        List<Connection> all = List.of(a, b, c);

        CompletableFuture<Void> drained = harness.gateway().drain(Duration.ofMillis(200));
        assertEquals(1, all.stream().filter(x -> !x.client.channel.closes().isEmpty()).count(), "one at once");
        harness.advance(Duration.ofMillis(66));
        assertEquals(1, all.stream().filter(x -> !x.client.channel.closes().isEmpty()).count(), "the next a third in");
        harness.advance(Duration.ofMillis(134));

        for (Connection x : all) {
            x.client.channel.assertClosedOnceWith(CloseStatus.of(1012, "service restart"));
            assertEquals(List.of(1001), x.backend.channel.closes().stream().map(CloseStatus::code).toList());
            x.bothAnswerTheirClose();
        }
        assertTrue(drained.isDone());
    }

    @Test
    void drainingTwiceReturnsTheSameFuture() {
        harness.connect();

        CompletableFuture<Void> first = harness.gateway().drain(Duration.ZERO);

        assertSame(first, harness.gateway().drain(Duration.ofSeconds(10)));
    }

    @Test
    void negativeDrainWindowIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> harness.gateway().drain(Duration.ofSeconds(-1)));
        assertTrue(e.getMessage().startsWith("window: "), e.getMessage());
        assertFalse(harness.gateway().isDraining());
    }

    @Test
    void upgradesAreRefusedWith503AndRetryAfterWhileDraining() {
        harness.gateway().drain(Duration.ZERO);

        Admission admission = harness.gateway().admit(BridgeHarness.request("late").build());

        Verdict.Reject reject = admission.rejection().orElseThrow();
        assertEquals(503, reject.status());
        assertEquals(Rejection.UNAVAILABLE, reject.kind());
        assertTrue(reject.headers().containsKey("Retry-After"), reject.headers().toString());
    }

    @Test
    void bridgeStillConnectingWhenTheDrainStartsIsClosedWhenItsLegsAttach() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());

        CompletableFuture<Void> drained = harness.gateway().drain(Duration.ZERO);

        assertFalse(c.connectBackend(null), "the adapter must not upgrade the client");
        assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
        c.bridge.abandon("closed before the client upgrade");
        c.backend.echoClose();
        BridgeHarness.await(drained, "the drain");
    }

    @Test
    void clientLegOpeningAfterTheDrainStartedIsClosedWithTheDrainStatus() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        assertTrue(c.connectBackend(null));
        harness.gateway().drain(Duration.ZERO);

        c.connectClient();

        c.client.channel.assertClosedOnceWith(CloseStatus.of(1012, "service restart"));
    }
}
