package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/** The gateway's JSON error bodies. */
class JsonTest {

    @Test
    void errorBodyHasKindMessageAndRequestId() {
        assertEquals("{\"error\":\"route_not_found\",\"message\":\"no route for /x\",\"requestId\":\"abc\"}",
                Json.errorBody(Verdict.reject(Rejection.ROUTE_NOT_FOUND, "no route for /x"), "abc"));
    }

    @Test
    void errorBodyEscapesQuotesBackslashesAndControlCharacters() {
        String body = Json.errorBody(Verdict.reject(Rejection.FORBIDDEN, "origin \"x\\y\"\n\r\t\u0001 is not allowed"),
                "id\"1");

        assertEquals("{\"error\":\"forbidden\",\"message\":\"origin \\\"x\\\\y\\\"\\n\\r\\t\\u0001 is not allowed\","
                + "\"requestId\":\"id\\\"1\"}", body);
    }

    @Test
    void errorBodyKeepsNonAsciiCharacters() {
        assertEquals("{\"error\":\"unauthorized\",\"message\":\"clé ✓\",\"requestId\":\"r\"}",
                Json.errorBody(Verdict.reject(Rejection.UNAUTHORIZED, "clé ✓"), "r"));
    }

    @Test
    void errorBodyUsesTheKindEvenWhenTheStatusWasChanged() {
        assertEquals("{\"error\":\"backend_rejected\",\"message\":\"m\",\"requestId\":\"r\"}",
                Json.errorBody(Verdict.reject(Rejection.BACKEND_REJECTED, "m").withStatus(418), "r"));
    }
}
