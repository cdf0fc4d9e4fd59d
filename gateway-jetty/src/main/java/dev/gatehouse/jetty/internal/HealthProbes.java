package dev.gatehouse.jetty.internal;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.balance.HealthCheck;
import dev.gatehouse.internal.HealthProber;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * The mount's health probes: a WebSocket upgrade dialled like a backend leg (through the
 * {@link BackendConnector}, with its per-backend dial limits and TLS), whose connection is closed with 1000 as
 * soon as it answers 101; or an HTTP GET with the HTTP integrations' client (its pools and TLS, no redirects
 * followed), whose body is read and dropped. Each is bounded by the check's timeout. Thread-safe; nothing
 * here blocks.
 */
public final class HealthProbes implements HealthProber {

    /** The {@code User-Agent} of every probe, so that a backend can tell probes from clients. */
    static final String USER_AGENT = "Gatehouse-Health-Check";

    private final BackendConnector connector;
    private final HttpClient http;

    /** Probes with the mount's started backend connector and HTTP client. */
    public HealthProbes(BackendConnector connector, HttpIntegrations http) {
        this.connector = connector;
        this.http = http.client();
    }

    @Override
    public CompletionStage<Boolean> probe(URI target, HealthCheck check) {
        return check.kind() == HealthCheck.Kind.HTTP ? get(target, check.timeout()) : upgrade(target, check.timeout());
    }

    /** Up when the target answers the upgrade with a valid 101; the leg then closes with 1000 and is dropped. */
    private CompletionStage<Boolean> upgrade(URI target, Duration timeout) {
        ProbeLeg leg = new ProbeLeg();
        // The leg's idle timeout is the probe's too: a target that never answers the CLOSE is dropped then.
        return connector.dial(target, Map.of("User-Agent", List.of(USER_AGENT)), List.of(), null, leg, timeout, timeout)
                .thenApply(connected -> {
                    leg.closeNow(connected.leg());
                    return true;
                });
    }

    /** Up when the target answers the GET with a 2xx, body and all, within the timeout. */
    private CompletionStage<Boolean> get(URI target, Duration timeout) {
        CompletableFuture<Boolean> up = new CompletableFuture<>();
        try {
            http.newRequest(target)
                    .method(HttpMethod.GET)
                    .followRedirects(false)
                    .headers(h -> h.put(HttpHeader.USER_AGENT, USER_AGENT))
                    .timeout(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)
                    .send(result -> {
                        if (result.isFailed()) {
                            up.completeExceptionally(result.getFailure());
                        } else {
                            int status = result.getResponse().getStatus();
                            up.complete(status >= 200 && status <= 299);
                        }
                    });
        } catch (RuntimeException e) { // a stopped client
            up.completeExceptionally(e);
        }
        return up;
    }

    /** The handler of a probe's leg: it closes at once, and reads what comes before the target's CLOSE, to drop it. */
    private static final class ProbeLeg implements ChannelHandler {
        private volatile FrameLeg leg; // set once the target answered 101, before the first demand

        void closeNow(FrameLeg connected) {
            leg = connected;
            connected.close(CloseStatus.NORMAL);
            connected.demand();
        }

        private void more() {
            FrameLeg l = leg;
            if (l != null) {
                l.demand();
            }
        }

        @Override
        public void onText(ByteBuffer utf8, boolean last, Completion release) {
            release.succeeded();
            more();
        }

        @Override
        public void onBinary(ByteBuffer fragment, boolean last, Completion release) {
            release.succeeded();
            more();
        }

        @Override
        public void onPing(ByteBuffer payload) {
            more();
        }

        @Override
        public void onPong(ByteBuffer payload) {
            more();
        }

        @Override
        public void onClose(CloseStatus status) {
            // The target's answer to the CLOSE (the leg then closes the connection), or the connection's loss.
        }

        @Override
        public void onError(Throwable cause) {
            // The leg is dropped; the probe already counted.
        }
    }
}
