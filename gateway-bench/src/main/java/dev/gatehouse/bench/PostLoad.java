package dev.gatehouse.bench;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.ProtocolHandlers;
import org.eclipse.jetty.client.ProxyAuthenticationProtocolHandler;
import org.eclipse.jetty.client.RedirectProtocolHandler;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.WWWAuthenticationProtocolHandler;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.internal.HttpEvents;
import dev.gatehouse.internal.Ids;
import dev.gatehouse.jetty.internal.HttpIntegrations;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;

/**
 * The {@link Side#HTTP_CLIENT} side of {@link Scenario#API_HTTP}: Jetty's own {@link HttpClient}, in the load
 * generator's JVM and without a gateway, POSTing to the backend's HTTP echo ({@link HttpEcho}) the events the
 * gateway would POST for the scenario's messages, in a closed loop of the same shape (connections × messages
 * in flight, each answer answered by the next POST). The client is configured as the gateway's integration
 * client ({@link HttpIntegrations#start}: the same per-origin limits, no cookie store, no redirect or
 * authentication handling, the route's default timeout on every request) but on a thread pool of its own; each
 * caller's event, headers included, is written once by the gateway's own {@link HttpEvents} and sent again and
 * again, so that nothing but the HTTP exchange is measured. Records the same names as {@link EchoLoad}, a
 * "message" being one POST answered with the message: {@code cpu.client} is the client's CPU per POST.
 */
final class PostLoad {

    private final int size;
    private final LongAdder answers = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder wrong = new LongAdder();    // answers that are not 200 with the message
    private final LongAdder failures = new LongAdder(); // exchanges that failed
    private final AtomicLong outstanding = new AtomicLong(); // callers still posting, then POSTs not yet answered
    private volatile boolean running = true;

    private PostLoad(int size) {
        this.size = size;
    }

    static Sample run(Run run) throws InterruptedException {
        Scenario s = run.scenario();
        Sample sample = run.sample();
        PostLoad load = new PostLoad(s.size());
        HttpClient client = client();
        try {
            int callers = run.connections() * s.inFlight();
            load.outstanding.set(callers);
            for (int i = 0; i < callers; i++) {
                load.post(client, new Caller(run, event(s.size(), s.text())));
            }
            Thread.sleep(run.warmup().toMillis());
            long a0 = load.answers.sum();
            long b0 = load.bytes.sum();
            Run.Cpu cpu0 = run.cpu();
            Thread.sleep(run.duration().toMillis());
            long a1 = load.answers.sum();
            long b1 = load.bytes.sum();
            Run.Cpu cpu1 = run.cpu();
            load.running = false;
            double seconds = (cpu1.at() - cpu0.at()) / 1e9;
            sample.put("rate", (a1 - a0) / seconds);
            sample.put("mbps", (b1 - b0) / seconds / 1e6);
            sample.put("messages", a1 - a0);
            sample.put("seconds", seconds);
            cpu1.perUnit(cpu0, a1 - a0, sample);
            run.threads(sample);

            long drainBy = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (load.outstanding.get() > 0 && System.nanoTime() < drainBy) {
                Thread.sleep(10);
            }
            if (load.outstanding.get() > 0) {
                sample.error(load.outstanding.get() + " POSTs not answered within 10 s of the end");
            }
            if (load.wrong.sum() > 0) {
                sample.error(load.wrong.sum() + " answers that were not 200 with the message");
            }
            if (load.failures.sum() > 0) {
                sample.error(load.failures.sum() + " POSTs failed");
            }
        } finally {
            try {
                client.stop();
            } catch (Exception e) {
                // stopped anyway
            }
        }
        return sample;
    }

    /** A client configured as {@link HttpIntegrations#start} configures the gateway's, on its own threads. */
    static HttpClient client() {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("post-load");
        threads.setDaemon(true);
        HttpClient h = new HttpClient();
        h.setExecutor(threads);
        h.setConnectTimeout(10_000);
        h.setMaxConnectionsPerDestination(HttpIntegrations.MAX_CALLS_PER_DESTINATION);
        h.setMaxRequestsQueuedPerDestination(HttpIntegrations.MAX_QUEUED_CALLS_PER_DESTINATION);
        h.setHttpCookieStore(new HttpCookieStore.Empty());
        h.setFollowRedirects(false);
        try {
            h.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the HTTP client", e);
        }
        ProtocolHandlers handlers = h.getProtocolHandlers();
        handlers.remove(RedirectProtocolHandler.NAME);
        handlers.remove(WWWAuthenticationProtocolHandler.NAME);
        handlers.remove(ProxyAuthenticationProtocolHandler.NAME);
        return h;
    }

    /**
     * A message event as the gateway's {@code $default} integration gets it from a load-generator connection:
     * fresh ids, a client on 127.0.0.1 with Jetty's user agent, no principal, the scenario's message.
     */
    static RouteEvent event(int size, boolean text) {
        String id = Ids.next();
        byte[] raw = new byte[size];
        for (int i = 0; i < size; i++) {
            raw[i] = (byte) ('a' + i % 26);
        }
        Message message = text ? Message.text("x".repeat(size)) : Message.binary(raw);
        Handshake handshake = Handshake.builder(id, GatewayRole.API_HTTP_PATH)
                .header("Host", "127.0.0.1").host("127.0.0.1")
                .header("User-Agent", "Jetty/12")
                .remoteAddress(new InetSocketAddress("127.0.0.1", 40000))
                .build();
        Instant now = Instant.now();
        return new RouteEvent(RouteEvent.Type.MESSAGE, "$default", id, id, Optional.of(id + "-1"), now, now, handshake,
                Optional.of(message), Optional.empty());
    }

    private void post(HttpClient client, Caller caller) {
        client.newRequest(caller.uri)
                .method(HttpMethod.POST)
                .followRedirects(false)
                .timeout(WebSocketApi.DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .headers(fields -> caller.headers.forEach(fields::put))
                .body(new BytesRequestContent(HttpEvents.CONTENT_TYPE, caller.body))
                .send(new Answer(client, caller));
    }

    private void answered(HttpClient client, Caller caller, boolean ok, int n) {
        answers.increment();
        bytes.add(n);
        if (!ok || n != size) {
            wrong.increment();
        }
        next(client, caller);
    }

    private void next(HttpClient client, Caller caller) {
        if (running) {
            post(client, caller);
        } else {
            outstanding.decrementAndGet();
        }
    }

    /** One caller of the loop: its endpoint and its event, written once. */
    private static final class Caller {
        private final URI uri;
        private final Map<String, String> headers;
        private final byte[] body;

        Caller(Run run, RouteEvent event) {
            this.uri = run.uri();
            this.headers = HttpEvents.headers(event);
            this.body = HttpEvents.body(event);
        }
    }

    /** Reads one answer, counting its bytes; Jetty calls it for one exchange. */
    private final class Answer implements Response.Listener {
        private final HttpClient client;
        private final Caller caller;
        private int received; // the body's bytes so far; one exchange's events are not concurrent

        Answer(HttpClient client, Caller caller) {
            this.client = client;
            this.caller = caller;
        }

        @Override
        public void onContent(Response response, ByteBuffer content) {
            received += content.remaining();
            content.position(content.limit());
        }

        @Override
        public void onComplete(Result result) {
            if (result.isFailed()) { // this caller stops: no loop of failures
                failures.increment();
                outstanding.decrementAndGet();
            } else {
                answered(client, caller, result.getResponse().getStatus() == 200, received);
            }
        }
    }
}
