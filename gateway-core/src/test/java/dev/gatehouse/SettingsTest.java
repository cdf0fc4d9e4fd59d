package dev.gatehouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

/** Settings validation and defaults. */
class SettingsTest {

    private static void assertRejected(String expectedMessage, Consumer<Settings.Builder> setter) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> setter.accept(Settings.builder()));
        assertEquals(expectedMessage, e.getMessage());
    }

    @Test
    void defaultsAreAsDocumented() {
        Settings s = Settings.defaults();

        assertEquals(Duration.ofMinutes(10), s.idleTimeout());
        assertEquals(Duration.ofSeconds(30), s.pingInterval());
        assertEquals(Duration.ofSeconds(10), s.pongTimeout());
        assertEquals(Duration.ofSeconds(10), s.connectTimeout());
        assertEquals(CloseStatus.of(1014, "backend unavailable"), s.backendLostStatus());
        assertEquals(CloseStatus.of(1012, "service restart"), s.drainStatus());
        assertEquals(OverflowAction.REFUSE, s.outboundOverflow());
        assertEquals(Duration.ZERO, s.maxLifetime());
        assertEquals(0.1, s.maxLifetimeJitter());
        assertEquals(CloseStatus.of(1001, "max lifetime"), s.lifetimeStatus());
    }

    @Test
    void maxLifetimeItsJitterAndItsStatusAreChecked() {
        assertRejected("maxLifetime: PT-1S (expected: >= 0)", b -> b.maxLifetime(Duration.ofSeconds(-1)));
        assertRejected("maxLifetimeJitter: 0.51 (expected: 0-0.5)", b -> b.maxLifetimeJitter(0.51));
        assertRejected("maxLifetimeJitter: -0.1 (expected: 0-0.5)", b -> b.maxLifetimeJitter(-0.1));
        assertRejected("maxLifetimeJitter: NaN (expected: 0-0.5)", b -> b.maxLifetimeJitter(Double.NaN));
        assertRejected("lifetimeStatus: 1006 (expected: a code that may be sent)",
                b -> b.lifetimeStatus(CloseStatus.ABNORMAL));
        assertRejected("lifetimeStatus: 1005 (expected: a code that may be sent)",
                b -> b.lifetimeStatus(CloseStatus.NO_STATUS));
        assertRejected("lifetimeStatus: 1015 (expected: a code that may be sent)",
                b -> b.lifetimeStatus(CloseStatus.of(1015)));
        NullPointerException e = assertThrows(NullPointerException.class, () -> Settings.builder().outboundOverflow(null));
        assertEquals("outboundOverflow", e.getMessage());

        Settings s = Settings.builder().maxLifetime(Duration.ofHours(2)).maxLifetimeJitter(0.5)
                .lifetimeStatus(CloseStatus.of(1012, "max lifetime")).outboundOverflow(OverflowAction.CLOSE).build();
        assertEquals(Duration.ofHours(2), s.maxLifetime());
        assertEquals(0.5, s.maxLifetimeJitter());
        assertEquals(CloseStatus.of(1012, "max lifetime"), s.lifetimeStatus());
        assertEquals(OverflowAction.CLOSE, s.outboundOverflow());
        assertEquals(0, Settings.builder().maxLifetimeJitter(0).build().maxLifetimeJitter());
        assertEquals(4999, Settings.builder().lifetimeStatus(CloseStatus.of(4999)).build().lifetimeStatus().code());
    }

    @Test
    void negativeDurationsAreRejectedWithTheSettingsName() {
        assertRejected("idleTimeout: PT-1S (expected: >= 0)", b -> b.idleTimeout(Duration.ofSeconds(-1)));
        assertRejected("pingInterval: PT-1S (expected: >= 0)", b -> b.pingInterval(Duration.ofSeconds(-1)));
        assertRejected("pongTimeout: PT-1S (expected: > 0)", b -> b.pongTimeout(Duration.ofSeconds(-1)));
        assertRejected("connectTimeout: PT-1S (expected: > 0)", b -> b.connectTimeout(Duration.ofSeconds(-1)));
        assertRejected("closeTimeout: PT-1S (expected: > 0)", b -> b.closeTimeout(Duration.ofSeconds(-1)));
    }

    @Test
    void zeroIsRejectedWhereItCannotMeanDisabled() {
        assertRejected("pongTimeout: PT0S (expected: > 0)", b -> b.pongTimeout(Duration.ZERO));
        assertRejected("connectTimeout: PT0S (expected: > 0)", b -> b.connectTimeout(Duration.ZERO));
        assertRejected("closeTimeout: PT0S (expected: > 0)", b -> b.closeTimeout(Duration.ZERO));
    }

    @Test
    void zeroDisablesIdleTimeoutKeepaliveAndSizeLimit() {
        Settings s = Settings.builder().idleTimeout(Duration.ZERO).pingInterval(Duration.ZERO).maxMessageSize(0).build();

        assertEquals(Duration.ZERO, s.idleTimeout());
        assertEquals(Duration.ZERO, s.pingInterval());
        assertEquals(0, s.maxClientMessageSize());
        assertEquals(0, s.maxBackendMessageSize());
    }

    @Test
    void negativeMaxMessageSizeIsRejected() {
        assertRejected("maxMessageSize: -1 (expected: >= 0)", b -> b.maxMessageSize(-1));
    }

    @Test
    void closeStatusesMustBeTransmittable() {
        assertRejected("backendLostStatus: 1006 (expected: a code that may be sent)",
                b -> b.backendLostStatus(CloseStatus.ABNORMAL));
        assertRejected("drainStatus: 1005 (expected: a code that may be sent)", b -> b.drainStatus(CloseStatus.NO_STATUS));
        assertRejected("drainStatus: 1015 (expected: a code that may be sent)", b -> b.drainStatus(CloseStatus.of(1015)));
    }

    @Test
    void nullsAreRejectedWithTheSettingsName() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> Settings.builder().idleTimeout(null));
        assertEquals("idleTimeout", e.getMessage());
    }

    @Test
    void toBuilderKeepsEveryOtherValue() {
        Settings original = Settings.builder()
                .idleTimeout(Duration.ofSeconds(1)).pingInterval(Duration.ofSeconds(2)).pongTimeout(Duration.ofSeconds(3))
                .connectTimeout(Duration.ofSeconds(4)).closeTimeout(Duration.ofSeconds(5)).maxMessageSize(6)
                .backendLostStatus(CloseStatus.of(1011, "x")).drainStatus(CloseStatus.of(1001, "y"))
                .outboundOverflow(OverflowAction.CLOSE).maxLifetime(Duration.ofHours(2)).maxLifetimeJitter(0.25)
                .lifetimeStatus(CloseStatus.of(1012, "z"))
                .build();

        Settings changed = original.toBuilder().maxMessageSize(7).build();

        assertEquals(original.toString().replace("MessageSize=6", "MessageSize=7"), changed.toString());
        assertEquals(Duration.ofSeconds(5), changed.closeTimeout());
        assertEquals(OverflowAction.CLOSE, changed.outboundOverflow());
        assertEquals(Duration.ofHours(2), changed.maxLifetime());
        assertEquals(0.25, changed.maxLifetimeJitter());
        assertEquals(CloseStatus.of(1012, "z"), changed.lifetimeStatus());
    }
}
