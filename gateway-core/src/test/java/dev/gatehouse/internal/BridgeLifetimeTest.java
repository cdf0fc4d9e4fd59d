package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Settings;
import dev.gatehouse.internal.BridgeHarness.Connection;

/**
 * The maximum lifetime, on the harness's manual clock: a connection is closed at its drawn lifetime, never
 * before {@code maxLifetime × (1 − jitter)} nor after {@code maxLifetime}, and connections opened together
 * are closed spread over that window. Nothing waits for wall time.
 */
class BridgeLifetimeTest {

    private static final CloseStatus LIFETIME = CloseStatus.of(1001, "max lifetime");

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
    void withoutJitterTheConnectionIsClosedAtItsMaxLifetimeWith1001OnBothLegs() {
        Connection c = connect(BridgeHarness.quiet().maxLifetime(Duration.ofSeconds(100)).maxLifetimeJitter(0).build());

        harness.advance(Duration.ofSeconds(100).minusNanos(1));
        assertTrue(c.client.channel.closes().isEmpty(), "closed before its lifetime");
        harness.advance(Duration.ofNanos(1));

        assertEquals(List.of(LIFETIME), c.client.channel.closes());
        assertEquals(List.of(LIFETIME), c.backend.channel.closes());
        c.bothAnswerTheirClose();
        assertTrue(c.bridge.closed().isDone());
    }

    @Test
    void theClientGetsTheConfiguredLifetimeStatusAndTheBackendStill1001() {
        CloseStatus restart = CloseStatus.of(1012, "max lifetime");
        Connection c = connect(BridgeHarness.quiet().maxLifetime(Duration.ofSeconds(10)).maxLifetimeJitter(0)
                .lifetimeStatus(restart).build());

        harness.advance(Duration.ofSeconds(10));

        assertEquals(List.of(restart), c.client.channel.closes());
        assertEquals(List.of(LIFETIME), c.backend.channel.closes());
    }

    @Test
    void trafficDoesNotExtendTheLifetime() {
        Connection c = connect(BridgeHarness.quiet().maxLifetime(Duration.ofSeconds(10)).maxLifetimeJitter(0).build());

        for (int i = 0; i < 9; i++) {
            harness.advance(Duration.ofSeconds(1));
            c.client.sendText("still here " + i);
            c.backend.channel.nextSent().succeed();
        }
        harness.advance(Duration.ofSeconds(1));

        assertEquals(List.of(LIFETIME), c.client.channel.closes());
    }

    @Test
    void theLifetimeCountsFromTheStartOfTheRelayNotFromTheAdmission() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxLifetime(Duration.ofSeconds(10)).maxLifetimeJitter(0)
                .build());
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        c.connectBackend(null);
        harness.advance(Duration.ofSeconds(3));
        c.connectClient();

        harness.advance(Duration.ofSeconds(10).minusNanos(1));
        assertTrue(c.client.channel.closes().isEmpty(), "closed before its lifetime");
        harness.advance(Duration.ofNanos(1));
        assertEquals(List.of(LIFETIME), c.client.channel.closes());
    }

    @Test
    void connectionsOpenedTogetherCloseSpreadOverTheJitterWindow() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxLifetime(Duration.ofSeconds(100)).maxLifetimeJitter(0.1)
                .build());
        List<Connection> all = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            all.add(harness.connect());
        }

        harness.advance(Duration.ofSeconds(90));
        assertEquals(0, closed(all).size(), "closed before maxLifetime × (1 − jitter)");
        TreeMap<Integer, Integer> closesPerSecond = new TreeMap<>();
        int before = 0;
        for (int second = 91; second <= 100; second++) {
            harness.advance(Duration.ofSeconds(1));
            int now = closed(all).size();
            closesPerSecond.put(second, now - before);
            before = now;
        }

        assertEquals(1_000, before, "all closed by maxLifetime");
        for (Connection c : closed(all)) {
            assertEquals(List.of(LIFETIME), c.client.channel.closes());
            assertEquals(List.of(LIFETIME), c.backend.channel.closes());
        }
        // Uniform draws put about 100 in each second; all in one second would be a broken draw, not bad luck.
        assertTrue(closesPerSecond.values().stream().allMatch(n -> n < 1_000), "closes per second: " + closesPerSecond);
        assertTrue(closesPerSecond.values().stream().filter(n -> n > 0).count() >= 5, "closes per second: " + closesPerSecond);
    }

    private static List<Connection> closed(List<Connection> all) {
        return all.stream().filter(c -> !c.client.channel.closes().isEmpty()).toList();
    }
}
