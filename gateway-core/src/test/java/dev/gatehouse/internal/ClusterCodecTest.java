package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.DataInputStream;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Audience;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Message;
import dev.gatehouse.Principal;

/** The bytes of the requests and answers between cluster nodes: every value survives the trip. */
class ClusterCodecTest {

    @Test
    void connectionInfoSurvivesTheTripWithItsPrincipalsSubjectOnly() throws Exception {
        ConnectionInfo info = new ConnectionInfo("id-1", "/chat/{room}", new InetSocketAddress("10.1.2.3", 40000),
                Optional.of("agent/1.0"), Optional.of(Principal.builder("alice").claims(Map.of("role", "admin")).build()),
                Optional.of("alice"), List.of("room-1", "room-2"), Optional.empty(),
                Instant.ofEpochSecond(1_700_000_000L, 123_456_789), Instant.ofEpochSecond(1_700_000_100L, 5),
                1, 2, 3, 4, 5, 6, Optional.of("ws://chat.internal:9000/ws"));

        ConnectionInfo back = ClusterCodec.info(ClusterCodec.readAnswer(ClusterCodec.info(ClusterCodec.answer(), info).bytes()));

        Principal principal = back.principal().orElseThrow();
        assertEquals("alice", principal.subject());
        assertEquals(Map.of(), principal.claims());
        ConnectionInfo withoutPrincipal = new ConnectionInfo(info.id(), info.route(), info.remoteAddress(),
                info.userAgent(), Optional.empty(), info.user(), info.groups(), info.subprotocol(), info.connectedAt(),
                info.lastActiveAt(), 1, 2, 3, 4, 5, 6, info.target());
        assertEquals(withoutPrincipal, new ConnectionInfo(back.id(), back.route(), back.remoteAddress(), back.userAgent(),
                Optional.empty(), back.user(), back.groups(), back.subprotocol(), back.connectedAt(), back.lastActiveAt(),
                back.messagesIn(), back.bytesIn(), back.messagesOut(), back.bytesOut(), back.pendingBytes(),
                back.peakPendingBytes(), back.target()));
    }

    @Test
    void requestsCarryTheirOperationAndFields() throws Exception {
        byte[] binary = {0, 1, 2, (byte) 255};
        byte[] bytes = ClusterCodec.message(ClusterCodec.audience(ClusterCodec.request(ClusterCodec.Op.SEND_AUDIENCE),
                Audience.group("room").excluding(Set.of("x", "y"))), Message.binary(binary)).bytes();

        ClusterCodec.Request r = ClusterCodec.readRequest(bytes);

        assertEquals(ClusterCodec.Op.SEND_AUDIENCE, r.op());
        assertEquals(Audience.group("room").excluding(Set.of("x", "y")), ClusterCodec.audience(r.in()));
        Message.Binary m = (Message.Binary) ClusterCodec.message(r.in());
        byte[] got = new byte[m.bytes().remaining()];
        m.bytes().get(got);
        assertArrayEquals(binary, got);
    }

    @Test
    void textStatusesAndAllAudiencesSurvive() throws Exception {
        byte[] bytes = ClusterCodec.status(ClusterCodec.audience(ClusterCodec.message(ClusterCodec.request(ClusterCodec.Op.CLOSE),
                Message.text("héllo ✓")), Audience.all()), CloseStatus.of(4000, "bye")).bytes();

        DataInputStream in = ClusterCodec.readRequest(bytes).in();

        assertEquals(Message.text("héllo ✓"), ClusterCodec.message(in));
        assertEquals(Audience.all(), ClusterCodec.audience(in));
        assertEquals(CloseStatus.of(4000, "bye"), ClusterCodec.status(in));
    }

    @Test
    void refusesAnotherVersionAndAnUnknownOperation() {
        assertThrows(IllegalArgumentException.class, () -> ClusterCodec.readRequest(new byte[] {(byte) (ClusterCodec.VERSION + 1), 0}));
        assertThrows(IllegalArgumentException.class, () -> ClusterCodec.readRequest(new byte[] {ClusterCodec.VERSION, 99}));
        assertThrows(IllegalArgumentException.class, () -> ClusterCodec.readAnswer(new byte[0]));
    }
}
