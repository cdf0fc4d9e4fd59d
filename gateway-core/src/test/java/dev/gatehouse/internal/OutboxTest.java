package dev.gatehouse.internal;

import static dev.gatehouse.internal.FakeChannel.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.SendResult;
import dev.gatehouse.internal.FakeChannel.Sent;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.Completion;

/**
 * The outbound queue of one leg, against a fake channel whose send completions the test controls. A relayed
 * fragment's completion calls {@link Outbox#relayed()} before anything else, as the bridge's does.
 */
class OutboxTest {

    private final FakeChannel channel = new FakeChannel("client");
    private static final int O = Outbox.MESSAGE_OVERHEAD;
    private final List<Integer> writtenSizes = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Outbox outbox = new Outbox(1 << 20, writtenSizes::add);

    @AfterEach
    void outboxKeptTheChannelContract() {
        assertEquals(List.of(), channel.violations());
    }

    /** Relays a text fragment through the outbox; the returned completion records its outcome. */
    private RecordingCompletion relay(String fragment, boolean last) {
        RecordingCompletion done = new RecordingCompletion();
        outbox.send(true, false, ByteBuffer.wrap(utf8(fragment)), last, new Completion() {
            @Override
            public void succeeded() {
                outbox.relayed();
                done.succeeded();
            }

            @Override
            public void failed(Throwable cause) {
                outbox.relayed();
                done.failed(cause);
            }
        });
        return done;
    }

    private boolean push(String text) {
        return outbox.push(ByteBuffer.wrap(utf8(text)), true) == SendResult.QUEUED;
    }

    /** The texts of every fragment sent so far, in order. */
    private List<String> sentTexts() {
        return channel.sent().stream().map(Sent::text).toList();
    }

    /** Completes the one send in flight, after checking it is the expected text. */
    private void writes(String expected) {
        List<Sent> open = channel.sent().stream().filter(s -> !s.isCompleted()).toList();
        assertEquals(1, open.size(), () -> "sends in flight: " + open);
        assertEquals(expected, open.get(0).text());
        open.get(0).succeed();
    }

    @Test
    void relayedFragmentGoesStraightToTheChannelWhenNothingWaits() {
        outbox.attach(channel);

        RecordingCompletion done = relay("hello", true);

        Sent sent = channel.nextSent();
        assertEquals("hello", sent.text());
        assertTrue(sent.last());
        assertFalse(done.isDone());
        sent.succeed();
        assertTrue(done.succeededOnce());
    }

    @Test
    void pushWhileAFragmentedRelayedMessageIsMidwayWaitsForItsLastFragmentThenGoesBeforeTheNextMessage() {
        outbox.attach(channel);

        relay("a1", false);
        assertTrue(push("P"));
        assertEquals(List.of("a1"), sentTexts(), "the push went inside the fragmented message");

        writes("a1");
        assertEquals(List.of("a1"), sentTexts(), "the push went before the message ended");
        relay("a2", false);
        writes("a2");
        relay("a3", true);
        assertEquals(List.of("a1", "a2", "a3"), sentTexts());

        writes("a3");
        assertEquals(List.of("a1", "a2", "a3", "P"), sentTexts(), "the push goes at the message boundary");
        RecordingCompletion b1 = relay("b1", true);
        assertEquals(List.of("a1", "a2", "a3", "P"), sentTexts(), "the next relayed message waits for the push");

        writes("P");
        assertEquals(List.of("a1", "a2", "a3", "P", "b1"), sentTexts());
        writes("b1");
        assertTrue(b1.succeededOnce());
    }

    @Test
    void binaryFragmentedRelayedMessageAlsoKeepsAPushOutUntilItEnds() {
        outbox.attach(channel);
        Completion relayedDone = new Completion() {
            @Override
            public void succeeded() {
                outbox.relayed();
            }

            @Override
            public void failed(Throwable cause) {
                outbox.relayed();
            }
        };

        outbox.send(false, false, ByteBuffer.wrap(new byte[] {1}), false, relayedDone);
        assertTrue(push("P"));
        channel.nextSent().succeed();
        outbox.send(false, false, ByteBuffer.wrap(new byte[] {2}), true, relayedDone);
        Sent second = channel.nextSent();
        assertArrayEquals(new byte[] {2}, second.bytes());
        assertTrue(second.last());
        second.succeed();

        assertEquals("P", channel.nextSent().text());
    }

    @Test
    void relayedFragmentWaitsWhileAPushIsBeingWritten() {
        outbox.attach(channel);
        assertTrue(push("P"));
        assertEquals(List.of("P"), sentTexts());

        RecordingCompletion done = relay("r", true);
        assertEquals(List.of("P"), sentTexts(), "the relayed fragment went while the push was in flight");
        assertFalse(done.isDone(), "a waiting fragment is not released");

        writes("P");
        assertEquals(List.of("P", "r"), sentTexts());
        writes("r");
        assertTrue(done.succeededOnce());
    }

