package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.Route;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * The backend leg of a WebSocket API route: a {@link Channel} that the {@link Bridge} relays the client's
 * messages to as it would to a backend, and that turns each whole message into an integration call, its
 * answer into a message (or a close) from the "backend". Because the bridge's send completes only once
 * the integration answered and its reply reached the client, one message per connection is in flight,
 * order is kept, and a slow integration slows its client through demand. Keepalive pings are answered at
 * once. The first close or abort of this leg calls {@code $disconnect}, once.
 *
 * <p>Threading: the bridge calls it from any thread; events go to the handler one at a time, on demand
 * (a lost connection excepted), from the thread that completes them.
 */
final class IntegrationLeg implements Channel {

    private static final Logger LOG = LoggerFactory.getLogger(IntegrationLeg.class);

    private final Supplier<Route> route; // the current version of the connection's route, a WebSocket API route
    private volatile Version version;     // what the last message was routed by; replaced when the route changes
    private final Invoker invoker;
    private final String connectionId;
    private final Handshake handshake;
    private final Instant connectedAt;
    private final Ticker ticker;
    private ChannelHandler handler; // set once by attach(), before the bridge sends anything
    private Supplier<CloseStatus> clientStatus = () -> null; // what the client got when the bridge closed, for $disconnect; set by attach()

    private final long maxReplySize;
    private final String routePath; // the route's path template for the MDC, or null

    private final Object lock = new Object();
    // The bridge sends the next fragment only after the previous send's completion ran, and that completion
    // happens before the demand that brings it: fragments arrive one at a time, whatever thread carries them.
    private final ByteArrayOutputStream assembling = new ByteArrayOutputStream(); // fragments of the message in progress
    private long messages;          // messages received so far, for their ids; one sender at a time, as above
    private final CharsetDecoder strictUtf8 = StandardCharsets.UTF_8.newDecoder() // one message at a time, as above
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ArrayDeque<Consumer<ChannelHandler>> events = new ArrayDeque<>(); // for the handler, in order; guarded by lock; at most a reply, a pong and a close
    private int demand;             // events the handler asked for and did not get; guarded by lock
    private boolean delivering;     // a thread is handing events to the handler; guarded by lock
    private boolean disconnected;   // the leg ended (closed or aborted) and $disconnect was called; guarded by lock
    private boolean closeQueued;    // a close for the handler is queued or delivered: nothing is queued after it; guarded by lock
    private boolean closeDelivered; // the handler has seen this leg's close: the bridge's next close() is its answer; guarded by lock
    private boolean lost;           // aborted: the queued close goes out without demand; guarded by lock
    private Completion inFlight;    // the bridge's send of the message with the integration, or whose reply is on its way; guarded by lock

    /** Calls an integration: the engine's in-process calls, or the adapter's HTTP client. */
    interface Invoker {
        /**
         * Calls the integration of a version of the route with the event; the stage completes with its answer,
         * or exceptionally.
         */
        CompletionStage<Reply> invoke(Route route, Integration integration, RouteEvent event);

        /** Calls the {@code $disconnect} integration, possibly after others' calls; by default at once. */
        default CompletionStage<Reply> disconnect(Route route, Integration integration, RouteEvent event) {
            return invoke(route, integration, event);
        }

        /** Counts a {@code $disconnect} call that failed (it is not retried). */
        default void disconnectFailed() {
        }
    }

    /** A version of the route, with its WebSocket API and parsed selection expression. */
    private record Version(Route route, WebSocketApi api, SelectionExpression selection) {
        static Version of(Route route) {
            WebSocketApi api = route.webSocketApi()
                    .orElseThrow(() -> new IllegalArgumentException("route: " + route + " is a proxy route"));
            return new Version(route, api, SelectionExpression.parse(api.selection()));
        }
    }

    /**
     * @param route        the current version of the connection's route, read for each message; always a
     *                     WebSocket API route
     * @param maxReplySize the largest reply the route sends its client; a larger one is a failed call
     * @param routePath    the route's path template for the MDC, or null
     */
    IntegrationLeg(Supplier<Route> route, Invoker invoker, String connectionId, Handshake handshake, Instant connectedAt,
            Ticker ticker, long maxReplySize, String routePath) {
        this.routePath = routePath;
        this.maxReplySize = maxReplySize;
        this.route = requireNonNull(route, "route");
        this.version = Version.of(route.get());
        this.invoker = requireNonNull(invoker, "invoker");
        this.connectionId = requireNonNull(connectionId, "connectionId");
        this.handshake = requireNonNull(handshake, "handshake");
        this.connectedAt = requireNonNull(connectedAt, "connectedAt");
        this.ticker = requireNonNull(ticker, "ticker");
    }

    /** The version of the route to route by now: the last one, unless the route changed since. */
    private Version version() {
        Route now = route.get();
        Version v = version;
        if (v.route() != now) {
            v = Version.of(now);
            version = v;
        }
        return v;
    }

