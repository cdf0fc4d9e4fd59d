package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;

import org.junit.jupiter.api.Test;

/** How the management API writes times: ISO-8601, UTC, always with milliseconds, as AWS does. */
class ManagementApiTimesTest {

    @Test
    void writesMillisecondsEvenOnAWholeSecond() {
        assertEquals("2026-12-04T12:00:00.000Z", ManagementApi.iso(Instant.parse("2026-12-04T12:00:00Z")));
    }

    @Test
    void cutsMicrosecondsToMilliseconds() {
        assertEquals("2026-12-04T21:52:23.123Z", ManagementApi.iso(Instant.parse("2026-12-04T21:52:23.123987Z")));
    }
}
