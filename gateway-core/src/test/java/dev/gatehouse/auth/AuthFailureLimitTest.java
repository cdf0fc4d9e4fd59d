package dev.gatehouse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Gateway;

/** The value that configures the brake on failed authentications; its enforcement is in {@code AuthFailuresTest}. */
class AuthFailureLimitTest {

    @Test
    void defaultsTo60FailuresAMinuteWithAOneMinuteCoolDown() {
        AuthFailureLimit limit = AuthFailureLimit.defaults();

        assertTrue(limit.isEnabled());
        assertEquals(60, limit.failures());
        assertEquals(Duration.ofMinutes(1), limit.per());
        assertEquals(Duration.ofMinutes(1), limit.coolDown());
        assertEquals(InstantSource.system(), limit.clock());
        assertEquals(AuthFailureLimit.of(60, Duration.ofMinutes(1)), limit);
        assertEquals("AuthFailureLimit[60 per PT1M, cool-down PT1M]", limit.toString());
    }

    @Test
    void noneIsOff() {
        AuthFailureLimit none = AuthFailureLimit.none();

        assertFalse(none.isEnabled());
        assertEquals(0, none.failures());
        assertEquals(Duration.ZERO, none.per());
        assertEquals(Duration.ZERO, none.coolDown());
        assertEquals("AuthFailureLimit[none]", none.toString());
        assertNotEquals(AuthFailureLimit.defaults(), none);
    }

    @Test
    void coolDownIsThePeriodUnlessSet() {
        assertEquals(Duration.ofHours(1), AuthFailureLimit.of(5, Duration.ofHours(1)).coolDown());

        AuthFailureLimit limit = AuthFailureLimit.builder(5, Duration.ofMinutes(1)).coolDown(Duration.ofMinutes(15)).build();

        assertEquals(Duration.ofMinutes(15), limit.coolDown());
        assertEquals(Duration.ofMinutes(1), limit.per());
        assertEquals("AuthFailureLimit[5 per PT1M, cool-down PT15M]", limit.toString());
    }

    @Test
    void equalLimitsHaveEqualHashCodesAndTheClockTakesPart() {
        InstantSource frozen = InstantSource.fixed(Instant.parse("2030-01-01T00:00:00Z"));
        AuthFailureLimit a = AuthFailureLimit.builder(3, Duration.ofSeconds(30)).clock(frozen).build();
        AuthFailureLimit b = AuthFailureLimit.builder(3, Duration.ofSeconds(30)).clock(frozen).build();

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(frozen, a.clock());
        assertNotEquals(AuthFailureLimit.of(3, Duration.ofSeconds(30)), a);
    }

    @Test
    void rejectsBadValuesNamingTheSetting() {
        assertEquals("failures: 0 (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> AuthFailureLimit.of(0, Duration.ofMinutes(1))).getMessage());
        assertEquals("failures: -3 (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> AuthFailureLimit.builder(-3, Duration.ofMinutes(1))).getMessage());
        assertEquals("per: PT0S (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> AuthFailureLimit.of(1, Duration.ZERO)).getMessage());
        assertEquals("per: PT-1S (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> AuthFailureLimit.of(1, Duration.ofSeconds(-1))).getMessage());
        assertEquals("per: PT8784H (expected: <= 365 days)", assertThrows(IllegalArgumentException.class,
                () -> AuthFailureLimit.of(1, Duration.ofDays(366))).getMessage());
        AuthFailureLimit.Builder b = AuthFailureLimit.builder(1, Duration.ofMinutes(1));
        assertEquals("coolDown: PT0S (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> b.coolDown(Duration.ZERO)).getMessage());
        assertEquals("coolDown: PT8784H (expected: <= 365 days)", assertThrows(IllegalArgumentException.class,
                () -> b.coolDown(Duration.ofDays(366))).getMessage());
        assertEquals("per", assertThrows(NullPointerException.class, () -> AuthFailureLimit.of(1, null)).getMessage());
        assertEquals("coolDown", assertThrows(NullPointerException.class, () -> b.coolDown(null)).getMessage());
        assertEquals("clock", assertThrows(NullPointerException.class, () -> b.clock(null)).getMessage());
        assertEquals("authFailureLimit", assertThrows(NullPointerException.class,
                () -> Gateway.builder().authFailureLimit(null)).getMessage());
    }
}