    /**
     * The bridge's handler for this leg's inbound events, and where to read the status its client got when
     * it closed, which {@code $disconnect} reports; called once, before the leg is connected.
     */
    void attach(ChannelHandler handler, Supplier<CloseStatus> clientStatus) {
        this.handler = requireNonNull(handler, "handler");
        this.clientStatus = requireNonNull(clientStatus, "clientStatus");
    }

    @Override
    public void sendText(ByteBuffer utf8, boolean last, Completion completion) {
        received(true, utf8, last, completion);
    }

    @Override
    public void sendBinary(ByteBuffer fragment, boolean last, Completion completion) {
        received(false, fragment, last, completion);
    }

    private void received(boolean text, ByteBuffer fragment, boolean last, Completion completion) {
        byte[] bytes = new byte[fragment.remaining()];
        fragment.get(bytes);
        assembling.writeBytes(bytes);
        if (!last) {
            completion.succeeded(); // the bridge bounds the message's size; the call waits for the whole of it
            return;
        }
        byte[] whole = assembling.toByteArray();
        assembling.reset();
        synchronized (lock) {
            if (disconnected) {
                completion.succeeded(); // the leg ended while the bridge was sending: nobody will answer
                return;
            }
            inFlight = completion;
        }
        Message message;
        if (text) {
            String decoded = utf8(whole);
            if (decoded == null) {
                // The gateway is this message's endpoint: RFC 6455 has it fail the connection with 1007.
                answer(Reply.close(CloseStatus.of(1007, "invalid UTF-8 in a text message")), completion);
                return;
            }
            message = Message.text(decoded);
        } else {
            message = Message.binary(whole);
        }
        Version v = version();
        WebSocketApi api = v.api();
        String key = text ? v.selection().evaluate(whole, 0, whole.length).orElse(null) : null;
        String routeKey = key != null && !key.startsWith("$") && api.integration(key).isPresent() ? key : "$default";
        Optional<Integration> integration = api.integration(routeKey);
        String messageId = connectionId + "-" + (++messages);
        if (integration.isEmpty()) {
            answer(Reply.text(Json.apiMessage("Forbidden", connectionId, handshake.requestId())), completion);
            return;
        }
        RouteEvent event = new RouteEvent(RouteEvent.Type.MESSAGE, routeKey, connectionId, handshake.requestId(),
                Optional.of(messageId), connectedAt, ticker.now(), handshake, Optional.of(message), Optional.empty());
        call(v.route(), integration.get(), event).whenComplete((reply, failure) -> {
            try (Mdc mdc = Mdc.of(connectionId, routePath)) {
                String problem = failure != null ? failure.toString()
                        : reply instanceof Reply.Accept || reply instanceof Reply.Refuse ? "answered a message with " + reply
                        : reply instanceof Reply.Send send && send.message().size() > maxReplySize
                                ? "replied with " + send.message().size() + " bytes, over the route's limit of " + maxReplySize
                        : null;
                if (problem != null) {
                    // Debug only: a client whose messages fail must not be able to flood the log.
                    LOG.debug("Integration of route key {} failed for connection {}: {}", routeKey, connectionId, problem);
                    answer(Reply.text(Json.apiMessage("Internal server error", connectionId, handshake.requestId())),
                            completion);
                } else if (!api.replies() && reply instanceof Reply.Send) {
                    answer(Reply.none(), completion);
                } else {
                    answer(reply, completion);
                }
            } catch (RuntimeException | Error e) {
                LOG.error("Answering a message of connection {} failed", connectionId, e);
                if (takeInFlight(completion)) {
                    completion.failed(e);
                }
            }
        });
    }

