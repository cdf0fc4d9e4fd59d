package dev.gatehouse.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class PushLoadTest {

    private static BitSet bits(int... set) {
        BitSet b = new BitSet();
        for (int i : set) {
            b.set(i);
        }
        return b;
    }

    @Test
    void writesMessagesOfTheScenariosSizeThatNameTheirLoopAndSequenceNumber() {
        String m = PushLoad.message(3, 42, 64);
        assertEquals(64, m.length());
        assertEquals(64, m.getBytes(StandardCharsets.UTF_8).length, "ASCII: as many bytes as characters");
        assertTrue(m.startsWith("000003 000000000042 "), m);
        assertEquals(PushLoad.HEAD, "000003 000000000042 ".length());
        assertEquals(PushLoad.HEAD, PushLoad.message(1, 2, 8).length(), "never shorter than the head");
        assertThrows(IllegalArgumentException.class, () -> PushLoad.message(1_000_000, 0, 64));
    }

    @Test
    void tellsFirstDeliveriesFromDuplicates() {
        PushLoad.PushConn c = new PushLoad.PushConn(null);
        assertTrue(c.see(7));
        assertTrue(c.see(8));
        assertFalse(c.see(7));
    }

    @Test
    void countsAsLostWhatAGroupsMemberDidNotGetOfTheMessagesAnsweredAsSent() {
        PushLoad.PushConn all = new PushLoad.PushConn(null);
        PushLoad.PushConn some = new PushLoad.PushConn(null);
        for (int seq : new int[] {0, 1, 2, 3}) {
            all.see(seq);
        }
        some.see(0);
        some.see(2);
        // 3 was never answered as sent (its POST failed, say): nobody misses it.
        assertEquals(1, PushLoad.lost(bits(0, 1, 2), List.of(all, some), true));
    }

    @Test
    void countsAsLostOnlyWhatWasAddressedToAConnection() {
        PushLoad.PushConn a = new PushLoad.PushConn(null);
        PushLoad.PushConn b = new PushLoad.PushConn(null);
        a.address(0);
        a.see(0);
        b.address(1);
        b.address(2);
        b.see(1);
        assertEquals(1, PushLoad.lost(bits(0, 1, 2), List.of(a, b), false), "b never got 2");
        assertEquals(0, PushLoad.lost(bits(0, 1), List.of(a, b), false));
    }

    @Test
    void readsTheIdsOfAGroupsMembership() {
        byte[] json = "{\"connections\":[\"a-1\",\"b_2\"],\"other\":{\"connections\":[\"x\"]}}".getBytes(StandardCharsets.UTF_8);
        assertEquals(List.of("a-1", "b_2"), PushLoad.connections(json));
        assertEquals(List.of(), PushLoad.connections("{}".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> PushLoad.connections("[]".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> PushLoad.connections("{".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void readsTheManagementPortAfterTheGatewaysWhenThereIsOne() {
        assertArrayEquals(new int[] {4567, 0}, Child.ports("PORT 4567"));
        assertArrayEquals(new int[] {4567, 4568}, Child.ports("PORT 4567 4568"));
    }

    @Test
    void neverShowsTheManagementKey() {
        String key = ManagementClient.newKey();
        assertEquals(43, key.length(), "32 bytes in unpadded base64url");
        assertNotEquals(key, ManagementClient.newKey());
        ManagementClient.Access access = new ManagementClient.Access(URI.create("http://127.0.0.1:9090"), key);
        assertEquals("Access[http://127.0.0.1:9090, key hidden]", access.toString());
        assertEquals(URI.create("http://127.0.0.1:9090/@connections/abc"), access.uri("/@connections/abc"));
        assertEquals(URI.create("http://127.0.0.1:9090/groups/g/:send"), access.uri("/groups/g/:send"));
    }

    @Test
    void recordsThePostsLatencyPercentilesInMicroseconds() {
        Histogram h = new Histogram(60_000_000_000L, 3);
        for (int i = 1; i <= 100; i++) {
            h.recordValue(i * 10_000L); // 10 µs to 1 ms
        }
        Sample sample = new Sample(Scenario.POST_CONNECTION_CROSS, Side.CLUSTER, 1);
        PushLoad.percentiles(h, sample);
        assertEquals(100, sample.get("latency.count"));
        assertEquals(500, sample.get("p50"), 1);
        assertEquals(900, sample.get("p90"), 1);
        assertEquals(990, sample.get("p99"), 1);

        Sample none = new Sample(Scenario.POST_CONNECTION, Side.GATEWAY, 1);
        PushLoad.percentiles(new Histogram(60_000_000_000L, 3), none);
        assertEquals(0, none.get("latency.count"));
        assertTrue(Double.isNaN(none.get("p50")), "no percentiles of nothing");
    }
}
