package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.internal.BridgeHarness.Connection;
import dev.gatehouse.internal.FakeChannel.Sent;

/** The close-code contract of PRODUCT.md, as far as the relay implements it, and the close handshake. */
class BridgeCloseTest {

    private static final CloseStatus BACKEND_UNAVAILABLE = CloseStatus.of(1014, "backend unavailable");
    private static final CloseStatus CLIENT_GONE = CloseStatus.of(1001, "client gone");
    private static final CloseStatus GOING_AWAY = CloseStatus.of(1001, "");

    private BridgeHarness harness = BridgeHarness.create();

    @AfterEach
    void engineKeptTheChannelContract() {
        harness.assertNoViolations();
    }

    // ---- a peer closes with a status ----

    @ParameterizedTest
    @CsvSource({"1000, ''", "1000, bye", "1001, going away", "1008, not allowed", "1011, oops", "1013, later",
            "3000, registered", "4000, app specific", "4999, ünïcödé reason"})
    void backendCloseCodeReachesClientExactly(int code, String reason) {
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(code, reason));

        c.client.channel.assertClosedOnceWith(CloseStatus.of(code, reason));
    }

    @ParameterizedTest
    @CsvSource({"1000, ''", "1000, bye", "1001, going away", "1003, text only", "1007, bad utf-8", "1008, nope",
            "3001, registered", "4000, app specific"})
    void clientCloseCodeReachesBackendExactly(int code, String reason) {
        Connection c = harness.connect();

        c.client.sendClose(CloseStatus.of(code, reason));

        c.backend.channel.assertClosedOnceWith(CloseStatus.of(code, reason));
    }

    @Test
    void backendThatStartedTheCloseGetsTheClientsAnswerAndTheBridgeEnds() {
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(4000, "bye"));
        assertTrue(c.backend.channel.closes().isEmpty(), "the backend is answered only once the client has");
        assertFalse(c.bridge.closed().isDone());

        c.client.sendClose(CloseStatus.of(4000, "bye"));

        c.backend.channel.assertClosedOnceWith(CloseStatus.of(4000, "bye"));
        c.client.channel.assertClosedOnceWith(CloseStatus.of(4000, "bye"));
        assertTrue(c.bridge.closed().isDone());
    }

    @Test
    void clientThatStartedTheCloseGetsTheBackendsAnswerAndTheBridgeEnds() {
        Connection c = harness.connect();

        c.client.sendClose(CloseStatus.of(1000, "done"));
        c.backend.sendClose(CloseStatus.of(1000, "done"));

        c.client.channel.assertClosedOnceWith(CloseStatus.of(1000, "done"));
        c.backend.channel.assertClosedOnceWith(CloseStatus.of(1000, "done"));
        assertTrue(c.bridge.closed().isDone());
    }

    @Test
    void backendCloseWithoutStatusReachesClientWithoutStatus() {
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.NO_STATUS);

        c.client.channel.assertClosedOnceWith(CloseStatus.NO_STATUS);
    }

    @Test
    void clientCloseWithoutStatusReachesBackendWithoutStatus() {
        Connection c = harness.connect();

        c.client.sendClose(CloseStatus.NO_STATUS);

        c.backend.channel.assertClosedOnceWith(CloseStatus.NO_STATUS);
    }

    @Test
    void clientStillReachesABackendThatStartedTheCloseUntilTheClientAnswers() {
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(1000, ""));
        c.client.sendText("last words");

        assertEquals("last words", c.backend.channel.nextSent().text());
    }

    @Test
    void backendStillReachesAClientThatStartedTheCloseUntilTheBackendAnswers() {
        Connection c = harness.connect();

        c.client.sendClose(CloseStatus.of(1000, ""));
        c.backend.sendText("last news");

        assertEquals("last news", c.client.channel.nextSent().text());
    }

    // ---- a leg is lost ----

    @Test
    void backendLostWithoutCloseFrameClosesClientWith1014BackendUnavailable() {
        Connection c = harness.connect();

        c.backend.drop();

        c.client.channel.assertClosedOnceWith(BACKEND_UNAVAILABLE);
        assertTrue(c.backend.channel.closes().isEmpty(), "nothing is sent on a lost leg");
    }

    @Test
    void aLostLegIsAbortedSoThatItsTransportCannotLeak() {
        Connection c = harness.connect();

        c.backend.error(new IOException("protocol error"));
        c.backend.channel.awaitAbort();

        assertEquals(1, c.backend.channel.aborts());
    }

    @Test
    void backendErrorClosesClientWith1014BackendUnavailable() {
        Connection c = harness.connect();

        c.backend.error(new IOException("connection reset"));

        c.client.channel.assertClosedOnceWith(BACKEND_UNAVAILABLE);
    }

    @Test
    void backendLostStatusIsConfigurable() {
        harness = BridgeHarness.create(BridgeHarness.quiet().backendLostStatus(CloseStatus.of(1011, "upstream gone")).build());
        Connection c = harness.connect();

        c.backend.drop();

        c.client.channel.assertClosedOnceWith(CloseStatus.of(1011, "upstream gone"));
    }

    @Test
    void clientLostWithoutCloseFrameClosesBackendWith1001ClientGone() {
        Connection c = harness.connect();

        c.client.drop();

        c.backend.channel.assertClosedOnceWith(CLIENT_GONE);
        assertTrue(c.client.channel.closes().isEmpty());
    }

    @Test
    void clientErrorClosesBackendWith1001ClientGone() {
        Connection c = harness.connect();

        c.client.error(new IOException("connection reset"));

        c.backend.channel.assertClosedOnceWith(CLIENT_GONE);
    }

    // ---- a leg breaks the protocol ----

    @Test
    void aClientThatBreaksTheProtocolLeavesTheBackendWith1001AndItsLegToTheTransport() {
        Connection c = harness.connect();

        c.client.protocolError(CloseStatus.of(1002, "RSV2 not allowed"));

        c.backend.channel.assertClosedOnceWith(GOING_AWAY);
        assertTrue(c.client.channel.closes().isEmpty(), "the transport sent the client its 1002 itself");
        c.backend.echoClose();
        c.bridge.closed().join();
        c.client.drop(); // the transport's close event after the error changes nothing
        c.backend.channel.assertClosedOnceWith(GOING_AWAY);
    }

    @Test
    void aBackendThatBreaksTheProtocolClosesTheClientWithTheBackendLostStatus() {
        Connection c = harness.connect();

        c.backend.protocolError(CloseStatus.of(1002, "bad opcode"));

        c.client.channel.assertClosedOnceWith(BACKEND_UNAVAILABLE);
        assertTrue(c.backend.channel.closes().isEmpty());
    }

    @Test
    void protocolErrorsAreDescribedForTheAccessLog() {
        assertEquals("protocol error: RSV2 not allowed", Bridge.violation(CloseStatus.of(1002, "RSV2 not allowed")));
        assertEquals("invalid payload", Bridge.violation(CloseStatus.of(1007, "")));
        assertEquals("frame too big: 'x'", Bridge.violation(CloseStatus.of(1009, "\"x\"")));
        assertEquals("protocol violation 1011", Bridge.violation(CloseStatus.of(1011, "")));
    }

    @Test
    void failedSendToBackendCountsAsBackendLost() {
        Connection c = harness.connect();

        c.client.sendText("hello");
        c.backend.channel.nextSent().failWith(new IOException("broken pipe"));

        c.client.channel.assertClosedOnceWith(BACKEND_UNAVAILABLE);
    }

    @Test
    void failedSendToClientCountsAsClientLost() {
        Connection c = harness.connect();

        c.backend.sendBinary(new byte[] {1}, true);
        c.client.channel.nextSent().failWith(new IOException("broken pipe"));

        c.backend.channel.assertClosedOnceWith(CLIENT_GONE);
    }

    @Test
    void lostLegEndsTheBridgeOnceTheOtherLegAnswers() {
        Connection c = harness.connect();

        c.backend.drop();
        assertFalse(c.bridge.closed().isDone());
        c.client.echoClose();

        assertTrue(c.bridge.closed().isDone());
    }

    // ---- reserved codes ----

    @Test
    void reservedCodeFromBackendReachesClientAs1011() {
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(1015, "tls"));

        assertEquals(1011, c.client.channel.closes().get(0).code());
    }

    @Test
    void reservedCodeFromClientReachesBackendAs1011() {
        Connection c = harness.connect();

        c.client.sendClose(CloseStatus.of(1004));

        assertEquals(1011, c.backend.channel.closes().get(0).code());
    }

    @Test
    void reservedCodeIsNotEchoedToTheBackendWhenTheClientNeverAnswers() {
        harness = BridgeHarness.create(BridgeHarness.quiet().closeTimeout(Duration.ofMillis(100)).build());
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(1015, "tls"));
        harness.advance(Duration.ofMillis(100));
        assertEquals(1, c.client.channel.aborts());
        assertTrue(c.bridge.closed().isDone());

        // assertNoViolations() in @AfterEach also fails on any reserved code sent
        for (CloseStatus sent : c.backend.channel.closes()) {
            assertTrue(sent.isTransmittable() || sent.code() == 1005, "backend was sent " + sent);
        }
    }

    @Test
    void reservedCodeInTheClientsAnswerIsNotPassedToTheBackend() {
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(4000, "bye"));
        c.client.sendClose(CloseStatus.of(1015, "tls"));

        for (CloseStatus sent : c.backend.channel.closes()) {
            assertTrue(sent.isTransmittable() || sent.code() == 1005, "backend was sent " + sent);
        }
    }

    // ---- once per side ----

    @Test
    void closeReachesEachLegOnceWhateverEventsFollow() {
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(4000, "bye"));
        c.backend.error(new IOException("late error"));
        assertFalse(harness.gateway().connections().close(c.id(), CloseStatus.of(4001, "kick")).toCompletableFuture().join());
        c.bridge.drain();
        c.client.sendClose(CloseStatus.of(4000, "bye"));
        c.client.drop();

        c.client.channel.assertClosedOnceWith(CloseStatus.of(4000, "bye"));
        assertTrue(c.backend.channel.closes().size() <= 1, "backend got " + c.backend.channel.closes());
    }

    @Test
    void aSecondCloseEventFromTheSameLegIsIgnored() {
        Connection c = harness.connect();

        c.client.sendClose(CloseStatus.of(4000, "first"));
        c.client.sendClose(CloseStatus.of(4001, "second"));
        c.client.drop();

        c.backend.channel.assertClosedOnceWith(CloseStatus.of(4000, "first"));
    }

    @Test
    void gatewayCloseIsSentOnceEvenWhenBothLegsCloseAfterwards() {
        Connection c = harness.connect();

        assertTrue(harness.gateway().connections().close(c.id(), CloseStatus.of(4000, "kick")).toCompletableFuture().join());
        c.client.sendClose(CloseStatus.of(4000, "kick"));
        c.backend.sendClose(CloseStatus.of(1001, ""));

        c.client.channel.assertClosedOnceWith(CloseStatus.of(4000, "kick"));
        c.backend.channel.assertClosedOnceWith(GOING_AWAY);
        assertTrue(c.bridge.closed().isDone());
    }

    @Test
    void noCloseIsSentToABackendLostWhileItAwaitedItsReply() {
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(4000, "bye"));
        c.backend.drop();
        c.client.sendClose(CloseStatus.of(4000, "bye"));

        assertEquals(List.of(), c.backend.channel.closes(), "close() called on a leg already reported lost");
        assertTrue(c.bridge.closed().isDone());
    }

    @Test
    void dataCrossingTheGatewaysCloseIsNotRelayedToALegAlreadyClosing() {
        Connection c = harness.connect();

        harness.gateway().connections().close(c.id(), CloseStatus.of(4000, "kick")).toCompletableFuture().join();
        RecordingCompletion release = c.backend.sendBinary(new byte[] {1}, true);

        assertTrue(c.client.channel.sent().isEmpty(), "relayed to a client that was sent CLOSE");
        assertTrue(release.succeededOnce(), "a dropped frame is still released");
        assertEquals(1, c.backend.channel.unusedDemand(), "and the leg is read on");
    }

    // ---- close timeout ----

    @Test
    void clientThatNeverAnswersTheCloseIsAbortedAndTheBackendGetsItsOwnStatusBack() {
        harness = BridgeHarness.create(BridgeHarness.quiet().closeTimeout(Duration.ofMillis(100)).build());
        Connection c = harness.connect();

        c.backend.sendClose(CloseStatus.of(4000, "bye"));
        harness.advance(Duration.ofMillis(99));
        assertEquals(0, c.client.channel.aborts(), "gave up before the close timeout");
        assertTrue(c.backend.channel.closes().isEmpty());

        harness.advance(Duration.ofMillis(1));
        assertEquals(1, c.client.channel.aborts());
        assertEquals(List.of(CloseStatus.of(4000, "bye")), c.backend.channel.closes());
        assertTrue(c.bridge.closed().isDone());
        assertEquals(0, c.backend.channel.aborts());
    }

    @Test
    void legsThatNeverAnswerTheGatewaysCloseAreAborted() {
        harness = BridgeHarness.create(BridgeHarness.quiet().closeTimeout(Duration.ofMillis(100)).build());
        Connection c = harness.connect();

        harness.gateway().connections().close(c.id(), CloseStatus.of(4000, "kick")).toCompletableFuture().join();
        harness.advance(Duration.ofMillis(99));
        assertFalse(c.bridge.closed().isDone(), "gave up before the close timeout");
        harness.advance(Duration.ofMillis(1));

        assertEquals(1, c.client.channel.aborts());
        assertEquals(1, c.backend.channel.aborts());
        assertTrue(c.bridge.closed().isDone());
    }

    @Test
    void onlyTheSilentLegIsAbortedAfterTheCloseTimeout() {
        harness = BridgeHarness.create(BridgeHarness.quiet().closeTimeout(Duration.ofMillis(100)).build());
        Connection c = harness.connect();

        harness.gateway().connections().close(c.id(), CloseStatus.of(4000, "kick")).toCompletableFuture().join();
        c.client.echoClose();
        harness.advance(Duration.ofMillis(100));

        assertEquals(1, c.backend.channel.aborts());
        assertTrue(c.bridge.closed().isDone());
        assertEquals(0, c.client.channel.aborts());
    }

    // ---- message too big ----

    @Test
    void tooBigMessageFromClientCloses1009ToClientAnd1001ToBackend() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxMessageSize(10).build());
        Connection c = harness.connect();

        c.client.sendText("12345678901");

        assertEquals(List.of(CloseStatus.MESSAGE_TOO_BIG), c.client.channel.closes());
        assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
        assertTrue(c.backend.channel.sent().isEmpty(), "the oversized message was relayed");
    }

    @Test
    void tooBigMessageFromBackendCloses1009ToBackendAnd1001ToClient() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxMessageSize(10).build());
        Connection c = harness.connect();

        RecordingCompletion release = c.backend.sendBinary(new byte[11], true);

        assertEquals(List.of(CloseStatus.MESSAGE_TOO_BIG), c.backend.channel.closes());
        assertEquals(List.of(1001), c.client.channel.closes().stream().map(CloseStatus::code).toList());
        assertTrue(c.client.channel.sent().isEmpty());
        assertTrue(release.succeededOnce(), "the adapter's buffer is released");
    }

    @Test
    void tooBigMessageIsDetectedAcrossFragments() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxMessageSize(10).build());
        Connection c = harness.connect();

        c.client.sendBinary(new byte[6], false);
        c.backend.channel.nextSent().succeed();
        c.client.sendBinary(new byte[6], true);

        assertEquals(1, c.backend.channel.sent().size(), "only the first fragment was relayed");
        assertEquals(List.of(CloseStatus.MESSAGE_TOO_BIG), c.client.channel.closes());
        assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
    }

    @Test
    void tooBigTextFromBackendIsDetectedAcrossFragments() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxMessageSize(10).build());
        Connection c = harness.connect();

        c.backend.sendText("123456", false);
        c.client.channel.nextSent().succeed();
        c.backend.sendText("7890", false);
        c.client.channel.nextSent().succeed();
        c.backend.sendText("1", true);

        assertEquals(List.of(CloseStatus.MESSAGE_TOO_BIG), c.backend.channel.closes());
        assertEquals(List.of(1001), c.client.channel.closes().stream().map(CloseStatus::code).toList());
    }

    @Test
    void messageExactlyAtTheLimitIsRelayedAndTheLimitIsPerMessage() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxMessageSize(10).build());
        Connection c = harness.connect();

        for (int i = 0; i < 3; i++) {
            c.client.sendBinary(new byte[6], false);
            c.backend.channel.nextSent().succeed();
            c.client.sendBinary(new byte[4], true);
            c.backend.channel.nextSent().succeed();
        }

        assertEquals(6, c.backend.channel.sent().size());
        assertTrue(c.client.channel.closes().isEmpty());
        assertTrue(c.backend.channel.closes().isEmpty());
    }

    @Test
    void textLimitCountsUtf8Bytes() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxMessageSize(10).build());
        Connection c = harness.connect();

        c.client.sendText("ééééé"); // 10 bytes
        c.backend.channel.nextSent().succeed();
        c.client.sendText("éééééé"); // 6 characters, 12 bytes

        assertEquals(1, c.backend.channel.sent().size());
        assertEquals(List.of(CloseStatus.MESSAGE_TOO_BIG), c.client.channel.closes());
    }

    @Test
    void zeroMaxMessageSizeMeansNoLimit() {
        harness = BridgeHarness.create(BridgeHarness.quiet().maxMessageSize(0).build());
        Connection c = harness.connect();

        c.client.sendBinary(new byte[1 << 20], true);

        assertEquals(1 << 20, c.backend.channel.nextSent().bytes().length);
        assertTrue(c.client.channel.closes().isEmpty());
    }

    // ---- closes around the connect ----

    @Test
    void backendCloseBeforeTheClientLegOpensReachesTheClientWhenItOpens() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        c.connectBackend(null);

        c.backend.sendClose(CloseStatus.of(4000, "not now"));
        c.connectClient();

        c.client.channel.assertClosedOnceWith(CloseStatus.of(4000, "not now"));
        assertEquals(1, c.client.channel.demands(), "one demand, only to read the answer to the CLOSE");
        assertTrue(c.client.channel.sent().isEmpty(), "a closing bridge does not relay");
    }

    @Test
    void backendConnectedAfterARegistryCloseIsRefusedAndClosedWith1001() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        c.bridge.close(CloseStatus.of(4000, "kick"), CloseStatus.GOING_AWAY, "test");

        assertFalse(c.connectBackend(null));
        assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
    }

    @Test
    void backendConnectingAfterTheBridgeGaveUpIsNotLeftOpen() {
        harness = BridgeHarness.create(BridgeHarness.quiet().closeTimeout(Duration.ofMillis(100)).build());
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        harness.gateway().drain(Duration.ZERO);
        harness.advance(Duration.ofMillis(100)); // the close timeout passes while the backend is still being dialled
        assertTrue(c.bridge.closed().isDone());

        assertFalse(c.connectBackend(null));
        c.bridge.abandon("closed before the client upgrade");

        assertEquals(1, c.backend.channel.closes().size() + c.backend.channel.aborts(),
                "the late backend leg was neither closed nor aborted");
    }

    @Test
    void abandonedBridgeClosesTheBackendWith1001AndEndsWhenItAnswers() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        c.connectBackend(null);

        c.bridge.abandon("client upgrade failed");

        assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
        c.backend.echoClose();
        assertTrue(c.bridge.closed().isDone());
    }

    @Test
    void abandonBeforeTheBackendConnectedEndsTheBridgeAtOnce() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());

        c.bridge.abandon("backend dial failed");

        assertTrue(c.bridge.closed().isDone());
        assertEquals(0, harness.gateway().registry().all().size());
    }

    @Test
    void abandonAfterTheBackendStartedTheCloseEndsTheBridgeAtOnce() {
        Connection c = harness.admit(BridgeHarness.request(Ids.next()).build());
        c.connectBackend(null);
        c.backend.sendClose(CloseStatus.of(1000, "bye"));

        c.bridge.abandon("client upgrade failed");

        assertEquals(1, c.backend.channel.closes().size(), "the backend's CLOSE is answered");
        assertTrue(c.bridge.closed().isDone(), "the bridge lingers until the close timeout");
    }

    @Test
    void frameInFlightWhenTheBackendClosesStillCompletesNormally() {
        Connection c = harness.connect();

        c.client.sendText("in flight");
        Sent inFlight = c.backend.channel.nextSent();
        c.backend.sendClose(CloseStatus.of(1000, ""));
        inFlight.succeed();
        c.client.echoClose();

        assertTrue(c.bridge.closed().isDone());
        assertEquals(1, c.backend.channel.sent().size());
    }
}
