package dev.gatehouse.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.websocket.api.Callback;

/**
 * The management scenarios ({@link Scenario#FANOUT}, {@link Scenario#POST_CONNECTION}): closed loops of POSTs on
 * the gateway's HTTP management API, whose messages reach the load generator's connections to the gateway's push
 * route ({@link GatewayRole#PUSH_PATH}).
 *
 * <p>Each run opens its connections, then learns each one's id as the management API knows it: every connection
 * sends one message, which the route's integration answers with the connection's id. Then:
 * <ul>
 * <li>{@link Scenario#FANOUT}: every connection joins a group of the run's own
 * ({@code PUT /groups/{g}/connections/{id}}, 64 at a time, each answered 204), and {@code GET /groups/{g}} must
 * list exactly the run's connections. Then {@code inFlight} loops each POST to {@code /groups/{g}/:send}, and
 * send the next once the POST was answered 202 with {@code X-Gatehouse-Recipients} the group's size (none
 * refused) and every member received the message.</li>
 * <li>{@link Scenario#POST_CONNECTION}: each connection has {@code inFlight} loops that POST to
 * {@code /@connections/{id}}, each sending the next once the POST was answered 200 and the connection received
 * the message.</li>
 * </ul>
 * Every message is {@code size} characters of text ({@code text/plain}) that begin with its loop's number and a
 * sequence number unique in the run, so that each client tells a first delivery from a duplicate, and a message
 * meant for it from one that is not.
 *
 * <p>Records {@code rate} (deliveries per second: messages received by the clients, duplicates not counted),
 * {@code posts} (POSTs per second, each complete: answered and received by all its recipients),
 * {@code deliveries}, {@code seconds}, each process's CPU per delivery ({@link Run.Cpu#perUnit}), the
 * gateway's CPU per POST ({@code cpu.gateway.post}), {@code members} (connections), the time from each POST's
 * send to its completion over the measured interval in µs ({@code p50}, {@code p90}, {@code p99}: a closed
 * loop, so the POSTs' own latency), and over the whole run, once
 * the loops have stopped and drained: {@code lost} (messages answered as delivered that a recipient never got),
 * {@code duplicated} and {@code strays} (messages a connection got that were not meant for it). Any of those
 * three not zero, a POST answered otherwise, a failed exchange, or a loop still waiting 10 s after the end is an
 * error of the run.
 */
final class PushLoad {

    /** The content type of the POSTed messages: they reach the clients as text. */
    static final String TEXT = "text/plain; charset=utf-8";
    /** How many setup requests (the fan-out's joins) are in flight at once. */
    static final int PARALLEL_SETUP = 64;
    /** The message's head: the loop's number, a space, the sequence number, a space. */
    static final int HEAD = 20;
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(60);
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private final boolean fanout;
    private final int size;
    private final LongAdder deliveries = new LongAdder();
    private final LongAdder posts = new LongAdder();
    private final LongAdder duplicated = new LongAdder();
    private final LongAdder strays = new LongAdder();
    private final LongAdder wrongAnswers = new LongAdder(); // POSTs answered otherwise than expected
    private final LongAdder failures = new LongAdder();     // exchanges that failed
    private final AtomicLong nextSeq = new AtomicLong();
    private final AtomicInteger active = new AtomicInteger(); // loops still posting, then loops not yet finished
    private final BitSet answered = new BitSet(); // sequence numbers answered as expected; guarded by itself
    private final Recorder latency = new Recorder(TimeUnit.SECONDS.toNanos(60), 3); // POST to completion, ns
    private volatile String firstWrong;            // the first unexpected answer or failure, for the error
    private volatile Loop[] loops = new Loop[0];   // set once, before the first POST
    private volatile boolean running = true;
    private int recipients;                        // members who get each message; set before the first POST
    private ManagementClient api;                  // set before the first POST

    private PushLoad(boolean fanout, int size) {
        this.fanout = fanout;
        this.size = Math.max(size, HEAD);
    }

    static Sample run(Run run, ManagementClient.Access access) throws InterruptedException {
        return run(run, access, access);
    }

