package dev.gatehouse.bench;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * The handshakes scenario: each worker connects, closes with 1000 as soon as the session opens, and
 * connects again when the close handshake completes. Through the gateway every cycle includes the
 * gateway's dial of the backend. Records {@code rate} (completed connect-then-close cycles per second),
 * {@code handshakes}, {@code failures} and CPU per handshake. The credential comes from the {@link Auth}
 * mode's {@link Auth.Keys}: every worker gets its own, signed before the run starts and sent on each of
 * its handshakes, so that the load generator never signs during the run while the gateway verifies the
 * token on every handshake.
 */
final class HandshakeLoad {

    private static final Executor RETRY_DELAY = CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS);

    private final LoadClient client;
    private final Run run;
    private final List<Auth.Credential> credentials; // one per worker
    private final LongAdder completed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final CountDownLatch stopped;
    private volatile boolean running = true;

    private HandshakeLoad(LoadClient client, Run run, List<Auth.Credential> credentials) {
        this.client = client;
        this.run = run;
        this.credentials = List.copyOf(credentials);
        this.stopped = new CountDownLatch(run.connections());
    }

    /**
     * Runs the scenario with a credential from {@code keys} for each worker ({@link Auth.Keys#NONE}: none).
     */
    static Sample run(Run run, Auth.Keys keys) throws InterruptedException {
        Sample sample = run.sample();
        List<Auth.Credential> credentials = keys.credentials(run.connections()); // signed up front
        try (LoadClient client = new LoadClient()) {
            HandshakeLoad load = new HandshakeLoad(client, run, credentials);
            for (int w = 0; w < run.connections(); w++) {
                load.next(w);
            }
            Thread.sleep(run.warmup().toMillis());
            long c0 = load.completed.sum();
            long f0 = load.failed.sum();
            Run.Cpu cpu0 = run.cpu();
            Thread.sleep(run.duration().toMillis());
            long c1 = load.completed.sum();
            long f1 = load.failed.sum();
            Run.Cpu cpu1 = run.cpu();
            load.running = false;
            double seconds = (cpu1.at() - cpu0.at()) / 1e9;
            sample.put("rate", (c1 - c0) / seconds);
            sample.put("handshakes", c1 - c0);
            sample.put("failures", f1 - f0);
            sample.put("seconds", seconds);
            cpu1.perUnit(cpu0, c1 - c0, sample);
            run.threads(sample);
            if (f1 > 0) {
                sample.error(f1 + " handshakes failed");
            }
            if (!load.stopped.await(20, TimeUnit.SECONDS)) {
                sample.error(load.stopped.getCount() + " workers still busy 20 s after the end");
            }
        }
        return sample;
    }

    /** Starts a worker's next cycle, or retires the worker once the run is over. */
    private void next(int worker) {
        if (!running) {
            stopped.countDown();
            return;
        }
        HandshakeConn c = new HandshakeConn(this, worker);
        client.connect(c, run.uri(), credentials.get(worker)).whenComplete((session, failure) -> {
            if (failure != null) {
                c.finish(false);
            }
        });
    }

    /**
     * After a failure the next cycle starts 10 ms later, on another thread: a refusing target neither spins
     * the worker nor, when the failure is reported synchronously, deepens the stack.
     */
    private void retry(int worker) {
        CompletableFuture.runAsync(() -> next(worker), RETRY_DELAY);
    }

    /** One cycle: close on open, and start the next cycle once closed or failed. */
    public static final class HandshakeConn extends LoadClient.Conn {
        private final HandshakeLoad load;
        private final int worker;
        private final AtomicBoolean finished = new AtomicBoolean();

        HandshakeConn(HandshakeLoad load, int worker) {
            this.load = load;
            this.worker = worker;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            super.onWebSocketOpen(session);
            session.close(1000, "bye", Callback.NOOP);
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason, Callback callback) {
            super.onWebSocketClose(statusCode, reason, callback);
            finish(statusCode == 1000);
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            super.onWebSocketError(cause);
            finish(false);
        }

        void finish(boolean ok) {
            if (finished.compareAndSet(false, true)) {
                if (ok) {
                    load.completed.increment();
                    load.next(worker);
                } else {
                    load.failed.increment();
                    load.retry(worker);
                }
            }
        }
    }
}