    @Test
    void pushesAndRelayedMessagesTakeTurnsSoNeitherStarves() {
        outbox.attach(channel);
        relay("r1", true);
        assertTrue(push("P1"));
        assertTrue(push("P2"));
        assertTrue(push("P3"));

        // The relay reads its next message as soon as the previous one was written, as the bridge does.
        writes("r1");
        relay("r2", true);
        writes("P1");
        writes("r2");
        relay("r3", false);
        writes("P2");
        writes("r3");
        relay("r4", true);
        writes("r4");
        writes("P3");

        assertEquals(List.of("r1", "P1", "r2", "P2", "r3", "r4", "P3"), sentTexts(),
                "each side gets every other turn at a message boundary");
    }

    @Test
    void manyWaitingPushesDoNotKeepAWaitingRelayedFragmentOut() {
        outbox.attach(channel);
        for (int i = 0; i < 100; i++) {
            assertTrue(push("P" + i));
        }
        RecordingCompletion relayed = relay("r", true);

        writes("P0");

        assertEquals(List.of("P0", "r"), sentTexts(), "the relayed fragment waited behind more than one push");
        writes("r");
        assertTrue(relayed.succeededOnce());
        writes("P1");
    }

    @Test
    void byteBoundRefusesAPushThatWouldExceedItAndAcceptsAgainOnceBytesWereWritten() {
        outbox = new Outbox(10 + 2 * O, writtenSizes::add);
        outbox.attach(channel);

        assertTrue(push("123456"));
        assertTrue(push("7890"));
        assertEquals(10 + 2 * O, outbox.queuedBytes(), "bytes being written count as well as waiting ones");
        assertFalse(push("x"), "an 11th byte was accepted");
        assertEquals(10 + 2 * O, outbox.queuedBytes(), "a refused push counted");

        writes("123456");
        assertEquals(4 + O, outbox.queuedBytes());
        assertTrue(push("abcdef"));
        assertFalse(push("y"));

        writes("7890");
        writes("abcdef");
        assertEquals(0, outbox.queuedBytes());
        assertEquals(List.of("123456", "7890", "abcdef"), sentTexts(), "a refused push was sent");
    }

    @Test
    void messageLargerThanTheBoundIsRefusedEvenWhenTheQueueIsEmpty() {
        outbox = new Outbox(10 + O, writtenSizes::add);
        outbox.attach(channel);

        assertEquals(SendResult.TOO_LARGE, outbox.push(ByteBuffer.wrap(utf8("12345678901")), true));
        assertEquals(0, outbox.queuedBytes());
        assertTrue(channel.sent().isEmpty());

        assertTrue(push("1234567890"), "a message of exactly the bound fits");
    }

    @Test
    void emptyMessagesCountAgainstTheBoundSoAStalledClientCannotQueueThemWithoutEnd() {
        outbox = new Outbox(3 * O, writtenSizes::add);
        outbox.attach(channel);

        int accepted = 0;
        while (accepted < 1_000 && push("")) {
            accepted++;
        }

        assertEquals(3, accepted, "empty messages queued for a client that reads nothing");
        writes("");
        assertTrue(push(""), "a written empty message gave its room back");
    }

    @Test
    void boundCountsUtf8BytesNotCharacters() {
        outbox = new Outbox(4 + O, writtenSizes::add);
        outbox.attach(channel);

        assertFalse(push("ééé"), "six UTF-8 bytes fit in a bound of four");
        assertTrue(push("éé"));
        assertEquals(4 + O, outbox.queuedBytes());
    }

    @Test
    void repliesOfPoliciesAreNotCountedAgainstTheBound() {
        outbox = new Outbox(1 + O, writtenSizes::add);
        outbox.attach(channel);
        AtomicInteger thens = new AtomicInteger();

        outbox.reply("a reply longer than the bound", thens::incrementAndGet);

        assertEquals("a reply longer than the bound", channel.nextSent().text());
        assertEquals(0, outbox.queuedBytes());
        assertTrue(push("x"), "the reply took the pushes' room");
    }

    @Test
    void replyRunsItsThenOnlyOnceWritten() {
        outbox.attach(channel);
        AtomicInteger thens = new AtomicInteger();

        outbox.reply("rejected", thens::incrementAndGet);
        Sent reply = channel.nextSent();
        assertEquals("rejected", reply.text());
        assertTrue(reply.last());
        assertEquals(0, thens.get(), "then ran before the reply was written");

        reply.succeed();
        assertEquals(1, thens.get());
    }