    /**
     * Runs the scenario with the connections on {@code access}'s node and the POSTs to {@code postTo}'s
     * management API: the same node, or another node of its cluster.
     */
    static Sample run(Run run, ManagementClient.Access access, ManagementClient.Access postTo) throws InterruptedException {
        Scenario s = run.scenario();
        Sample sample = run.sample();
        if (access == null || postTo == null) {
            sample.error("the gateway serves no management API");
            return sample;
        }
        boolean fanout = s.kind() == Scenario.Kind.FANOUT;
        PushLoad load = new PushLoad(fanout, s.size());
        int loopCount = fanout ? s.inFlight() : run.connections() * s.inFlight();
        try (LoadClient client = new LoadClient();
                ManagementClient api = new ManagementClient(postTo, Math.max(PARALLEL_SETUP, loopCount))) {
            load.api = api;
            LoadClient.Opened<PushConn> opened = client.openAll(run.connections(), i -> new PushConn(load), run.uri(),
                    SETUP_TIMEOUT);
            if (opened.failed() > 0) {
                sample.error(opened.failed() + " of " + run.connections() + " connections failed to open");
            }
            List<PushConn> conns = learnIds(opened.open(), sample);
            sample.put("members", conns.size());
            if (!postTo.equals(access) && sample.errors().isEmpty()) {
                awaitDirectory(api, conns, sample);
            }
            if (conns.isEmpty() || !sample.errors().isEmpty()) {
                LoadClient.closeAll(opened.open(), Duration.ofSeconds(10));
                return sample;
            }
            Loop[] loops = new Loop[loopCount];
            if (fanout) {
                String group = "bench-" + run.round() + "-" + Long.toHexString(System.nanoTime());
                if (!join(api, group, conns, sample)) {
                    LoadClient.closeAll(opened.open(), Duration.ofSeconds(10));
                    return sample;
                }
                URI send = api.uri("/groups/" + group + "/:send");
                for (int i = 0; i < loopCount; i++) {
                    loops[i] = new Loop(i, null, send);
                }
                load.recipients = conns.size();
            } else {
                for (int i = 0; i < loopCount; i++) {
                    PushConn to = conns.get(i / s.inFlight());
                    loops[i] = new Loop(i, to, api.uri("/@connections/" + to.id.join()));
                }
                load.recipients = 1;
            }
            load.loops = loops;
            load.active.set(loopCount);
            for (Loop l : loops) {
                load.post(l);
            }
            Thread.sleep(run.warmup().toMillis());
            long d0 = load.deliveries.sum();
            long p0 = load.posts.sum();
            Run.Cpu cpu0 = run.cpu();
            load.latency.getIntervalHistogram(); // drops the warm-up's
            Thread.sleep(run.duration().toMillis());
            long d1 = load.deliveries.sum();
            long p1 = load.posts.sum();
            Run.Cpu cpu1 = run.cpu();
            Histogram h = load.latency.getIntervalHistogram();
            load.running = false;
            double seconds = (cpu1.at() - cpu0.at()) / 1e9;
            sample.put("rate", (d1 - d0) / seconds);
            sample.put("posts", (p1 - p0) / seconds);
            sample.put("deliveries", d1 - d0);
            sample.put("seconds", seconds);
            cpu1.perUnit(cpu0, d1 - d0, sample);
            if (p1 > p0) {
                sample.put("cpu.gateway.post", (cpu1.gateway() - cpu0.gateway()) / 1e3 / (p1 - p0));
                if (run.peer() != null) {
                    sample.put("cpu.nodes.post", (cpu1.gateway() - cpu0.gateway() + cpu1.peer() - cpu0.peer()) / 1e3 / (p1 - p0));
                }
            }
            percentiles(h, sample);
            run.threads(sample);

            long drainBy = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (load.active.get() > 0 && System.nanoTime() < drainBy) {
                Thread.sleep(10);
            }
            load.check(conns, sample);
            LoadClient.closeAll(opened.open(), Duration.ofSeconds(10));
        }
        return sample;
    }

    /**
     * Has every connection ask for its id, and waits for the answers.
     *
     * @return the connections that learned theirs; an error in the sample for any that did not, or for an id
     *         given twice
     */
    private static List<PushConn> learnIds(List<PushConn> open, Sample sample) throws InterruptedException {
        long start = System.nanoTime();
        for (PushConn c : open) {
            c.getSession().sendText("id", Callback.NOOP);
        }
        long deadline = start + SETUP_TIMEOUT.toNanos();
        List<PushConn> known = new ArrayList<>(open.size());
        Set<String> ids = new HashSet<>();
        int missing = 0;
        for (PushConn c : open) {
            try {
                String id = c.id.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (ids.add(id)) {
                    known.add(c);
                } else {
                    sample.error("two connections were told the same id " + id);
                }
            } catch (TimeoutException | ExecutionException e) {
                missing++;
            }
        }
        if (missing > 0) {
            sample.error(missing + " of " + open.size() + " connections did not learn their id");
        }
        sample.put("setup.ids.seconds", (System.nanoTime() - start) / 1e9);
        return known;
    }

