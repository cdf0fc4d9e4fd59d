package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gatehouse.Handshake;

/** W3C traceparent: continued when valid, replaced when absent or invalid, always with the gateway's own span. */
class TraceContextTest {

    private static final String CLIENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

    private static Handshake with(String traceparent) {
        Handshake.Builder b = Handshake.builder("r", "/x");
        if (traceparent != null) {
            b.header("traceparent", traceparent);
        }
        return b.build();
    }

    @Test
    void continuesAValidTraceWithANewParentIdAndTheClientsFlags() {
        String next = TraceContext.next(with(CLIENT));

        assertTrue(TraceContext.isValid(next), next);
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", TraceContext.traceId(next));
        assertNotEquals("00f067aa0ba902b7", next.substring(36, 52));
        assertTrue(next.endsWith("-00"), next);
    }

    @Test
    void startsATraceWhenTheClientSentNone() {
        String a = TraceContext.next(with(null));
        String b = TraceContext.next(with(null));

        assertTrue(TraceContext.isValid(a), a);
        assertTrue(a.endsWith("-01"), a);
        assertNotEquals(TraceContext.traceId(a), TraceContext.traceId(b));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero parent id
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // another version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", // bad flags
        "garbage"
    })
    void replacesAnInvalidTraceparent(String invalid) {
        assertFalse(TraceContext.isValid(invalid));
        String next = TraceContext.next(with(invalid));

        assertTrue(TraceContext.isValid(next), next);
        assertFalse(next.contains("4bf92f3577b34da6a3ce929d0e0e4736"), next);
    }
}