    @Test
    void replyRunsItsThenWhenItsWriteFails() {
        outbox.attach(channel);
        AtomicInteger thens = new AtomicInteger();

        outbox.reply("rejected", thens::incrementAndGet);
        channel.nextSent().failWith(new IOException("broken pipe"));

        assertEquals(1, thens.get());
    }

    @Test
    void replyWaitsForTheEndOfAFragmentedRelayedMessage() {
        outbox.attach(channel);
        AtomicInteger thens = new AtomicInteger();

        relay("a1", false);
        outbox.reply("reply", thens::incrementAndGet);
        writes("a1");
        relay("a2", true);
        writes("a2");
        writes("reply");

        assertEquals(List.of("a1", "a2", "reply"), sentTexts());
        assertEquals(1, thens.get());
    }

    @Test
    void pushAndReplyTakeTheirTurnsInTheOrderTheyCame() {
        outbox.attach(channel);
        AtomicInteger thens = new AtomicInteger();

        assertTrue(push("P1"));
        outbox.reply("reply", thens::incrementAndGet);
        assertTrue(push("P2"));
        writes("P1");
        writes("reply");
        writes("P2");

        assertEquals(List.of("P1", "reply", "P2"), sentTexts());
        assertEquals(1, thens.get());
    }

    @Test
    void failedPushStillLetsTheNextGoAndFreesItsBytes() {
        outbox = new Outbox(4 + 2 * O, writtenSizes::add);
        outbox.attach(channel);
        assertTrue(push("ab"));
        assertTrue(push("cd"));

        channel.nextSent().failWith(new IOException("reset"));

        assertEquals(2 + O, outbox.queuedBytes(), "the failed push's bytes are still counted");
        assertEquals("cd", channel.nextSent().text());
        assertTrue(push("ef"));
    }

    @Test
    void failedRelayedFragmentStillLetsAWaitingPushGo() {
        outbox.attach(channel);
        RecordingCompletion relayed = relay("r", true);
        assertTrue(push("P"));

        channel.nextSent().failWith(new IOException("reset"));

        assertEquals(1, relayed.calls());
        assertEquals("P", channel.nextSent().text());
    }

    @Test
    void pushesWaitForTheChannelAndGoInOrderOnceItIsAttached() {
        assertTrue(push("P1"));
        assertTrue(push("P2"));

        outbox.attach(channel);
        writes("P1");
        writes("P2");

        assertEquals(List.of("P1", "P2"), sentTexts());
    }

    @Test
    void pushKeepsItsKindTextOrBinary() {
        outbox.attach(channel);

        assertEquals(SendResult.QUEUED, outbox.push(ByteBuffer.wrap(new byte[] {1, 2, 3}), false));
        assertEquals(SendResult.QUEUED, outbox.push(ByteBuffer.wrap(utf8("t")), true));

        Sent binary = channel.nextSent();
        assertArrayEquals(new byte[] {1, 2, 3}, binary.bytes());
        assertTrue(binary.last(), "a push is a whole message");
        binary.succeed();
        assertEquals("t", channel.nextSent().text());
    }

    @Test
    void oneHundredThousandPushesOnAChannelThatCompletesOnTheCallingThreadDoNotRecurse() {
        SynchronousChannel sync = new SynchronousChannel();
        outbox = new Outbox(100_000L * (1 + O), writtenSizes::add);
        outbox.attach(sync);
        RecordingCompletion first = relay("first", true); // held: its completion waits for the test
        int n = 100_000;

        for (int i = 0; i < n; i++) {
            assertEquals(SendResult.QUEUED, outbox.push(ByteBuffer.wrap(new byte[] {(byte) i}), false), "push " + i);
        }
        RecordingCompletion after = relay("after", true);
        assertEquals(1, sync.writes(), "everything waits behind the held relayed fragment");

        sync.completeAtOnceFromNowOn();
        sync.completeHeld();

        assertTrue(first.succeededOnce());
        assertTrue(after.succeededOnce());
        assertEquals(n + 2, sync.writes());
        assertEquals(1, sync.maxNesting(), "a write started inside another write's call");
        assertEquals(0, outbox.queuedBytes());
        assertEquals(List.of(), sync.violations());
        assertEquals(n + 2, sync.order.size());
        assertEquals(-1, sync.order.get(0), "the held relayed fragment first");
        assertEquals(0, sync.order.get(1), "then the pushes, in order, taking turns with the relay");
        assertEquals(-1, sync.order.get(2), "the waiting relayed fragment after one push");
        for (int i = 3; i < n + 2; i++) {
            assertEquals((byte) (i - 2), (byte) (int) sync.order.get(i), "write " + i);
        }
    }

