package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Settings;
import dev.gatehouse.internal.Bridge.State;
import dev.gatehouse.internal.Deadlines.Due;

/** The timer arithmetic of a bridge, on times the test makes up. */
class DeadlinesTest {

    private static final long T = 5_000_000_000L;
    private static final Instant AT = Instant.parse("2030-01-01T00:00:00Z");
    private static final long MS = 1_000_000L;

    private static Settings.Builder quiet() {
        return Settings.builder().idleTimeout(Duration.ZERO).pingInterval(Duration.ZERO);
    }

    private static Deadlines openAt(Settings settings, long now) {
        Deadlines d = new Deadlines(settings);
        d.opened(now, AT, Optional.empty());
        return d;
    }

    @Test
    void theClientLegMustOpenWithinTwiceTheConnectAndCloseTimeouts() {
        Deadlines d = new Deadlines(quiet().connectTimeout(Duration.ofSeconds(10)).closeTimeout(Duration.ofSeconds(5))
                .build());

        d.arm(T);

        assertEquals(T + 30_000 * MS, d.next(State.CONNECTING));
        assertEquals(Due.NOTHING, d.due(State.CONNECTING, T + 30_000 * MS - 1, false, false));
        assertEquals(Due.CONNECT_TIMEOUT, d.due(State.CONNECTING, T + 30_000 * MS, false, false));
    }

    @Test
    void eachCloseRestartsTheCloseTimeout() {
        Deadlines d = new Deadlines(quiet().closeTimeout(Duration.ofMillis(100)).build());

        d.closing(T);
        d.closing(T + 60 * MS);

        assertEquals(T + 160 * MS, d.next(State.CLOSING));
        assertEquals(Due.NOTHING, d.due(State.CLOSING, T + 159 * MS, false, false));
        assertEquals(Due.CLOSE_TIMEOUT, d.due(State.CLOSING, T + 160 * MS, false, false));
    }

    @Test
    void anOpenConnectionWithoutIdleTimeoutKeepaliveOrExpiryHasNoDeadline() {
        Deadlines d = openAt(quiet().build(), T);

        assertEquals(Long.MAX_VALUE, d.next(State.OPEN));
        assertEquals(Due.NOTHING, d.due(State.OPEN, T + 3_600_000 * MS, false, false));
    }

    @Test
    void aClosedBridgeHasNoDeadline() {
        Deadlines d = openAt(quiet().idleTimeout(Duration.ofMillis(100)).build(), T);

        assertEquals(Long.MAX_VALUE, d.next(State.CLOSED));
        assertEquals(Due.NOTHING, d.due(State.CLOSED, T + 1_000 * MS, false, false));
    }

    @Test
    void activityMovesTheIdleDeadline() {
        Deadlines d = openAt(quiet().idleTimeout(Duration.ofMillis(100)).build(), T);
        assertEquals(T + 100 * MS, d.next(State.OPEN));

        d.active(T + 40 * MS);

        assertEquals(T + 140 * MS, d.next(State.OPEN));
        assertEquals(Due.NOTHING, d.due(State.OPEN, T + 139 * MS, false, false));
        assertEquals(Due.IDLE_TIMEOUT, d.due(State.OPEN, T + 140 * MS, false, false));
    }

    @Test
    void aPingIsDueEachIntervalAndItsPayloadIsTheTimeItWasSent() {
        Deadlines d = openAt(quiet().pingInterval(Duration.ofMillis(50)).pongTimeout(Duration.ofMillis(20)).build(), T);
        assertEquals(T + 50 * MS, d.next(State.OPEN));
        assertFalse(d.client.pingDue(T + 49 * MS));

        assertEquals(Due.PINGS, d.due(State.OPEN, T + 50 * MS, false, false));
        assertTrue(d.client.pingDue(T + 50 * MS));

        assertEquals(T + 50 * MS, d.client.payload());
        assertFalse(d.client.pingDue(T + 200 * MS), "one ping unanswered at a time");
        assertEquals(T + 50 * MS, d.next(State.OPEN), "the backend's ping is still due");
    }

    @Test
    void anUnansweredPingMakesItsLegSilentAtThePongDeadline() {
        Deadlines d = openAt(quiet().pingInterval(Duration.ofMillis(50)).pongTimeout(Duration.ofMillis(20)).build(), T);
        d.client.pingDue(T + 50 * MS);
        d.backend.pingDue(T + 50 * MS);

        assertEquals(T + 70 * MS, d.next(State.OPEN));
        assertEquals(Due.PINGS, d.due(State.OPEN, T + 69 * MS, false, false));
        assertEquals(Due.CLIENT_SILENT, d.due(State.OPEN, T + 70 * MS, false, false));
        assertTrue(d.client.answeredBy(T + 50 * MS));
        assertEquals(Due.BACKEND_SILENT, d.due(State.OPEN, T + 70 * MS, false, false));
    }

    @Test
    void onlyAPongWithThePingsPayloadAnswersIt() {
        Deadlines d = openAt(quiet().pingInterval(Duration.ofMillis(50)).pongTimeout(Duration.ofMillis(20)).build(), T);
        assertFalse(d.client.answeredBy(T), "no ping outstanding");
        d.client.pingDue(T + 50 * MS);

        assertFalse(d.client.answeredBy(T + 50 * MS + 1));
        assertTrue(d.client.answeredBy(T + 50 * MS));
        assertFalse(d.client.answeredBy(T + 50 * MS), "answered once");
        assertTrue(d.client.pingDue(T + 100 * MS));
    }

