package dev.gatehouse.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;
import org.eclipse.jetty.websocket.api.Callback;

/**
 * The open-loop latency scenario: messages leave at a fixed aggregate rate, round-robin over the
 * connections, whether or not earlier ones came back. Each round trip is measured from the message's
 * <em>intended</em> send time, so a stall delays the measurement of every message that should have left
 * during it (coordinated omission corrected). Records {@code p50}, {@code p90}, {@code p99}, {@code p99.9}
 * and {@code max} in microseconds, {@code sent}, {@code received}, and CPU per message.
 */
final class LatencyLoad {

    private final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3); // guarded by itself
    private final ByteBuffer payload = ByteBuffer.wrap(new byte[Scenario.LATENCY.size()]).asReadOnlyBuffer();
    private final LongAdder sendFailures = new LongAdder();
    private final Callback sent = Callback.from(() -> { }, x -> sendFailures.increment());
    private volatile long measureFrom = Long.MAX_VALUE; // nanoTime from which round trips are recorded
    private volatile long measureUntil = Long.MAX_VALUE;

    private LatencyLoad() {
    }

    static Sample run(Run run) throws InterruptedException {
        Sample sample = run.sample();
        LatencyLoad load = new LatencyLoad();
        try (LoadClient client = new LoadClient()) {
            LoadClient.Opened<LatencyConn> opened = client.openAll(run.connections(), i -> new LatencyConn(load),
                    run.uri(), Duration.ofSeconds(60));
            if (opened.failed() > 0) {
                sample.error(opened.failed() + " of " + run.connections() + " connections failed to open");
            }
            List<LatencyConn> conns = opened.open();
            if (conns.isEmpty()) {
                return sample;
            }
            long period = TimeUnit.SECONDS.toNanos(1) / Scenario.LATENCY_RATE;
            long start = System.nanoTime();
            load.measureFrom = start + run.warmup().toNanos();
            load.measureUntil = load.measureFrom + run.duration().toNanos();
            long end = load.measureUntil;
            Run.Cpu cpu0 = null;
            long sentMeasured = 0;
            for (long i = 0;; i++) {
                long intended = start + i * period;
                if (intended >= end) {
                    break;
                }
                long now = System.nanoTime();
                while (now < intended) {
                    LockSupport.parkNanos(intended - now);
                    now = System.nanoTime();
                }
                if (cpu0 == null && intended >= load.measureFrom) {
                    cpu0 = run.cpu();
                }
                if (intended >= load.measureFrom) {
                    sentMeasured++;
                }
                LatencyConn c = conns.get((int) (i % conns.size()));
                c.pending.add(intended);
                c.getSession().sendBinary(load.payload.slice(), load.sent);
            }
            Run.Cpu cpu1 = run.cpu();
            long drainBy = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (conns.stream().anyMatch(c -> !c.pending.isEmpty()) && System.nanoTime() < drainBy) {
                Thread.sleep(10);
            }
            long unanswered = conns.stream().mapToLong(c -> c.pending.size()).sum();
            Histogram h;
            synchronized (load.histogram) {
                h = load.histogram.copy();
            }
            sample.put("p50", h.getValueAtPercentile(50) / 1e3);
            sample.put("p90", h.getValueAtPercentile(90) / 1e3);
            sample.put("p99", h.getValueAtPercentile(99) / 1e3);
            sample.put("p99.9", h.getValueAtPercentile(99.9) / 1e3);
            sample.put("max", h.getMaxValue() / 1e3);
            sample.put("sent", sentMeasured);
            sample.put("received", h.getTotalCount());
            if (cpu0 != null) {
                cpu1.perUnit(cpu0, sentMeasured, sample);
                run.threads(sample);
            }
            if (unanswered > 0) {
                sample.error(unanswered + " messages not echoed within 5 s of the end");
            }
            if (load.sendFailures.sum() > 0) {
                sample.error(load.sendFailures.sum() + " sends failed");
            }
            LoadClient.closeAll(conns, Duration.ofSeconds(10));
        }
        return sample;
    }

    private void echoed(LatencyConn c) {
        long now = System.nanoTime();
        Long intended = c.pending.poll();
        if (intended != null && intended >= measureFrom && intended < measureUntil) {
            synchronized (histogram) {
                histogram.recordValue(Math.min(now - intended, histogram.getHighestTrackableValue()));
            }
        }
    }

    /** A connection of the open loop; echoes come back in the order the messages left. */
    public static final class LatencyConn extends LoadClient.Conn {
        private final LatencyLoad load;
        private final Queue<Long> pending = new ConcurrentLinkedQueue<>(); // intended send times, oldest first

        LatencyConn(LatencyLoad load) {
            this.load = load;
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            callback.succeed();
            load.echoed(this);
        }
    }
}
