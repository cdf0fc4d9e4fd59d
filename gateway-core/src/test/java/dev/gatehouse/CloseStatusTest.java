package dev.gatehouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Close codes as values. */
class CloseStatusTest {

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 999, 5000, 65535})
    void codeOutsideTheRangeIsRejected(int code) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CloseStatus.of(code));

        assertEquals("code: " + code + " (expected: 1000-4999)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 1005, 1006, 2999, 4999})
    void codeInsideTheRangeIsAccepted(int code) {
        assertEquals(code, CloseStatus.of(code).code());
    }

    @ParameterizedTest
    @CsvSource({"1000, true", "1001, true", "1002, true", "1003, true", "1004, false", "1005, false", "1006, false",
            "1007, true", "1008, true", "1009, true", "1010, true", "1011, true", "1012, true", "1013, true",
            "1014, true", "1015, false", "1016, false", "2000, false", "2999, false", "3000, true", "3999, true",
            "4000, true", "4999, true"})
    void transmittableCodesAreExactlyThoseAllowedOnTheWire(int code, boolean transmittable) {
        assertEquals(transmittable, CloseStatus.of(code).isTransmittable());
    }

    @Test
    void namedConstantsHaveTheirCodesAndReasons() {
        assertEquals(1000, CloseStatus.NORMAL.code());
        assertEquals(1001, CloseStatus.GOING_AWAY.code());
        assertEquals(1005, CloseStatus.NO_STATUS.code());
        assertEquals(1006, CloseStatus.ABNORMAL.code());
        assertEquals(CloseStatus.of(1009, "message too big"), CloseStatus.MESSAGE_TOO_BIG);
        assertEquals(CloseStatus.of(1012, "service restart"), CloseStatus.SERVICE_RESTART);
        assertEquals(CloseStatus.of(1013, "try again later"), CloseStatus.TRY_AGAIN_LATER);
        assertEquals(CloseStatus.of(1014, "backend unavailable"), CloseStatus.BACKEND_UNAVAILABLE);
    }

    @Test
    void statusesWithTheSameCodeAndReasonAreEqual() {
        assertEquals(CloseStatus.of(4000, "x"), new CloseStatus(4000, "x"));
        assertEquals(CloseStatus.of(4000, ""), CloseStatus.of(4000));
        assertEquals(CloseStatus.of(1001, "idle timeout"), CloseStatus.GOING_AWAY.withReason("idle timeout"));
    }

    @Test
    void reasonIsRequired() {
        assertThrows(NullPointerException.class, () -> CloseStatus.of(1000, null));
    }

    @Test
    void toStringShowsCodeAndQuotedReason() {
        assertEquals("1000", CloseStatus.NORMAL.toString());
        assertEquals("4000 \"bye\"", CloseStatus.of(4000, "bye").toString());
        assertTrue(CloseStatus.MESSAGE_TOO_BIG.toString().startsWith("1009"));
    }
}
