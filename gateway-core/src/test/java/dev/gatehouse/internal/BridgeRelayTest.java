package dev.gatehouse.internal;

import static dev.gatehouse.internal.FakeChannel.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Message;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.internal.BridgeHarness.Connection;
import dev.gatehouse.internal.FakeChannel.Sent;
import dev.gatehouse.session.MessageAction;
import dev.gatehouse.session.MessageLimits;
import dev.gatehouse.spi.Completion;

/** The relay: demand-driven flow control, fragments, frame types, counters and pings. */
class BridgeRelayTest {

    private final BridgeHarness harness = BridgeHarness.create();

    @AfterEach
    void engineKeptTheChannelContract() {
        harness.assertNoViolations();
    }

    @Test
    void backendIsNotReadBeforeTheClientLegOpens() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        assertTrue(c.connectBackend(null));

        assertEquals(0, c.backend.channel.demands());
    }

    @Test
    void eachLegIsDemandedExactlyOnceWhenTheClientConnects() {
        Connection c = harness.connect();

        assertEquals(1, c.client.channel.demands());
        assertEquals(1, c.backend.channel.demands());
    }

    @Test
    void clientIsDemandedAgainOnlyAfterTheBackendAcceptedItsText() {
        Connection c = harness.connect();

        c.client.sendText("hello");

        Sent forwarded = c.backend.channel.nextSent();
        assertEquals("hello", forwarded.text());
        assertTrue(forwarded.last());
        assertEquals(0, c.client.channel.unusedDemand(), "demanded before the forward completed");

        forwarded.succeed();

        assertEquals(1, c.client.channel.unusedDemand());
        assertEquals(1, c.backend.channel.unusedDemand(), "the other direction is untouched");
    }

    @Test
    void backendIsDemandedAgainOnlyAfterTheClientAcceptedItsText() {
        Connection c = harness.connect();

        c.backend.sendText("news");

        Sent forwarded = c.client.channel.nextSent();
        assertEquals("news", forwarded.text());
        assertEquals(0, c.backend.channel.unusedDemand());

        forwarded.succeed();

        assertEquals(1, c.backend.channel.unusedDemand());
    }

    @Test
    void aSlowBackendDoesNotHoldUpTheOtherDirection() {
        Connection c = harness.connect();

        c.client.sendText("to backend");
        Sent stuck = c.backend.channel.nextSent();

        c.backend.sendText("to client");
        c.client.channel.nextSent().succeed();
        c.backend.sendText("again");
        assertEquals("again", c.client.channel.nextSent().text());

        assertFalse(stuck.isCompleted());
        assertEquals(0, c.client.channel.unusedDemand());
    }

    @Test
    void binaryFrameIsReleasedOnlyAfterItsForwardCompletes() {
        Connection c = harness.connect();

        RecordingCompletion release = c.client.sendBinary(new byte[] {1, 2, 3}, true);

        Sent forwarded = c.backend.channel.nextSent();
        assertArrayEquals(new byte[] {1, 2, 3}, forwarded.bytes());
        assertFalse(release.isDone(), "released before the forward completed");
        assertEquals(0, c.client.channel.unusedDemand());

        forwarded.succeed();

        assertTrue(release.succeededOnce());
        assertEquals(1, c.client.channel.unusedDemand());
    }

    @Test
    void backendBinaryFrameIsReleasedOnlyAfterItsForwardCompletes() {
        Connection c = harness.connect();

        RecordingCompletion release = c.backend.sendBinary(new byte[] {9, 8}, true);
        Sent forwarded = c.client.channel.nextSent();
        assertFalse(release.isDone());

        forwarded.succeed();

        assertTrue(release.succeededOnce());
        assertEquals(1, c.backend.channel.unusedDemand());
    }

    @Test
    void binaryFrameIsReleasedWhenItsForwardFails() {
        Connection c = harness.connect();

        RecordingCompletion release = c.client.sendBinary(new byte[] {1}, true);
        c.backend.channel.nextSent().failWith(new java.io.IOException("broken pipe"));

        assertTrue(release.succeededOnce());
    }

    @Test
    void textFragmentsKeepTheirOrderAndLastFlags() {
        Connection c = harness.connect();

        for (String[] fragment : new String[][] {{"a", "false"}, {"b", "false"}, {"c", "true"}, {"d", "true"}}) {
            c.client.sendText(fragment[0], Boolean.parseBoolean(fragment[1]));
            c.backend.channel.nextSent().succeed();
        }

        List<Sent> sent = c.backend.channel.sent();
        assertEquals(List.of("a", "b", "c", "d"), sent.stream().map(Sent::text).toList());
        assertEquals(List.of(false, false, true, true), sent.stream().map(Sent::last).toList());
    }

    @Test
    void binaryFragmentsStayFragmentedInOrder() {
        Connection c = harness.connect();

        c.backend.sendBinary(new byte[] {1, 2}, false);
        c.client.channel.nextSent().succeed();
        c.backend.sendBinary(new byte[] {3}, false);
        c.client.channel.nextSent().succeed();
        c.backend.sendBinary(new byte[] {4, 5, 6}, true);
        c.client.channel.nextSent().succeed();

        List<Sent> sent = c.client.channel.sent();
        assertEquals(3, sent.size());
        assertArrayEquals(new byte[] {1, 2}, sent.get(0).bytes());
        assertArrayEquals(new byte[] {3}, sent.get(1).bytes());
        assertArrayEquals(new byte[] {4, 5, 6}, sent.get(2).bytes());
        assertEquals(List.of(false, false, true), sent.stream().map(Sent::last).toList());
    }

    @Test
    void textStaysTextAndBinaryStaysBinary() {
        Connection c = harness.connect();

        c.client.sendText("{\"a\":1}");
        c.backend.channel.nextSent().succeed();
        c.client.sendBinary(utf8("{\"a\":1}"), true);
        c.backend.channel.nextSent().succeed();
        c.client.sendText("again");
        c.backend.channel.nextSent().succeed();

        assertEquals(List.of(false, true, false), c.backend.channel.sent().stream().map(Sent::binary).toList());
        assertArrayEquals(utf8("{\"a\":1}"), c.backend.channel.sent().get(1).bytes());
    }

    @Test
    void textIsForwardedUnchangedIncludingNonAsciiCharacters() {
        Connection c = harness.connect();

        c.backend.sendText("héllo wörld \uD83D\uDE00");

        assertEquals("héllo wörld \uD83D\uDE00", c.client.channel.nextSent().text());
    }

    @Test
    void textSplitInsideACharacterIsRelayedByteForByte() {
        Connection c = harness.connect();
        byte[] e = utf8("é");

        c.client.sendUtf8(new byte[] {e[0]}, false);
        Sent first = c.backend.channel.nextSent();
        first.succeed();
        c.client.sendUtf8(new byte[] {e[1]}, true);
        Sent second = c.backend.channel.nextSent();

        assertFalse(first.binary());
        assertFalse(first.last());
        assertArrayEquals(new byte[] {e[0]}, first.payload());
        assertFalse(second.binary());
        assertTrue(second.last());
        assertArrayEquals(new byte[] {e[1]}, second.payload());
    }

    @Test
    void aFilterSeesTheWholeTextOfFragmentsSplitInsideACharacter() {
        List<String> seen = new CopyOnWriteArrayList<>();
        BridgeHarness filtered = BridgeHarness.create(r -> r.clientMessages((message, connection) -> {
            seen.add(((Message.Text) message).text());
            return MessageAction.forward(message);
        }));
        Connection c = filtered.connect();
        byte[] e = utf8("é");

        c.client.sendUtf8(new byte[] {'h', e[0]}, false);
        c.client.sendUtf8(new byte[] {e[1], 'h'}, true);

        assertEquals(List.of("héh"), seen);
        assertArrayEquals(utf8("héh"), c.backend.channel.nextSent().payload());
        filtered.assertNoViolations();
    }

    @Test
    void aFilteredTextThatIsNotUtf8ClosesItsSenderWith1007() {
        BridgeHarness filtered = BridgeHarness.create(r -> r.clientMessages((message, connection) -> MessageAction.forward(message)));
        Connection c = filtered.connect();

        RecordingCompletion release = c.client.sendUtf8(new byte[] {'o', 'k', (byte) 0xC3, '!'}, true);

        assertEquals(CloseStatus.of(1007, "invalid UTF-8"), c.client.channel.awaitClose());
        assertEquals(1001, c.backend.channel.awaitClose().code());
        assertTrue(release.succeededOnce());
        assertTrue(c.backend.channel.sent().isEmpty());
        filtered.assertNoViolations();
    }

    @Test
    void aMessageThatTripsARateLimitIsReleasedBeforeTheNextFrameIsAskedFor() {
        BridgeHarness limited = BridgeHarness.create(r -> r.messageLimits(MessageLimits.builder()
                .messagesPerSecond(0.001, 1)
                .action(MessageLimits.Action.CLOSE)
                .build()));
        Connection c = limited.connect();
        c.client.sendText("first", true);
        c.backend.channel.nextSent().succeed();
        int[] demandsAtRelease = {-1};
        c.client.channel.consumeDemand();
        c.client.handler.onText(ByteBuffer.wrap(utf8("second")), true, new Completion() {
            @Override
            public void succeeded() {
                demandsAtRelease[0] = c.client.channel.demands();
            }

            @Override
            public void failed(Throwable cause) {
            }
        });

        assertEquals(CloseStatus.of(1008, "rate limit exceeded"), c.client.channel.awaitClose());
        assertEquals(2, demandsAtRelease[0], "released after the next frame was asked for");
        assertTrue(c.client.channel.demands() > 2);
        limited.assertNoViolations();
    }

    @Test
    void pendingBytesCountHeldBinaryBytesAndPeakKeepsTheMaximum() {
        Connection c = harness.connect();
        String id = c.id();

        c.client.sendBinary(new byte[10], true);
        Sent toBackend = c.backend.channel.nextSent();
        assertEquals(10, BridgeHarness.info(harness.gateway(), id).pendingBytes());

        c.backend.sendBinary(new byte[5], true);
        Sent toClient = c.client.channel.nextSent();
        ConnectionInfo both = BridgeHarness.info(harness.gateway(), id);
        assertEquals(15, both.pendingBytes());
        assertEquals(15, both.peakPendingBytes());

        toBackend.succeed();
        assertEquals(5, BridgeHarness.info(harness.gateway(), id).pendingBytes());
        toClient.succeed();

        ConnectionInfo after = BridgeHarness.info(harness.gateway(), id);
        assertEquals(0, after.pendingBytes());
        assertEquals(15, after.peakPendingBytes());
    }

    @Test
    void textIsPendingUntilItsForwardCompletes() {
        Connection c = harness.connect();

        RecordingCompletion release = c.client.sendText("héllo", true);

        assertEquals(6, BridgeHarness.info(harness.gateway(), c.id()).pendingBytes());
        assertFalse(release.isDone());
        c.backend.channel.nextSent().succeed();
        assertEquals(0, BridgeHarness.info(harness.gateway(), c.id()).pendingBytes());
        assertTrue(release.succeededOnce());
    }

    @Test
    void countersCountWholeMessagesAndUtf8PayloadBytesPerDirection() {
        Connection c = harness.connect();

        c.client.sendText("hé", false);
        c.backend.channel.nextSent().succeed();
        ConnectionInfo midMessage = BridgeHarness.info(harness.gateway(), c.id());
        assertEquals(0, midMessage.messagesIn());
        assertEquals(3, midMessage.bytesIn());

        c.client.sendText("llo", true);
        c.backend.channel.nextSent().succeed();
        c.backend.sendBinary(new byte[4], true);
        c.client.channel.nextSent().succeed();

        ConnectionInfo info = BridgeHarness.info(harness.gateway(), c.id());
        assertEquals(1, info.messagesIn());
        assertEquals(6, info.bytesIn());
        assertEquals(1, info.messagesOut());
        assertEquals(4, info.bytesOut());
    }

    @Test
    void aPingFromTheClientIsAnsweredOnTheClientLegOnly() {
        Connection c = harness.connect();

        c.client.sendPing(utf8("are you there"));

        assertEquals(1, c.client.channel.pongs().size());
        assertArrayEquals(utf8("are you there"), c.client.channel.pongs().get(0));
        assertEquals(1, c.client.channel.unusedDemand(), "the client is read again after its ping");
        assertTrue(c.backend.channel.pings().isEmpty());
        assertTrue(c.backend.channel.pongs().isEmpty());
    }

    @Test
    void aPingFromTheBackendIsAnsweredOnTheBackendLegOnly() {
        Connection c = harness.connect();

        c.backend.sendPing(new byte[] {42});

        assertEquals(1, c.backend.channel.pongs().size());
        assertArrayEquals(new byte[] {42}, c.backend.channel.pongs().get(0));
        assertEquals(1, c.backend.channel.unusedDemand());
        assertTrue(c.client.channel.pongs().isEmpty());
        assertTrue(c.client.channel.pings().isEmpty());
    }

    @Test
    void anUnsolicitedPongIsReadAndNotForwarded() {
        Connection c = harness.connect();

        c.client.sendPong(utf8("heartbeat"));

        assertEquals(1, c.client.channel.unusedDemand());
        assertTrue(c.backend.channel.pings().isEmpty());
        assertTrue(c.backend.channel.pongs().isEmpty());
        assertTrue(c.backend.channel.sent().isEmpty());
    }

    @Test
    void aPingFromTheClientCountsAsActivity() {
        Connection c = harness.connect();

        assertLastActiveAdvances(c, () -> c.client.sendPing(new byte[] {1}));
    }

    @Test
    void anUnsolicitedPongCountsAsActivity() {
        Connection c = harness.connect();

        assertLastActiveAdvances(c, () -> c.backend.sendPong(new byte[] {1}));
    }

    @Test
    void aDataFrameCountsAsActivity() {
        Connection c = harness.connect();

        assertLastActiveAdvances(c, () -> {
            c.backend.sendText("tick");
            c.client.channel.nextSent().succeed();
        });
    }

    @Test
    void sendThatCompletesInsideTheSendCallReleasesAndDemandsOnce() {
        Connection c = harness.connect();
        c.backend.channel.completeSendsAtOnce();

        RecordingCompletion release = c.client.sendBinary(new byte[] {1, 2}, true);
        c.client.sendText("next");

        assertTrue(release.succeededOnce());
        assertEquals(1, c.client.channel.unusedDemand());
        assertEquals(2, c.backend.channel.sent().size());
        assertEquals(0, BridgeHarness.info(harness.gateway(), c.id()).pendingBytes());
    }

    /** Runs the event a second after the relay started: {@code lastActiveAt} moves to then. */
    private void assertLastActiveAdvances(Connection c, Runnable event) {
        ConnectionInfo before = BridgeHarness.info(harness.gateway(), c.id());
        assertEquals(before.connectedAt(), before.lastActiveAt(), "no activity yet");
        harness.advance(Duration.ofSeconds(1));

        event.run();

        assertEquals(before.connectedAt().plusSeconds(1), BridgeHarness.info(harness.gateway(), c.id()).lastActiveAt());
    }
}
