package dev.gatehouse.bench;

import java.net.URI;
import java.time.Duration;

/**
 * One run of a scenario against one side.
 *
 * @param uri         the echo endpoint the load goes to: the backend's or the gateway's, or the backend's HTTP
 *                    echo ({@link Side#HTTP_CLIENT})
 * @param backend     the backend's process
 * @param gateway     the gateway's process; {@code null} when the gateway is not running, or not part of the run
 *                    ({@link Side#HTTP_CLIENT})
 * @param connections connections (or workers) after overrides
 * @param peer        the cluster scenarios' second gateway node, whose CPU is measured with the gateway's;
 *                    {@code null} otherwise
 */
record Run(Scenario scenario, Side side, int round, URI uri, Child backend, Child gateway, int connections,
        Duration warmup, Duration duration, Duration hold, Child peer) {

    /** A run without a second gateway node. */
    Run(Scenario scenario, Side side, int round, URI uri, Child backend, Child gateway, int connections,
            Duration warmup, Duration duration, Duration hold) {
        this(scenario, side, round, uri, backend, gateway, connections, warmup, duration, hold, null);
    }

    /** A sample of this run, to be filled in. */
    Sample sample() {
        return new Sample(scenario, side, round);
    }

    /** Records the thread counts of the three processes now, under {@code threads.*}. */
    void threads(Sample sample) {
        sample.put("threads.client", Proc.threads(ProcessHandle.current().pid()));
        sample.put("threads.backend", Proc.threads(backend.pid()));
        if (gateway != null) {
            sample.put("threads.gateway", Proc.threads(gateway.pid()));
        }
        if (peer != null) {
            sample.put("threads.peer", Proc.threads(peer.pid()));
        }
    }

    /** CPU time of the three processes (four with a peer) now. */
    Cpu cpu() {
        return new Cpu(Proc.cpuNanos(ProcessHandle.current().pid()), backend.cpuNanos(),
                gateway == null ? 0 : gateway.cpuNanos(), gateway == null ? 0 : Proc.systemCpuNanos(gateway.pid()),
                peer == null ? 0 : peer.cpuNanos(), System.nanoTime());
    }

    /**
     * CPU time of the load generator (this JVM), the backend and the gateway (and the gateway's kernel
     * part), and the peer node (0 without one), in nanoseconds, at a moment of {@link System#nanoTime()}.
     */
    record Cpu(long client, long backend, long gateway, long gatewaySystem, long peer, long at) {

        /**
         * Records each process's CPU microseconds per unit of work between {@code start} and this snapshot
         * into the sample, under {@code cpu.client}, {@code cpu.backend} and {@code cpu.gateway}, the peer
         * node's under {@code cpu.peer} and both nodes' under {@code cpu.nodes} (when there is a peer); each
         * one's share of a core under {@code util.*}; and the kernel's share of the gateway's CPU,
         * {@code sys.gateway}.
         */
        void perUnit(Cpu start, double units, Sample sample) {
            if (units <= 0) {
                return;
            }
            sample.put("cpu.client", (client - start.client) / 1e3 / units);
            sample.put("cpu.backend", (backend - start.backend) / 1e3 / units);
            sample.put("cpu.gateway", (gateway - start.gateway) / 1e3 / units);
            double seconds = (at - start.at) / 1e9;
            sample.put("util.client", (client - start.client) / 1e9 / seconds);
            sample.put("util.backend", (backend - start.backend) / 1e9 / seconds);
            sample.put("util.gateway", (gateway - start.gateway) / 1e9 / seconds);
            if (peer > 0) {
                sample.put("cpu.peer", (peer - start.peer) / 1e3 / units);
                sample.put("cpu.nodes", (gateway - start.gateway + peer - start.peer) / 1e3 / units);
                sample.put("util.peer", (peer - start.peer) / 1e9 / seconds);
            }
            if (gateway > start.gateway) {
                sample.put("sys.gateway", (double) (gatewaySystem - start.gatewaySystem) / (gateway - start.gateway));
            }
        }
    }
}
