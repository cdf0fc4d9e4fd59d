package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The cause tag's few words for the close decisions' free-text descriptions. */
class CloseCausesTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "client closed|client_closed",
        "backend closed|backend_closed",
        "client connection lost|client_lost",
        "backend connection lost|backend_lost",
        "idle timeout|idle_timeout",
        "keepalive timeout: client did not answer a ping|keepalive_timeout",
        "credential expired|credential_expired",
        "revoked for principal alice|revoked",
        "drain|drain",
        "max lifetime|max_lifetime",
        "overload: client too slow|overload",
        "target down|target_down",
        "message too big from client|message_too_big",
        "message too big to inspect (client)|message_too_big",
        "message rate limit exceeded (client)|rate_limited",
        "byte rate limit exceeded (client)|rate_limited",
        "invalid UTF-8 in a text message (client)|invalid_payload",
        "client protocol error: unmasked frame from a client|protocol_error",
        "backend frame too big|protocol_error",
        "closed by a message filter (client)|filter",
        "message filter failed (backend)|filter",
        "closed by the registry|management",
        "closed by the registry for user alice|management",
        "aborted|aborted",
        "the client leg never opened|other",
    })
    void namesEachDecisionInAWord(String why, String cause) {
        assertEquals(cause, CloseCauses.of(why));
    }
}