    @Test
    void aLegThatCannotBeReadIsNotBlamedForItsMissingPong() {
        Deadlines d = openAt(quiet().pingInterval(Duration.ofMillis(50)).pongTimeout(Duration.ofMillis(20)).build(), T);
        d.client.pingDue(T + 50 * MS);
        d.backend.pingDue(T + 50 * MS);
        d.backend.answeredBy(T + 50 * MS);

        assertEquals(Due.PINGS, d.due(State.OPEN, T + 70 * MS, true, false));

        assertEquals(T + 90 * MS, d.next(State.OPEN), "its pong deadline restarted");
        assertEquals(Due.CLIENT_SILENT, d.due(State.OPEN, T + 90 * MS, false, false));
    }

    @Test
    void anExpiringCredentialEndsTheConnectionAfterTheGrace() {
        Deadlines d = new Deadlines(quiet().credentialGrace(Duration.ofSeconds(5)).build());
        d.opened(T, AT, Optional.of(AT.plusSeconds(10)));

        assertEquals(T + 15_000 * MS, d.next(State.OPEN));
        assertEquals(Due.NOTHING, d.due(State.OPEN, T + 15_000 * MS - 1, false, false));
        assertEquals(Due.CREDENTIAL_EXPIRED, d.due(State.OPEN, T + 15_000 * MS, false, false));
    }

    @Test
    void aCredentialAlreadyExpiredEndsTheConnectionAtOnce() {
        Deadlines d = new Deadlines(quiet().credentialGrace(Duration.ofSeconds(5)).build());

        d.opened(T, AT, Optional.of(AT.minusSeconds(60)));

        assertEquals(T, d.next(State.OPEN));
        assertEquals(Due.CREDENTIAL_EXPIRED, d.due(State.OPEN, T, false, false));
    }

    @Test
    void expiryFiresBeforeIdleAndIdleBeforeKeepalive() {
        Deadlines d = new Deadlines(quiet().idleTimeout(Duration.ofMillis(100)).pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(20)).credentialGrace(Duration.ZERO).build());
        d.opened(T, AT, Optional.of(AT.plusMillis(100)));
        d.client.pingDue(T + 50 * MS);

        assertEquals(Due.CREDENTIAL_EXPIRED, d.due(State.OPEN, T + 100 * MS, false, false));

        Deadlines noExpiry = new Deadlines(quiet().idleTimeout(Duration.ofMillis(100)).pingInterval(Duration.ofMillis(50))
                .pongTimeout(Duration.ofMillis(20)).build());
        noExpiry.opened(T, AT, Optional.empty());
        noExpiry.client.pingDue(T + 50 * MS);
        assertEquals(Due.IDLE_TIMEOUT, noExpiry.due(State.OPEN, T + 100 * MS, false, false));
    }

    @Test
    void withoutJitterTheLifetimeEndsTheConnectionExactlyAtTheMaximum() {
        Deadlines d = new Deadlines(quiet().maxLifetime(Duration.ofSeconds(100)).maxLifetimeJitter(0).build(),
                Duration.ofSeconds(10), 0.99);
        d.opened(T, AT, Optional.empty());

        assertEquals(T + 100_000 * MS, d.next(State.OPEN));
        assertEquals(Due.NOTHING, d.due(State.OPEN, T + 100_000 * MS - 1, false, false));
        assertEquals(Due.LIFETIME_REACHED, d.due(State.OPEN, T + 100_000 * MS, false, false));
    }

    @Test
    void theDrawPlacesTheLifetimeWithinTheJitterBelowTheMaximum() {
        Settings s = quiet().maxLifetime(Duration.ofSeconds(100)).maxLifetimeJitter(0.1).build();

        assertEquals(100_000 * MS, Deadlines.lifetime(s, 0));
        assertEquals(95_000 * MS, Deadlines.lifetime(s, 0.5));
        long shortest = Deadlines.lifetime(s, Math.nextDown(1.0));
        assertTrue(shortest > 90_000 * MS && shortest < 90_001 * MS, "shortest lifetime " + shortest);
        assertEquals(0, Deadlines.lifetime(quiet().build(), 0.5), "no maximum, no lifetime");
    }

    @Test
    void aConnectionWithoutMaxLifetimeHasNoLifetimeDeadline() {
        Deadlines d = new Deadlines(quiet().build(), Duration.ofSeconds(10), 0.5);
        d.opened(T, AT, Optional.empty());

        assertEquals(Long.MAX_VALUE, d.next(State.OPEN));
        assertEquals(Due.NOTHING, d.due(State.OPEN, T + 1_000_000_000 * MS, false, false));
    }

    @Test
    void expiryFiresBeforeTheLifetimeAndTheLifetimeBeforeIdle() {
        Settings s = quiet().maxLifetime(Duration.ofMillis(100)).maxLifetimeJitter(0)
                .idleTimeout(Duration.ofMillis(100)).build();
        Deadlines expiring = new Deadlines(s, Duration.ofSeconds(10), 0);
        expiring.opened(T, AT, Optional.of(AT.plusMillis(100)));
        Deadlines d = new Deadlines(s, Duration.ofSeconds(10), 0);
        d.opened(T, AT, Optional.empty());

        assertEquals(Due.CREDENTIAL_EXPIRED, expiring.due(State.OPEN, T + 100 * MS, false, false));
        assertEquals(Due.LIFETIME_REACHED, d.due(State.OPEN, T + 100 * MS, false, false));
    }

    @Test
    void deadlinesAreComparedByDifferenceSoThatTheClockMayWrap() {
        long nearWrap = Long.MAX_VALUE - 10 * MS;
        Deadlines d = new Deadlines(quiet().closeTimeout(Duration.ofMillis(100)).build());

        d.closing(nearWrap);

        assertEquals(Due.NOTHING, d.due(State.CLOSING, nearWrap + 99 * MS, false, false));
        assertEquals(Due.CLOSE_TIMEOUT, d.due(State.CLOSING, nearWrap + 100 * MS, false, false));
    }
}