    /** The text of strict UTF-8 bytes, or null when they are not valid UTF-8. */
    private String utf8(byte[] bytes) {
        try {
            return strictUtf8.decode(ByteBuffer.wrap(bytes)).toString(); // decode() resets the decoder first
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Calls the integration, turning a null stage or a thrown exception into a failed stage. */
    private CompletionStage<Reply> call(Route version, Integration integration, RouteEvent event) {
        try {
            CompletionStage<Reply> stage = invoker.invoke(version, integration, event);
            if (stage == null) {
                return CompletableFuture.failedFuture(new GatewayStateException("an integration returned null"));
            }
            return stage.thenApply(r -> requireNonNull(r, "the integration's reply"));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Hands the integration's answer to the bridge, then lets it read the client's next message. An answer
     * that comes after the leg ended is dropped: its send was completed when the leg ended.
     */
    private void answer(Reply reply, Completion sent) {
        synchronized (lock) {
            if (inFlight != sent || closeQueued) {
                return;
            }
            if (!(reply instanceof Reply.Send)) {
                inFlight = null;
            }
        }
        if (reply instanceof Reply.Send send) {
            Message m = send.message();
            enqueue(h -> {
                Completion release = new Completion() {
                    @Override
                    public void succeeded() {
                        if (takeInFlight(sent)) {
                            sent.succeeded();
                        }
                    }

                    @Override
                    public void failed(Throwable cause) {
                        if (takeInFlight(sent)) {
                            sent.failed(cause);
                        }
                    }
                };
                if (m instanceof Message.Text t) {
                    h.onText(ByteBuffer.wrap(t.text().getBytes(StandardCharsets.UTF_8)), true, release);
                } else {
                    h.onBinary(((Message.Binary) m).bytes(), true, release);
                }
            });
        } else if (reply instanceof Reply.Close close) {
            queueClose(close.status()); // before the client's next message can be read
            sent.succeeded();
        } else {
            sent.succeeded();
        }
    }

    /** Clears the send in flight if it is {@code sent}; tells whether it was, so that it is completed once. */
    private boolean takeInFlight(Completion sent) {
        synchronized (lock) {
            if (inFlight != sent) {
                return false;
            }
            inFlight = null;
            return true;
        }
    }

    /** Takes the send in flight, if any, for the leg's end to complete. */
    private Completion takeInFlight() {
        synchronized (lock) {
            Completion c = inFlight;
            inFlight = null;
            return c;
        }
    }

    @Override
    public void sendPing(ByteBuffer payload) {
        ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload.duplicate()).flip();
        enqueue(h -> h.onPong(copy));
    }

    @Override
    public void sendPong(ByteBuffer payload, Completion completion) {
        completion.succeeded(); // nobody pings an integration's leg but the gateway itself
    }

    @Override
    public void close(CloseStatus status) {
        boolean answer;
        synchronized (lock) {
            // The handler saw this leg's close: this is the bridge's answer. Else the bridge closes first,
            // and a close of ours still queued is replaced by the answer to its close.
            answer = !closeDelivered;
            events.clear();
            closeQueued = false;
        }
        Completion unsent = takeInFlight();
        if (unsent != null) {
            unsent.succeeded(); // the bridge is closing: the message in flight is consumed, its answer dropped
        }
        disconnect(status);
        if (answer) {
            queueClose(status); // the "backend" answers the close handshake at once
        }
    }

    @Override
    public void abort() {
        boolean report;
        synchronized (lock) {
            report = !closeDelivered;
            events.clear();
            closeQueued = false;
            lost = true;
        }
        Completion unsent = takeInFlight();
        if (unsent != null) {
            unsent.failed(new ClosedChannelException());
        }
        disconnect(CloseStatus.ABNORMAL);
        if (report) {
            queueClose(CloseStatus.ABNORMAL); // a lost leg is reported without demand
        }
    }

    /** Queues this leg's close for the handler, once; nothing is queued after it. */
    private void queueClose(CloseStatus status) {
        synchronized (lock) {
            if (closeQueued) {
                return;
            }
            events.add(h -> {
                synchronized (lock) {
                    closeDelivered = true;
                }
                h.onClose(status);
            });
            closeQueued = true;
        }
        deliver();
    }

    @Override
    public void demand() {
        synchronized (lock) {
            demand++;
        }
        deliver();
    }

    /**
     * Calls {@code $disconnect} the first time the leg ends, with the status the client got (or, before the
     * bridge decided one, this leg's); tells whether this was that time.
     */
    private boolean disconnect(CloseStatus legStatus) {
        CloseStatus client = clientStatus.get();
        CloseStatus status = client != null ? client : legStatus;
        synchronized (lock) {
            if (disconnected) {
                return false;
            }
            disconnected = true;
        }
        Version v = version();
        v.api().integration("$disconnect").ifPresent(integration -> {
            RouteEvent event = new RouteEvent(RouteEvent.Type.DISCONNECT, "$disconnect", connectionId,
                    handshake.requestId(), Optional.empty(), connectedAt, ticker.now(), handshake, Optional.empty(),
                    Optional.of(status));
            CompletionStage<Reply> stage;
            try {
                stage = invoker.disconnect(v.route(), integration, event);
            } catch (RuntimeException e) {
                stage = CompletableFuture.failedFuture(e);
            }
            stage.whenComplete((ignored, failure) -> {
                if (failure != null) {
                    invoker.disconnectFailed();
                    try (Mdc mdc = Mdc.of(connectionId, routePath)) {
                        LOG.warn("$disconnect integration failed for connection {}: {}", connectionId,
                                failure.getClass().getName());
                    }
                }
            });
        });
        return true;
    }

    private void enqueue(Consumer<ChannelHandler> event) {
        synchronized (lock) {
            if (closeQueued) {
                return; // nothing follows a close
            }
            events.add(event);
        }
        deliver();
    }

    /** Hands queued events to the handler, one per demand, one thread at a time. */
    private void deliver() {
        while (true) {
            Consumer<ChannelHandler> next;
            synchronized (lock) {
                if (delivering || (demand == 0 && !lost) || events.isEmpty()) {
                    return;
                }
                delivering = true;
                demand = Math.max(0, demand - 1);
                next = events.poll();
            }
            try {
                next.accept(handler);
            } finally {
                synchronized (lock) {
                    delivering = false;
                }
            }
        }
    }
}
