package dev.gatehouse.internal;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Closes connections one after another over a window, so that their clients do not all reconnect at the same
 * moment: the first at once, the others at even steps on the gateway's timer (a drain, a target gone down).
 */
final class Spread {

    private Spread() {
    }

    /**
     * Runs {@code close} on each bridge: the first on the calling thread, the {@code i}-th {@code i/n} of the
     * window later on the ticker; all at once when the window is too short for steps.
     */
    static void over(Ticker ticker, List<Bridge> bridges, Duration window, Consumer<Bridge> close) {
        long step = bridges.isEmpty() ? 0 : window.toNanos() / bridges.size();
        for (int i = 0; i < bridges.size(); i++) {
            Bridge bridge = bridges.get(i);
            if (i == 0 || step == 0) {
                close.accept(bridge);
            } else {
                ticker.schedule(() -> close.accept(bridge), step * i, TimeUnit.NANOSECONDS);
            }
        }
    }
}