    @Test
    void repliesAndPushesOnAChannelThatCompletesOnTheCallingThreadDoNotRecurse() {
        SynchronousChannel sync = new SynchronousChannel();
        sync.completeAtOnceFromNowOn();
        outbox.attach(sync);
        AtomicInteger thens = new AtomicInteger();

        // Each reply's then pushes the next message from inside the completion, as a chain of sends might.
        int n = 50_000;
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            if (thens.incrementAndGet() < n) {
                outbox.reply("r", next[0]);
            }
        };
        outbox.reply("r", next[0]);

        assertEquals(n, thens.get());
        assertEquals(n, sync.writes());
        assertTrue(sync.maxNesting() <= 1, "writes nested " + sync.maxNesting() + " deep");
    }

    /**
     * A channel that records data writes cheaply and completes them, once told to, inside the send call; it
     * tracks how deeply its send calls nest, which a recursing outbox would drive up.
     */
    private static final class SynchronousChannel implements Channel {
        private final List<Integer> order = new ArrayList<>(); // -1 for text, else the binary's first byte
        private final List<String> violations = new ArrayList<>();
        private final List<Completion> held = new ArrayList<>();
        private boolean atOnce;
        private int inFlight;
        private int nesting;
        private int maxNesting;

        @Override
        public void sendText(ByteBuffer utf8, boolean last, Completion completion) {
            order.add(-1);
            write(completion);
        }

        @Override
        public void sendBinary(ByteBuffer fragment, boolean last, Completion completion) {
            order.add((int) fragment.get(fragment.position()));
            write(completion);
        }

        private void write(Completion completion) {
            nesting++;
            maxNesting = Math.max(maxNesting, nesting);
            if (++inFlight > 1) {
                violations.add("a write started before the previous one completed");
            }
            if (atOnce) {
                inFlight--;
                completion.succeeded();
            } else {
                held.add(completion);
            }
            nesting--;
        }

        void completeAtOnceFromNowOn() {
            atOnce = true;
        }

        void completeHeld() {
            List<Completion> now = new ArrayList<>(held);
            held.clear();
            for (Completion c : now) {
                inFlight--;
                c.succeeded();
            }
        }

        int writes() {
            return order.size();
        }

        int maxNesting() {
            return maxNesting;
        }

        List<String> violations() {
            return violations;
        }

        @Override
        public void sendPing(ByteBuffer payload) {
        }

        @Override
        public void sendPong(ByteBuffer payload, Completion completion) {
            completion.succeeded();
        }

        @Override
        public void close(CloseStatus status) {
        }

        @Override
        public void abort() {
        }

        @Override
        public void demand() {
        }
    }

    @Test
    void closeWaitsForTheMessagesQueuedBeforeIt() {
        outbox.attach(channel);
        assertTrue(push("bye"));
        assertTrue(push("really"));

        outbox.close(() -> channel.close(CloseStatus.of(4000, "kicked")));

        assertTrue(channel.closes().isEmpty(), "the CLOSE went before the queued messages");
        assertFalse(push("late"), "a push after the close was queued");
        writes("bye");
        assertTrue(channel.closes().isEmpty());
        writes("really");
        assertEquals(List.of(CloseStatus.of(4000, "kicked")), channel.closes());
        assertEquals(List.of("bye", "really"), sentTexts());
    }

    @Test
    void closeGoesAtOnceWhenTheRelayWasCutInsideAFragmentedMessageAndDropsTheQueue() {
        outbox.attach(channel);
        relay("a1", false);
        writes("a1");
        assertTrue(push("P"));
        AtomicInteger thens = new AtomicInteger();
        outbox.reply("a reply", thens::incrementAndGet);

        outbox.close(() -> channel.close(CloseStatus.GOING_AWAY));

        assertEquals(List.of(CloseStatus.GOING_AWAY), channel.closes());
        assertEquals(List.of("a1"), sentTexts(), "a gateway message went inside the fragmented message");
        assertEquals(1, thens.get(), "the dropped reply's caller still waits");
        assertEquals(0, outbox.queuedBytes());
    }

    @Test
    void closeWaitsForTheWriteInFlight() {
        outbox.attach(channel);
        relay("r", true);

        outbox.close(() -> channel.close(CloseStatus.NORMAL));

        assertTrue(channel.closes().isEmpty(), "the CLOSE went while a write was in flight");
        writes("r");
        assertEquals(List.of(CloseStatus.NORMAL), channel.closes());
    }

    @Test
    void countsAPushedMessageOnceItIsWrittenAndNotWhenItFails() {
        outbox.attach(channel);
        assertTrue(push("four"));
        assertTrue(push("fail"));

        assertEquals(List.of(), writtenSizes, "counted before it was written");
        writes("four");
        channel.sent().stream().filter(s -> !s.isCompleted()).findFirst().orElseThrow()
                .failWith(new IOException("reset"));

        assertEquals(List.of(4), writtenSizes);
    }
}
