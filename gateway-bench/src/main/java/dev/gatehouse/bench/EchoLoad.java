package dev.gatehouse.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.eclipse.jetty.websocket.api.Callback;

/**
 * The closed-loop scenarios ({@link Scenario.Kind#ECHO}): every connection keeps a fixed number of
 * messages in flight, and sends the next one as each echo arrives. Records {@code rate} (echoed messages
 * per second), {@code mbps} (echoed payload, 10^6 bytes per second), {@code messages}, {@code seconds} and
 * the CPU per echoed message of each process ({@link Run.Cpu#perUnit}).
 */
final class EchoLoad {

    private final int size;
    private final boolean text;
    private final ByteBuffer payload;  // read-only; each send takes a slice
    private final String message;
    private final LongAdder messages = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder wrong = new LongAdder();       // echoes of the wrong size
    private final LongAdder sendFailures = new LongAdder();
    private final AtomicLong outstanding = new AtomicLong(); // sent and not echoed, once stopping
    private final Callback sent = Callback.from(() -> { }, x -> sendFailures.increment());
    private volatile boolean running = true;

    private EchoLoad(int size, boolean text) {
        this.size = size;
        this.text = text;
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) ('a' + i % 26);
        }
        this.payload = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
        char[] chars = new char[text ? size : 0];
        Arrays.fill(chars, 'x');
        this.message = new String(chars);
    }

    static Sample run(Run run) throws InterruptedException {
        Scenario s = run.scenario();
        Sample sample = run.sample();
        EchoLoad load = new EchoLoad(s.size(), s.text());
        try (LoadClient client = new LoadClient()) {
            LoadClient.Opened<EchoConn> opened = client.openAll(run.connections(), i -> new EchoConn(load), run.uri(),
                    Duration.ofSeconds(60));
            if (opened.failed() > 0) {
                sample.error(opened.failed() + " of " + run.connections() + " connections failed to open");
            }
            if (opened.open().isEmpty()) {
                return sample;
            }
            load.outstanding.set((long) opened.open().size() * s.inFlight());
            for (EchoConn c : opened.open()) {
                for (int k = 0; k < s.inFlight(); k++) {
                    load.send(c);
                }
            }
            Thread.sleep(run.warmup().toMillis());
            long m0 = load.messages.sum();
            long b0 = load.bytes.sum();
            Run.Cpu cpu0 = run.cpu();
            Thread.sleep(run.duration().toMillis());
            long m1 = load.messages.sum();
            long b1 = load.bytes.sum();
            Run.Cpu cpu1 = run.cpu();
            load.running = false;
            double seconds = (cpu1.at() - cpu0.at()) / 1e9;
            sample.put("rate", (m1 - m0) / seconds);
            sample.put("mbps", (b1 - b0) / seconds / 1e6);
            sample.put("messages", m1 - m0);
            sample.put("seconds", seconds);
            cpu1.perUnit(cpu0, m1 - m0, sample);
            run.threads(sample);

            long drainBy = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (load.outstanding.get() > 0 && System.nanoTime() < drainBy) {
                Thread.sleep(10);
            }
            long lost = opened.open().stream().filter(LoadClient.Conn::isClosed).count();
            if (lost > 0) {
                sample.error(lost + " connections closed during the run");
            }
            if (load.outstanding.get() > 0) {
                sample.error(load.outstanding.get() + " messages not echoed within 10 s of the end");
            }
            if (load.wrong.sum() > 0) {
                sample.error(load.wrong.sum() + " echoes of the wrong size");
            }
            if (load.sendFailures.sum() > 0) {
                sample.error(load.sendFailures.sum() + " sends failed");
            }
            LoadClient.closeAll(opened.open(), Duration.ofSeconds(10));
        }
        return sample;
    }

    private void send(EchoConn c) {
        if (text) {
            c.getSession().sendText(message, sent);
        } else {
            c.getSession().sendBinary(payload.slice(), sent);
        }
    }

    private void echoed(EchoConn c, int n) {
        messages.increment();
        bytes.add(n);
        if (n != size) {
            wrong.increment();
        }
        if (running) {
            send(c);
        } else {
            outstanding.decrementAndGet();
        }
    }

    /** A connection of the closed loop. */
    public static final class EchoConn extends LoadClient.Conn {
        private final EchoLoad load;

        EchoConn(EchoLoad load) {
            this.load = load;
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            int n = payload.remaining();
            callback.succeed();
            load.echoed(this, n);
        }

        @Override
        public void onWebSocketText(String message) {
            load.echoed(this, message.length());
        }
    }
}
