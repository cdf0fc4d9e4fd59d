package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Principal;

/** The counters of one connection and its access-log line. */
class ConnectionStatsTest {

    private static final Instant AT = Instant.parse("2030-01-01T00:00:00Z");

    private static String line(ConnectionStats stats, Instant closedAt, CloseStatus clientClose, String cause,
            String initiator) {
        return AccessLog.session("node-1", stats.session(closedAt, "ws://chat.internal:7000/rooms/a", null, clientClose,
                cause, initiator));
    }

    @Test
    void accessLineCarriesTheCountsOfBothLegsTheDurationAndTheClose() {
        ConnectionStats stats = new ConnectionStats("req-1", "/chat/{room}", BridgeHarness.request("req-1").build());
        stats.opened(42, AT);
        stats.client.received(3);
        stats.client.received(2);
        stats.client.messageEnded();
        stats.backend.received(7);
        stats.backend.messageEnded();
        stats.backend.received(1);
        stats.backend.messageEnded();

        String line = line(stats, AT.plusMillis(1500), CloseStatus.of(4000, "bye"), "client closed", "client");

        assertTrue(line.startsWith("{\"requestId\":\"req-1\",\"connectionId\":\"req-1\",\"eventType\":\"DISCONNECT\","
                + "\"routeKey\":\"$disconnect\",\"status\":101,\"connectedAt\":" + AT.toEpochMilli() + ","), line);
        assertTrue(line.contains("\"route\":\"/chat/{room}\",\"durationMs\":1500,\"messagesIn\":1,\"messagesOut\":2,"
                + "\"bytesIn\":5,\"bytesOut\":8,\"closeCode\":4000,\"closeReason\":\"bye\",\"cause\":\"client closed\","
                + "\"initiator\":\"client\",\"backendTarget\":\"ws://chat.internal:7000/rooms/a\",\"node\":\"node-1\""), line);
    }

    @Test
    void accessLineNamesThePrincipalAndANullForNoClientClose() {
        ConnectionStats stats = new ConnectionStats("req-2", "/chat/{room}",
                BridgeHarness.request("req-2").build().withPrincipal(Principal.of("alice")));
        stats.opened(42, AT);

        String line = line(stats, AT, null, "aborted", "gateway");

        assertTrue(line.contains("\"authorizer\":{\"principalId\":\"alice\"}"), line);
        assertTrue(line.contains("\"durationMs\":0,"), line);
        assertTrue(line.contains("\"closeCode\":null,\"closeReason\":null,\"cause\":\"aborted\",\"initiator\":\"gateway\""),
                line);
    }

    @Test
    void noLineBeforeTheRelayStarted() {
        ConnectionStats stats = new ConnectionStats("req-5", "/chat/{room}", BridgeHarness.request("req-5").build());

        assertNull(stats.session(AT, null, null, null, "aborted", "gateway"));
    }

    @Test
    void theRelayStartIsRecordedOnce() {
        ConnectionStats stats = new ConnectionStats("req-3", "/chat/{room}", BridgeHarness.request("req-3").build());
        assertFalse(stats.isOpened());

        stats.opened(42, AT);

        assertTrue(stats.isOpened());
        assertEquals(42, stats.openedNanos());
        assertEquals(AT, stats.connectedAt());
    }

    @Test
    void heldBytesRiseAndFallAndThePeakStays() {
        ConnectionStats stats = new ConnectionStats("req-4", "/chat/{room}", BridgeHarness.request("req-4").build());

        stats.holding(10);
        stats.holding(5);
        stats.released(10);
        stats.holding(2);

        assertEquals(7, stats.pending());
        assertEquals(15, stats.peakPending());
    }
}
