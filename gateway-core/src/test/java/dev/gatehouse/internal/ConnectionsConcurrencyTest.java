package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.Audience;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Connections;
import dev.gatehouse.Delivery;
import dev.gatehouse.Message;
import dev.gatehouse.internal.BridgeHarness.Connection;
import dev.gatehouse.internal.FakeChannel.Sent;

/**
 * Sends to a group racing joins, leaves and closes of other connections, on real threads. Every client
 * channel completes its writes on the writing thread, so the outbound queues drain as fast as they fill.
 */
class ConnectionsConcurrencyTest {

    private static final String ROOM = "room";
    private static final int SENDERS = 4;
    private static final int SENDS_PER_SENDER = 2_500;
    private static final int STAYING = 6;
    private static final int CHURNERS = 3;
    private static final int CYCLES_PER_CHURNER = 150;
    private static final int EARLY_PER_CHURNER = 3;
    /** How many of its own connections a churner keeps in the room at once. */
    private static final int WINDOW = 12;

    private final BridgeHarness harness = BridgeHarness.create();
    private final Connections connections = harness.gateway().connections();
    private final ExecutorService pool = Executors.newFixedThreadPool(SENDERS + CHURNERS);

    @AfterEach
    void stopThePoolAndCheckTheChannelContract() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(FakeChannel.WAIT_SECONDS, TimeUnit.SECONDS), "the pool did not stop");
        harness.assertNoViolations();
    }

    /** An open connection whose client reads at once, in the room. */
    private Connection member() {
        Connection c = harness.connect();
        c.client.channel.completeSendsAtOnce();
        assertTrue(connections.join(c.id(), ROOM).toCompletableFuture().join());
        return c;
    }

    @Test
    void everyStayingMemberGetsEveryGroupMessageOnceAndInOrderWhileOthersJoinLeaveAndClose() throws Exception {
        List<Connection> staying = new ArrayList<>();
        for (int i = 0; i < STAYING; i++) {
            staying.add(member());
        }
        List<Connection> transients = new CopyOnWriteArrayList<>();
        List<Connection> early = new ArrayList<>();
        for (int i = 0; i < CHURNERS * EARLY_PER_CHURNER; i++) {
            early.add(member()); // in the room when the sends start; each leaves or closes while they run
        }
        transients.addAll(early);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> work = new ArrayList<>();

        for (int s = 0; s < SENDERS; s++) {
            int sender = s;
            work.add(pool.submit((Callable<Void>) () -> {
                await(start);
                for (int n = 0; n < SENDS_PER_SENDER; n++) {
                    Delivery d = connections.send(Audience.group(ROOM), Message.text(sender + ":" + n))
                            .toCompletableFuture().join();
                    if (d.recipients() < STAYING || d.refused() != 0) {
                        throw new AssertionError("send " + sender + ":" + n + " gave " + d);
                    }
                }
                return null;
            }));
        }
        for (int t = 0; t < CHURNERS; t++) {
            List<Connection> mine = early.subList(t * EARLY_PER_CHURNER, (t + 1) * EARLY_PER_CHURNER);
            work.add(pool.submit((Callable<Void>) () -> {
                await(start);
                ArrayDeque<Connection> window = new ArrayDeque<>();
                for (int cycle = 0; cycle < CYCLES_PER_CHURNER; cycle++) {
                    if (cycle < mine.size()) {
                        leaveOrClose(mine.get(cycle), cycle);
                    }
                    Connection c = member(); // joins while the sends run
                    transients.add(c);
                    window.add(c);
                    if (cycle % 3 == 0) {
                        assertTrue(connections.leave(c.id(), ROOM).toCompletableFuture().join());
                        assertTrue(connections.join(c.id(), ROOM).toCompletableFuture().join());
                    }
                    if (window.size() > WINDOW) {
                        leaveOrClose(window.poll(), cycle);
                    }
                }
                for (int i = 0; !window.isEmpty(); i++) {
                    leaveOrClose(window.poll(), i);
                }
                return null;
            }));
        }

        start.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FakeChannel.WAIT_SECONDS);
        for (Future<?> f : work) {
            try {
                f.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("the workers did not finish within " + FakeChannel.WAIT_SECONDS + " s", e);
            } catch (ExecutionException e) {
                throw new AssertionError("a worker failed", e.getCause());
            }
        }

        for (Connection c : staying) {
            Map<Integer, List<Integer>> bySender = received(c);
            for (int s = 0; s < SENDERS; s++) {
                List<Integer> seqs = bySender.getOrDefault(s, List.of());
                assertEquals(SENDS_PER_SENDER, seqs.size(), "messages of sender " + s + " to " + c.id());
                for (int n = 0; n < SENDS_PER_SENDER; n++) {
                    if (seqs.get(n) != n) {
                        throw new AssertionError("member " + c.id() + " got message " + seqs.get(n) + " of sender " + s
                                + " where " + n + " was due");
                    }
                }
            }
        }
        for (Connection c : transients) {
            received(c).forEach((sender, seqs) -> {
                for (int i = 1; i < seqs.size(); i++) {
                    if (seqs.get(i) <= seqs.get(i - 1)) {
                        throw new AssertionError("connection " + c.id() + " got message " + seqs.get(i) + " of sender "
                                + sender + " after " + seqs.get(i - 1));
                    }
                }
            });
        }
        List<String> members = connections.ids(Audience.group(ROOM)).toCompletableFuture().join();
        assertEquals(staying.stream().map(Connection::id).sorted().toList(), members.stream().sorted().toList(),
                "the room's members once every transient connection closed or left");
        assertEquals(Set.of(ROOM), harness.gateway().registry().indexedGroups());

        connections.close(Audience.all(), CloseStatus.of(1001, "done")).toCompletableFuture().join();
        for (Connection c : staying) {
            c.bothAnswerTheirClose();
        }
        for (Connection c : transients) {
            if (!c.bridge.closed().isDone()) {
                c.bothAnswerTheirClose();
            }
        }
        assertEquals(List.of(), harness.gateway().registry().all(), "connections left once all closed");
        assertEquals(Set.of(), harness.gateway().registry().indexedGroups(), "a closed connection left a group entry");
    }

    /** Takes the connection out of the room: every other one leaves and stays open, the rest close and end. */
    private void leaveOrClose(Connection c, int cycle) {
        if (cycle % 2 == 0) {
            assertTrue(connections.leave(c.id(), ROOM).toCompletableFuture().join());
            return;
        }
        assertTrue(connections.close(c.id(), CloseStatus.of(4000, "churn")).toCompletableFuture().join());
        // The client's CLOSE follows the messages queued before it, which a sender thread may still be writing.
        assertEquals(CloseStatus.of(4000, "churn"), c.client.channel.awaitClose());
        c.bothAnswerTheirClose();
        assertTrue(c.bridge.closed().isDone(), "the connection did not end once both legs answered");
    }

    /** The sequence numbers each sender's messages arrived with, in arrival order. */
    private static Map<Integer, List<Integer>> received(Connection c) {
        Map<Integer, List<Integer>> bySender = new TreeMap<>();
        for (Sent s : c.client.channel.sent()) {
            String text = s.text();
            int colon = text.indexOf(':');
            bySender.computeIfAbsent(Integer.parseInt(text.substring(0, colon)), k -> new ArrayList<>())
                    .add(Integer.parseInt(text.substring(colon + 1)));
        }
        return bySender;
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(FakeChannel.WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("the start signal did not come");
        }
    }
}
