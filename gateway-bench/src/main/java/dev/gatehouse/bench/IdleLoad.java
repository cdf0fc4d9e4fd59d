package dev.gatehouse.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.eclipse.jetty.websocket.api.Callback;

/**
 * The idle scenario: opens many connections, holds them, then checks that every one still echoes. The
 * measured process is the gateway through the gateway, the backend directly; it runs freshly started for
 * this scenario, so that earlier scenarios' heap growth does not hide the connections' memory. Its resident
 * set is read after a full collection, before the connections open (after a warm-up of 100 connections
 * that were closed again) and once they are all open. Records {@code requested}, {@code opened},
 * {@code echoed}, {@code open.seconds}, {@code rss.before} and {@code rss.after} (bytes),
 * {@code rss.perconn} and {@code heap.perconn} (bytes per open connection), {@code rss.raw.perconn}
 * (without the collection) and the other process's {@code rss.backend}.
 */
final class IdleLoad {

    private static final int WARMUP_CONNECTIONS = 100;

    private final ByteBuffer payload = ByteBuffer.wrap(new byte[Scenario.IDLE.size()]).asReadOnlyBuffer();
    private final LongAdder sendFailures = new LongAdder();
    private final Callback sent = Callback.from(() -> { }, x -> sendFailures.increment());
    private volatile CountDownLatch echoes = new CountDownLatch(0);

    private IdleLoad() {
    }

    /**
     * The open files the measured process needs: one per connection per leg, and room for the JVM's own.
     */
    static long filesNeeded(Side side, int connections) {
        return (side == Side.GATEWAY ? 2L : 1L) * connections + 512;
    }

    static Sample run(Run run) throws InterruptedException {
        Sample sample = run.sample();
        Child measured = run.side() == Side.GATEWAY ? run.gateway() : run.backend();
        IdleLoad load = new IdleLoad();
        try (LoadClient client = new LoadClient()) {
            LoadClient.Opened<IdleConn> warm = client.openAll(WARMUP_CONNECTIONS, i -> new IdleConn(load), run.uri(),
                    Duration.ofSeconds(60));
            load.echoAll(warm.open(), Duration.ofSeconds(30));
            LoadClient.closeAll(warm.open(), Duration.ofSeconds(30));
            Thread.sleep(500); // let the closed connections' last callbacks finish before the baseline

            long heapBefore = measured.collectGarbage();
            long rssBefore = measured.rssBytes();
            LoadClient.Opened<IdleConn> opened = client.openAll(run.connections(), i -> new IdleConn(load), run.uri(),
                    Duration.ofSeconds(180));
            int open = opened.open().size();
            sample.put("requested", run.connections());
            sample.put("opened", open);
            sample.put("open.seconds", opened.nanos() / 1e9);
            if (opened.failed() > 0) {
                sample.error(opened.failed() + " of " + run.connections() + " connections failed to open");
            }
            long rssRaw = measured.rssBytes();
            long heapAfter = measured.collectGarbage();
            long rssAfter = measured.rssBytes();
            sample.put("rss.before", rssBefore);
            sample.put("rss.after", rssAfter);
            if (open > 0) {
                sample.put("rss.perconn", (double) (rssAfter - rssBefore) / open);
                sample.put("rss.raw.perconn", (double) (rssRaw - rssBefore) / open);
                sample.put("heap.perconn", (double) (heapAfter - heapBefore) / open);
            }
            sample.put("threads", Proc.threads(measured.pid()));
            if (run.side() == Side.GATEWAY) {
                sample.put("rss.backend", run.backend().rssBytes());
            }

            Thread.sleep(run.hold().toMillis());
            long lost = opened.open().stream().filter(LoadClient.Conn::isClosed).count();
            if (lost > 0) {
                sample.error(lost + " connections closed during the hold");
            }
            int echoed = load.echoAll(opened.open(), Duration.ofSeconds(60));
            sample.put("echoed", echoed);
            if (echoed < open) {
                sample.error((open - echoed) + " open connections did not echo after the hold");
            }
            if (load.sendFailures.sum() > 0) {
                sample.error(load.sendFailures.sum() + " sends failed");
            }
            LoadClient.closeAll(opened.open(), Duration.ofSeconds(60));
        }
        return sample;
    }

    /** Sends one message on every connection and returns how many echoed within the timeout. */
    private int echoAll(List<IdleConn> conns, Duration timeout) throws InterruptedException {
        CountDownLatch latch = new CountDownLatch(conns.size());
        echoes = latch;
        for (IdleConn c : conns) {
            if (c.isLive()) {
                c.getSession().sendBinary(payload.slice(), sent);
            }
        }
        latch.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return (int) (conns.size() - latch.getCount());
    }

    /** A held connection; counts its echoes. */
    public static final class IdleConn extends LoadClient.Conn {
        private final IdleLoad load;

        IdleConn(IdleLoad load) {
            this.load = load;
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            callback.succeed();
            load.echoes.countDown();
        }
    }
}