    /**
     * Records a histogram of nanoseconds as {@code p50}, {@code p90} and {@code p99} in µs, and its count as
     * {@code latency.count}; nothing when it is empty.
     */
    static void percentiles(Histogram h, Sample sample) {
        sample.put("latency.count", h.getTotalCount());
        if (h.getTotalCount() == 0) {
            return;
        }
        sample.put("p50", h.getValueAtPercentile(50) / 1e3);
        sample.put("p90", h.getValueAtPercentile(90) / 1e3);
        sample.put("p99", h.getValueAtPercentile(99) / 1e3);
    }

    /**
     * Waits until the node the POSTs go to knows every connection: {@code GET /@connections/{id}} answered 200
     * for each (its directory learns of another node's connections a moment after they open).
     *
     * @return whether it did within the setup timeout; if not, the sample holds an error
     */
    private static boolean awaitDirectory(ManagementClient api, List<PushConn> conns, Sample sample)
            throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + SETUP_TIMEOUT.toNanos();
        List<PushConn> unknown = new ArrayList<>(conns);
        int lastStatus = 0;
        while (!unknown.isEmpty()) {
            PushConn c = unknown.get(unknown.size() - 1);
            try {
                lastStatus = api.exchange(HttpMethod.GET, "/@connections/" + c.id.join(), null, null)
                        .get(ManagementClient.TIMEOUT_MS, TimeUnit.MILLISECONDS).getStatus();
            } catch (ExecutionException | TimeoutException e) {
                lastStatus = -1;
            }
            if (lastStatus == 200) {
                unknown.remove(unknown.size() - 1);
            } else if (System.nanoTime() > deadline) {
                sample.error(unknown.size() + " of " + conns.size() + " connections still unknown to the other node after "
                        + SETUP_TIMEOUT.toSeconds() + " s (last answer: " + lastStatus + ")");
                return false;
            } else {
                Thread.sleep(20);
            }
        }
        sample.put("setup.directory.seconds", (System.nanoTime() - start) / 1e9);
        return true;
    }

    /**
     * Puts every connection in the group, then checks that the group lists exactly them.
     *
     * @return whether it worked; if not, the sample holds why
     */
    private static boolean join(ManagementClient api, String group, List<PushConn> conns, Sample sample)
            throws InterruptedException {
        long start = System.nanoTime();
        Semaphore permits = new Semaphore(PARALLEL_SETUP);
        AtomicInteger refused = new AtomicInteger();
        AtomicLong firstStatus = new AtomicLong();
        for (PushConn c : conns) {
            permits.acquire();
            api.exchange(HttpMethod.PUT, "/groups/" + group + "/connections/" + c.id.join(), null, null)
                    .whenComplete((answer, failure) -> {
                        int status = failure != null ? -1 : answer.getStatus();
                        if (status != 204) {
                            refused.incrementAndGet();
                            firstStatus.compareAndSet(0, status);
                        }
                        permits.release();
                    });
        }
        if (!permits.tryAcquire(PARALLEL_SETUP, SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            sample.error("the joins to the group did not finish within " + SETUP_TIMEOUT.toSeconds() + " s");
            return false;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        sample.put("setup.joins", conns.size() / seconds);
        if (refused.get() > 0) {
            sample.error(refused.get() + " joins to the group were not answered 204 (the first: "
                    + (firstStatus.get() < 0 ? "failed" : firstStatus.get()) + ")");
            return false;
        }
        Set<String> expected = new HashSet<>();
        for (PushConn c : conns) {
            expected.add(c.id.join());
        }
        try {
            ContentResponse members = api.exchange(HttpMethod.GET, "/groups/" + group, null, null)
                    .get(ManagementClient.TIMEOUT_MS, TimeUnit.MILLISECONDS);
            Set<String> listed = members.getStatus() == 200 ? new HashSet<>(connections(members.getContent())) : Set.of();
            if (!listed.equals(expected)) {
                sample.error("GET /groups/{g} answered " + members.getStatus() + " with " + listed.size()
                        + " connections (expected: 200 with the " + expected.size() + " of the run)");
                return false;
            }
        } catch (ExecutionException | TimeoutException e) {
            sample.error("GET /groups/{g} failed: " + e);
            return false;
        }
        return true;
    }

    /**
     * The ids of {@code GET /groups/{g}}'s answer, {@code {"connections": [ids]}}.
     *
     * @throws IllegalArgumentException if the answer is not such an object
     */
    static List<String> connections(byte[] json) {
        List<String> ids = new ArrayList<>();
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("not a JSON object");
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("connections") && value == JsonToken.START_ARRAY) {
                    for (JsonToken e = p.nextToken(); e == JsonToken.VALUE_STRING; e = p.nextToken()) {
                        ids.add(p.getText());
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        return ids;
    }

    /** The message of a loop's sequence number: its head, then filler up to {@code size} characters. */
    static String message(int loop, long seq, int size) {
        StringBuilder b = new StringBuilder(Math.max(size, HEAD));
        pad(b, loop, 6).append(' ');
        pad(b, seq, 12).append(' ');
        while (b.length() < size) {
            b.append((char) ('a' + b.length() % 26));
        }
        return b.toString();
    }

    private static StringBuilder pad(StringBuilder b, long n, int digits) {
        String s = Long.toString(n);
        if (s.length() > digits) {
            throw new IllegalArgumentException("n: " + n + " (expected: at most " + digits + " digits)");
        }
        for (int i = s.length(); i < digits; i++) {
            b.append('0');
        }
        return b.append(s);
    }

    /** Starts a loop's next POST. */
    private void post(Loop l) {
        long seq = nextSeq.getAndIncrement();
        l.remaining.set(recipients + 1); // every recipient's delivery, and the answer
        l.sent = System.nanoTime();
        l.seq = seq;                      // published after remaining: a delivery reads seq first
        if (l.to != null) {
            l.to.address(seq);
        }
        api.post(l.uri, TEXT, message(l.index, seq, size).getBytes(StandardCharsets.UTF_8), new Answer(l, seq));
    }

    /** A client got a message; on any thread, one message of a connection at a time. */
    void received(PushConn c, String text) {
        int index;
        long seq;
        try {
            if (text.length() != size || text.charAt(6) != ' ' || text.charAt(HEAD - 1) != ' ') {
                strays.increment();
                return;
            }
            index = Integer.parseInt(text, 0, 6, 10);
            seq = Long.parseLong(text, 7, HEAD - 1, 10);
        } catch (NumberFormatException e) {
            strays.increment();
            return;
        }
        Loop[] all = loops;
        if (index >= all.length || seq >= nextSeq.get()) {
            strays.increment();
            return;
        }
        if (!c.see(seq)) {
            duplicated.increment();
            return;
        }
        Loop l = all[index];
        if (l.seq != seq || (l.to != null && l.to != c)) {
            strays.increment();
            return;
        }
        deliveries.increment();
        if (l.remaining.decrementAndGet() == 0) {
            completed(l);
        }
    }

    private void answered(Loop l, long seq, Result result) {
        if (result.isFailed()) { // this loop stops: no loop of failures
            failures.increment();
            note("a POST failed: " + result.getFailure());
            active.decrementAndGet();
            return;
        }
        Response r = result.getResponse();
        boolean ok = fanout
                ? r.getStatus() == 202 && Integer.toString(recipients).equals(r.getHeaders().get("X-Gatehouse-Recipients"))
                        && "0".equals(r.getHeaders().get("X-Gatehouse-Refused"))
                : r.getStatus() == 200;
        if (!ok) {
            wrongAnswers.increment();
            note("a POST was answered " + r.getStatus() + (fanout ? " with " + r.getHeaders().get("X-Gatehouse-Recipients")
                    + " recipients and " + r.getHeaders().get("X-Gatehouse-Refused") + " refused" : ""));
            active.decrementAndGet();
            return;
        }
        synchronized (answered) {
            answered.set(Math.toIntExact(seq));
        }
        if (l.remaining.decrementAndGet() == 0) {
            completed(l);
        }
    }

    /** A loop's POST was answered and received by all its recipients: the next one goes, unless the run ended. */
    private void completed(Loop l) {
        latency.recordValue(Math.min(System.nanoTime() - l.sent, TimeUnit.SECONDS.toNanos(60)));
        posts.increment();
        if (running) {
            post(l);
        } else {
            active.decrementAndGet();
        }
    }

    private void note(String what) {
        if (firstWrong == null) {
            firstWrong = what;
        }
    }

    /** Once the loops stopped: records what was lost, duplicated or stray, and every problem as an error. */
    private void check(List<PushConn> conns, Sample sample) {
        BitSet ok;
        synchronized (answered) {
            ok = (BitSet) answered.clone();
        }
        long lost = lost(ok, conns, fanout);
        sample.put("lost", lost);
        sample.put("duplicated", duplicated.sum());
        sample.put("strays", strays.sum());
        if (active.get() > 0) {
            sample.error(active.get() + " POSTs not answered and received by all their recipients within 10 s of the end");
        }
        if (lost > 0) {
            sample.error(lost + " messages answered as sent never reached their client");
        }
        if (duplicated.sum() > 0) {
            sample.error(duplicated.sum() + " messages reached a client twice");
        }
        if (strays.sum() > 0) {
            sample.error(strays.sum() + " messages reached a client they were not meant for");
        }
        if (wrongAnswers.sum() > 0) {
            sample.error(wrongAnswers.sum() + " POSTs answered otherwise than expected; " + firstWrong);
        }
        if (failures.sum() > 0) {
            sample.error(failures.sum() + " POSTs failed; " + firstWrong);
        }
    }

    /**
     * How many deliveries are missing: of the messages answered as sent ({@code ok}), those a connection meant to
     * get did not: every one for a group's member ({@code toAll}), those addressed to it otherwise.
     */
    static long lost(BitSet ok, List<PushConn> conns, boolean toAll) {
        long lost = 0;
        for (PushConn c : conns) {
            lost += c.missing(ok, toAll);
        }
        return lost;
    }

    /** One closed loop: one POST in flight at a time, to one connection or to the group. */
    private static final class Loop {
        private final int index;
        private final PushConn to;   // the connection it posts to, or null for the group
        private final URI uri;
        private final AtomicInteger remaining = new AtomicInteger(); // deliveries and the answer still awaited
        private volatile long seq = -1; // the POST in flight's sequence number
        private volatile long sent;     // when the POST in flight was sent, by System.nanoTime()

        Loop(int index, PushConn to, URI uri) {
            this.index = index;
            this.to = to;
            this.uri = uri;
        }
    }

    /** Reads one POST's answer, ignoring its body; Jetty calls it for one exchange. */
    private final class Answer implements Response.Listener {
        private final Loop loop;
        private final long seq;

        Answer(Loop loop, long seq) {
            this.loop = loop;
            this.seq = seq;
        }

        @Override
        public void onContent(Response response, ByteBuffer content) {
            content.position(content.limit());
        }

        @Override
        public void onComplete(Result result) {
            answered(loop, seq, result);
        }
    }

    /**
     * A connection to the push route: its first message is its id (the answer to its one question); every later
     * one goes to the load. Public, as Jetty requires of endpoint classes.
     */
    public static final class PushConn extends LoadClient.Conn {
        private final PushLoad load;
        private final CompletableFuture<String> id = new CompletableFuture<>();
        private final BitSet seen = new BitSet();      // sequence numbers received; guarded by this
        private final BitSet addressed = new BitSet(); // sequence numbers POSTed to this connection; guarded by this

        PushConn(PushLoad load) {
            this.load = load;
        }

        @Override
        public void onWebSocketText(String message) {
            if (!id.isDone()) {
                id.complete(message);
            } else {
                load.received(this, message);
            }
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            callback.succeed();
            load.strays.increment();
        }

        /** Records a delivery; false if this connection had it already. */
        synchronized boolean see(long seq) {
            int i = Math.toIntExact(seq);
            if (seen.get(i)) {
                return false;
            }
            seen.set(i);
            return true;
        }

        /** A POST to this very connection carries this sequence number. */
        synchronized void address(long seq) {
            addressed.set(Math.toIntExact(seq));
        }

        /** Of {@code ok}, how many this connection should have got (all, or those addressed to it) and did not. */
        synchronized long missing(BitSet ok, boolean all) {
            BitSet expected = (BitSet) ok.clone();
            if (!all) {
                expected.and(addressed);
            }
            expected.andNot(seen);
            return expected.cardinality();
        }
    }
}
