package dev.gatehouse.internal;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Handshake;
import dev.gatehouse.OverflowAction;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.SendResult;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.Cluster;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;
import dev.gatehouse.spi.GatewayListener;

/**
 * One bridged connection: relays frames between the client leg and the backend leg with demand-driven flow
 * control, and owns the connection's lifecycle (idle timeout, keepalive, close-code contract, drain).
 *
 * <p>Life: created when the handshake is admitted ({@code CONNECTING}); the adapter attaches the backend
 * channel when the backend answers 101 ({@link #backendConnected}), then the client channel when the
 * client's leg opens ({@link #clientConnected}), which starts the relay ({@code OPEN}). The first close
 * event decides the close of the other leg ({@code CLOSING}); once both legs are closed the bridge is
 * {@code CLOSED}, leaves the registry and writes its access-log line.
 *
 * <p>Flow control: a frame read from one leg is sent on the other, and that leg is asked for its next
 * frame only when the send completes. At most one data frame per direction is in flight, so a slow reader
 * slows its writer through TCP instead of filling the heap. The per-frame path takes no lock.
 *
 * <p>Time comes from the gateway's {@link Ticker}; the bridge keeps one tick scheduled for the next of its
 * {@link Deadlines}, and counts its traffic in {@link ConnectionStats}.
 */
public final class Bridge {

    private static final Logger LOG = LoggerFactory.getLogger(Bridge.class);
    private static final CloseStatus IDLE = CloseStatus.of(1001, "idle timeout");
    private static final CloseStatus KEEPALIVE = CloseStatus.of(1001, "keepalive timeout");
    private static final CloseStatus CLIENT_GONE = CloseStatus.of(1001, "client gone");
    private static final CloseStatus EXPIRED = CloseStatus.of(1008, "credential expired");
    private static final CloseStatus LIFETIME = CloseStatus.of(1001, "max lifetime");

    /** The bridge's life, in order; it only moves forward. */
    enum State { CONNECTING, OPEN, CLOSING, CLOSED }

    private final DefaultGateway gateway;
    private final Instant admittedAt;     // when the bridge was created, its request just admitted
    private volatile String user;         // the principal's subject unless $connect named another; null when anonymous
    private Set<String> groups = Collections.emptySet(); // the groups it belongs to, a set of its own from the first; guarded by lock
    private final Ticker ticker;          // the gateway's clocks and timer
    private final Route route;            // the matched route (an admitted request always has one)
    private final Handshake handshake;    // the request after authentication and policies
    private final Settings settings;
    private final String id;
    private final Side client = new Side("client");
    private final Side backend = new Side("backend");
    private final Deadlines deadlines;
    private final ConnectionStats stats;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final long handshakeStart;    // the ticker's nanoTime when the handshake pipeline began
    private final long dialStart;         // the ticker's nanoTime when the bridge was created and its dial began
    private volatile String backendTarget; // the backend as the access log shows it (no query), null on a WebSocket API route
    private final Listeners listeners;    // the gateway's listeners, null when none
    private final GatewayListener.MessageCounter messages; // counts messages for the listeners, null when none; read per message
    private String dialOrigin;            // the backend's origin until the dial is reported, then null; guarded by lock
    private final String traceparent;     // the gateway's traceparent for this connection, or null

    private final Object lock = new Object();
    private volatile State state = State.CONNECTING; // written under lock
    private String cause;                 // why the connection ends; set once, by the first close decision; guarded by lock
    private String initiator;             // "client", "backend" or "gateway"; guarded by lock
    private CloseStatus clientClose;      // the status the client leg ended with; guarded by lock
    private Future<?> timer;              // the next tick, null once CLOSED; guarded by lock
    private volatile String subprotocol;  // the negotiated subprotocol, null for none
    private volatile String target;       // the backend target it relays to, null until dialled or on an API route
    private volatile Runnable release;    // gives the target's session back when the bridge ends, or null

    Bridge(DefaultGateway gateway, Admission.Admitted admission) {
        this.gateway = gateway;
        this.ticker = gateway.ticker();
        this.admittedAt = ticker.now();
        this.dialStart = ticker.nanoTime();
        this.handshakeStart = admission.startNanos();
        this.listeners = gateway.observers();
        URI backendUri = admission.route().backend().isPresent() ? admission.backendUri() : null;
        this.backendTarget = AccessLog.target(backendUri);
        this.dialOrigin = listeners == null || backendUri == null ? null : AccessLog.origin(backendUri);
        this.messages = listeners == null ? null : listeners.messages(admission.route());
        // Only what the connection needs for its life: not the dial's backend URI and headers.
        this.route = admission.route();
        this.handshake = retained(admission.route(), admission.handshake());
        // Kept apart: a plain proxy connection's retained request has no headers but User-Agent.
        this.traceparent = admission.handshake().header(TraceContext.HEADER).orElse(null);
        this.user = handshake.principal().map(p -> p.subject()).orElse(null);
        this.settings = admission.settings();
        this.id = handshake.requestId();
        Duration dialling = settings.connectTimeout().multipliedBy(admission.attempts()); // each attempt has its own
        this.deadlines = new Deadlines(settings, route.webSocketApi()
                .map(api -> api.timeout().compareTo(dialling) > 0 ? api.timeout() : dialling)
                .orElse(dialling));
        this.stats = new ConnectionStats(id, route.path(), handshake);
        client.peer = backend;
        backend.peer = client;
        client.keepalive = deadlines.client;
        backend.keepalive = deadlines.backend;
        client.counts = stats.client;
        backend.counts = stats.backend;
        client.direction = GatewayListener.Direction.IN;
        backend.direction = GatewayListener.Direction.OUT;
        client.limit = settings.maxClientMessageSize();
        backend.limit = settings.maxBackendMessageSize();
        if (route.clientMessages().isPresent() || route.messageLimits().isPresent()) {
            client.inspector = new Inspector(route.clientMessages().orElse(null), route.messageLimits().orElse(null),
                    handshake, client.limit, gateway.principalBuckets(route, handshake));
        }
        if (route.backendMessages().isPresent()) {
            backend.inspector = new Inspector(route.backendMessages().get(), null, handshake, backend.limit,
                    new TokenBucket[2]);
        }
        client.outbox = new Outbox(settings.maxOutboundQueue(), this::pushed);
        if (backend.inspector != null || client.inspector != null) {
            backend.outbox = new Outbox(0, n -> { });
        }
    }

    /**
     * What the connection keeps of its request for its life. A proxy route without in-session policies reads
     * only its id, address, principal and {@code User-Agent} after the handshake, so it keeps a copy without
     * the other headers (about a kilobyte less per connection); a route whose filters or integrations are
     * given the request keeps all of it.
     */
    private static Handshake retained(Route route, Handshake h) {
        if (route.webSocketApi().isPresent() || route.clientMessages().isPresent() || route.backendMessages().isPresent()
                || h.headers().size() <= 1) {
            return h;
        }
        Handshake.Builder b = h.toBuilder();
        for (String name : h.headers().keySet()) {
            if (!name.equals("user-agent")) {
                b.removeHeader(name);
            }
        }
        return b.build();
    }

    /** A message sent through the registry was written to the client. */
    private void pushed(int n) {
        stats.pushed(n);
        GatewayListener.MessageCounter m = messages;
        if (m != null) {
            m.message(GatewayListener.Direction.OUT, n);
        }
    }

    /** The ticker's nanoTime when the handshake pipeline of this connection began. */
    long handshakeStart() {
        return handshakeStart;
    }

    /** The data bytes this connection holds between its legs. */
    long pendingBytes() {
        return stats.pending();
    }

    /** The connection id (the request id of its handshake). */
    public String id() {
        return id;
    }

    /** The handler of the client leg's inbound events. */
    public ChannelHandler clientHandler() {
        return client;
    }

    /** The handler of the backend leg's inbound events. */
    public ChannelHandler backendHandler() {
        return backend;
    }

    /** When the bridge was created, right after its request was admitted. */
    Instant admittedAt() {
        return admittedAt;
    }

    /** The status the client got or gets, once the bridge decided to close; else null. */
    CloseStatus clientCloseStatus() {
        synchronized (lock) {
            return clientClose;
        }
    }

    /** Completes when both legs are closed and the bridge has left the registry. */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    /**
     * The backend answered 101. Attaches its channel; the backend is not read until the client leg opens.
     *
     * @param subprotocol the backend's chosen subprotocol, or {@code null}
     * @return {@code false} if the bridge ended meanwhile (drain, registry close, backend lost): the adapter
     *         must not upgrade the client, and reject it with 503
     */
    public boolean backendConnected(Channel channel, String subprotocol) {
        List<Runnable> actions = new ArrayList<>(1);
        boolean proceed;
        if (backend.outbox != null) {
            backend.outbox.attach(channel);
        }
        dialed(true);
        synchronized (lock) {
            backend.channel = channel;
            this.subprotocol = subprotocol;
            proceed = cause == null;
            if (!proceed && backend.finished) {
                actions.add(channel::abort); // the bridge gave up on this leg while it was being dialled
            } else if (!proceed) {
                backend.sendPendingClose(actions);
            }
        }
        run(actions);
        return proceed;
    }

    /**
     * The dial tries this backend URI (a backend group's dial may try several, in turn): the access log and
     * the dial's report name it.
     */
    public void dialling(URI uri) {
        backendTarget = AccessLog.target(uri);
        if (listeners != null) {
            synchronized (lock) {
                dialOrigin = AccessLog.origin(uri);
            }
        }
    }

    /**
     * Records the backend target the dial connected, and what gives its session back when the bridge ends
     * (null for nothing); before {@link #backendConnected}.
     */
    public void relaysTo(String target, Runnable release) {
        this.target = target;
        this.release = release;
        if (release != null && state == State.CLOSED) {
            release.run(); // ended meanwhile (a lease's release runs at most once)
        }
    }

    /**
     * The backend could not be dialled, or the client's upgrade failed: ends the bridge. The backend leg,
     * if connected, is closed with 1001.
     */
    public void abandon(String why) {
        try (Mdc mdc = Mdc.of(id, route.path())) {
            abandonUnderMdc(why);
        }
    }

    private void abandonUnderMdc(String why) {
        List<Runnable> actions = new ArrayList<>(2);
        dialed(false);
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            client.finished = true;
            if (cause == null) {
                decide(why, "gateway", CloseStatus.ABNORMAL);
            }
            if (backend.awaiting != null) {
                backend.reply(CloseStatus.GOING_AWAY, actions); // its CLOSE came first: answering ends the leg
            } else {
                beginClose(backend, CloseStatus.GOING_AWAY, actions);
            }
            if (backend.channel == null) {
                backend.finished = true;
            }
            finishIfDone(actions);
        }
        run(actions);
    }

    /** Tells the listeners, once, how the dial of a proxy route's backend ended. */
    void dialed(boolean connected) {
        if (listeners == null) {
            return;
        }
        String origin;
        synchronized (lock) {
            origin = dialOrigin;
            dialOrigin = null;
        }
        if (origin != null) {
            listeners.backendDialed(new GatewayListener.DialEvent(id, route, origin, connected,
                    Duration.ofNanos(Math.max(0, ticker.nanoTime() - dialStart))));
        }
    }

    /** The client's leg is open: starts the relay, or closes the client if the bridge already ended. */
    public void clientConnected(Channel channel) {
        List<Runnable> actions = new ArrayList<>(2);
        boolean open = false;
        client.outbox.attach(channel);
        synchronized (lock) {
            client.channel = channel;
            if (client.finished) {
                // The bridge gave up on this leg before it opened (close timeout): drop it.
                actions.add(channel::abort);
            } else if (cause == null && gateway.isDraining()) {
                closeBoth(settings.drainStatus(), CloseStatus.GOING_AWAY, "drain", actions);
            }
            if (cause != null) {
                client.sendPendingClose(actions);
            } else {
                state = State.OPEN;
                open = true;
                long now = ticker.nanoTime();
                Instant at = ticker.now();
                stats.opened(now, at);
                deadlines.opened(now, at, handshake.principal().flatMap(Principal::expiresAt));
                scheduleTick(now);
                gateway.registry().index(this, user, groups);
            }
        }
        run(actions);
        if (open) {
            if (listeners != null) {
                listeners.handshakeAccepted(new GatewayListener.HandshakeEvent(id, Optional.of(route), 101, Optional.empty(),
                        Optional.of(Duration.ofNanos(Math.max(0, ticker.nanoTime() - handshakeStart)))));
            }
            client.channel.demand();
            backend.channel.demand();
        }
    }

    /** Closes both legs: the client with {@code toClient}, the backend with {@code toBackend}. */
    boolean close(CloseStatus toClient, CloseStatus toBackend, String why) {
        List<Runnable> actions = new ArrayList<>(2);
        boolean decided;
        synchronized (lock) {
            decided = closeBoth(toClient, toBackend, why, actions);
        }
        run(actions);
        return decided;
    }

    /**
     * Starts the deadline by which both legs must be connected: the backend's connect timeout, then the
     * client's upgrade. A bridge whose client leg never opens is dropped then, giving back its slots.
     */
    void arm() {
        synchronized (lock) {
            long now = ticker.nanoTime();
            deadlines.arm(now);
            scheduleTick(now);
        }
    }

    /** Drops both legs at once, without close handshakes. */
    void abort() {
        List<Runnable> actions = new ArrayList<>(2);
        synchronized (lock) {
            if (cause == null) {
                decide("aborted", "gateway", CloseStatus.ABNORMAL);
            }
            client.abortLeg(actions);
            backend.abortLeg(actions);
            finishIfDone(actions);
        }
        run(actions);
    }

    /** The route that accepted the connection, which it keeps for its life whatever updates follow. */
    Route route() {
        return route;
    }

    void drain() {
        close(settings.drainStatus(), CloseStatus.GOING_AWAY, "drain");
    }

    /** The groups to change: most connections join none, and hold no set for them. Under the lock. */
    private Set<String> ownGroups() {
        if (groups.isEmpty() && !(groups instanceof LinkedHashSet)) {
            groups = new LinkedHashSet<>();
        }
        return groups;
    }

    /**
     * Sets the connection's user and groups, as a WebSocket API route's {@code $connect} named them; before the
     * connection opens.
     */
    void identify(String user, List<String> groups) {
        synchronized (lock) {
            if (user != null) {
                this.user = user;
            }
            ownGroups().addAll(groups);
        }
    }

    /** The connection's user, or {@code null} when anonymous. */
    String user() {
        return user;
    }

    /**
     * Adds the open connection to a group, in the registry's index too.
     *
     * @return {@code false} if the connection is not open
     */
    boolean join(String group) {
        synchronized (lock) {
            if (state != State.OPEN) {
                return false;
            }
            if (ownGroups().add(group)) {
                gateway.registry().indexGroup(this, group);
            }
            return true;
        }
    }

    /**
     * Removes the open connection from a group.
     *
     * @return {@code false} if the connection is not open
     */
    boolean leave(String group) {
        synchronized (lock) {
            if (state != State.OPEN) {
                return false;
            }
            if (groups.remove(group)) {
                gateway.registry().unindexGroup(this, group);
            }
            return true;
        }
    }

    /**
     * Hands a whole message to the client leg's outbound queue, to go out at the next message boundary. A
     * message that does not fit is refused; with {@link OverflowAction#CLOSE} the slow client is then closed
     * with 1013 "try again later", the messages still queued for it dropped, and the backend with 1001.
     *
     * @param payload the message's bytes (UTF-8 for text), owned by the bridge from now on
     */
    SendResult push(ByteBuffer payload, boolean text) {
        if (state != State.OPEN) {
            return SendResult.GONE;
        }
        SendResult result = client.outbox.push(payload, text);
        if (result == SendResult.QUEUE_FULL && settings.outboundOverflow() == OverflowAction.CLOSE
                && close(CloseStatus.TRY_AGAIN_LATER, CloseStatus.GOING_AWAY, "overload: client too slow")) {
            client.outbox.discard(); // the CLOSE goes once the write in flight ends, not after the whole queue
        }
        return result;
    }

    /** The connection as the cluster's directory holds it, or {@code null} unless its relay runs. */
    Cluster.Entry entry() {
        synchronized (lock) {
            return state == State.OPEN ? new Cluster.Entry(id, Optional.ofNullable(user), Set.copyOf(groups)) : null;
        }
    }

    /**
     * What to answer a client whose connection was closed before its upgrade: 401 with
     * {@code WWW-Authenticate: Bearer error="invalid_token"} when its credential was revoked meanwhile, else the
     * 503 of a gateway that is shutting down.
     */
    public Verdict.Reject refusalBeforeUpgrade() {
        String why;
        synchronized (lock) {
            why = cause;
        }
        if (why != null && why.startsWith("revoked")) {
            return Verdict.reject(Rejection.UNAUTHORIZED, "the credential has been revoked")
                    .withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        }
        return DefaultGateway.shuttingDown();
    }

    /** Whether the connection's principal has this subject. */
    boolean isOf(String subject) {
        return handshake.principal().map(p -> p.subject().equals(subject)).orElse(false);
    }

    /** Whether the revocation covers the connection's credential ({@link Revocations#covers}). */
    boolean isRevokedBy(Cluster.Revocation revocation) {
        return handshake.principal().map(p -> Revocations.covers(revocation, p)).orElse(false);
    }

    boolean isOpen() {
        synchronized (lock) {
            return state == State.OPEN;
        }
    }

    /** A snapshot, or {@code null} unless the relay has started and not ended. */
    ConnectionInfo info() {
        Instant since;
        long opened;
        synchronized (lock) {
            if (state != State.OPEN) {
                return null;
            }
            since = stats.connectedAt();
            opened = stats.openedNanos();
        }
        Handshake h = handshake;
        Instant lastActive = since.plusNanos(Math.max(0, deadlines.lastActivity() - opened));
        List<String> memberOf;
        synchronized (lock) {
            memberOf = List.copyOf(groups);
        }
        return new ConnectionInfo(id, route.path(), h.remoteAddress(), h.header("User-Agent"), h.principal(), Optional.ofNullable(user), memberOf,
                Optional.ofNullable(subprotocol), since, lastActive, stats.client.messages(), stats.client.bytes(),
                stats.messagesOut(), stats.bytesOut(), stats.pending(), stats.peakPending(), Optional.ofNullable(target));
    }

    /** The access log's words for a protocol violation that the adapter closed with {@code sent}. */
    static String violation(CloseStatus sent) {
        String what;
        switch (sent.code()) {
            case 1002:
                what = "protocol error";
                break;
            case 1007:
                what = "invalid payload";
                break;
            case 1009:
                what = "frame too big";
                break;
            default:
                what = "protocol violation " + sent.code();
        }
        String reason = sent.reason().replace('"', '\'');
        return reason.isEmpty() ? what : what + ": " + (reason.length() > 120 ? reason.substring(0, 120) : reason);
    }

    // ---- close decisions; all of these run under lock and collect channel calls to run after it ----

    private void decide(String why, String who, CloseStatus clientStatus) {
        cause = why;
        initiator = who;
        clientClose = clientStatus;
        if (state == State.OPEN || state == State.CONNECTING) {
            state = State.CLOSING;
        }
    }

    private boolean closeBoth(CloseStatus toClient, CloseStatus toBackend, String why, List<Runnable> actions) {
        if (cause != null) {
            return false;
        }
        decide(why, "gateway", toClient);
        beginClose(client, toClient, actions);
        beginClose(backend, toBackend, actions);
        return true;
    }

    /** Sends CLOSE on a leg once, now if its channel is attached, else when it attaches. */
    private void beginClose(Side side, CloseStatus status, List<Runnable> actions) {
        if (side.finished || side.closeToSend != null) {
            return;
        }
        side.closeToSend = status;
        long now = ticker.nanoTime();
        deadlines.closing(now);
        scheduleTick(now);
        side.sendPendingClose(actions);
    }

    private void finishIfDone(List<Runnable> actions) {
        if (state == State.CLOSED || !client.finished || !backend.finished) {
            return;
        }
        if (stats.isOpened()) {
            gateway.registry().unindex(this, user, groups);
        }
        state = State.CLOSED;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        actions.add(this::finished);
    }

    private void finished() {
        Runnable r = release;
        if (r != null) {
            r.run();
        }
        gateway.registry().remove(this);
        Instant at = ticker.now();
        AccessLog.Session session = stats.session(at, backendTarget, traceparent, clientClose, cause, initiator);
        if (session != null) {
            if (AccessLog.LOGGER.isInfoEnabled()) { // the line is built only for a logger that writes it
                try (Mdc mdc = Mdc.of(id, route.path())) {
                    AccessLog.LOGGER.info(AccessLog.session(gateway.node(), session));
                }
            }
            if (listeners != null) {
                listeners.connectionClosed(new GatewayListener.CloseEvent(id, route,
                        clientClose == null ? CloseStatus.ABNORMAL.code() : clientClose.code(), initiator,
                        CloseCauses.of(cause), Duration.ofNanos(Math.max(0, ticker.nanoTime() - stats.openedNanos()))));
            }
        }
        closed.complete(null);
    }

    // ---- timers ----

    /** Replaces the scheduled tick with one at the next deadline of the current state, if any. */
    private void scheduleTick(long now) {
        long next = deadlines.next(state);
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        if (next != Long.MAX_VALUE) {
            timer = ticker.schedule(this::tick, Math.max(0, next - now), TimeUnit.NANOSECONDS);
        }
    }

    private void tick() {
        try (Mdc mdc = Mdc.of(id, route.path())) {
            tickUnderMdc();
        }
    }

    private void tickUnderMdc() {
        List<Runnable> actions = new ArrayList<>(2);
        synchronized (lock) {
            long now = ticker.nanoTime();
            switch (deadlines.due(state, now, client.forwarding, backend.forwarding)) {
                case CONNECT_TIMEOUT -> {
                    decide("the client leg never opened", "gateway", CloseStatus.ABNORMAL);
                    client.abortLeg(actions);
                    backend.abortLeg(actions);
                    finishIfDone(actions);
                }
                case CLOSE_TIMEOUT -> {
                    client.giveUp(actions);
                    backend.giveUp(actions);
                    finishIfDone(actions);
                }
                case CREDENTIAL_EXPIRED -> closeBoth(EXPIRED, CloseStatus.GOING_AWAY, "credential expired", actions);
                case LIFETIME_REACHED -> closeBoth(settings.lifetimeStatus(), LIFETIME, "max lifetime", actions);
                case IDLE_TIMEOUT -> closeBoth(IDLE, IDLE, "idle timeout", actions);
                case CLIENT_SILENT -> closeBoth(KEEPALIVE, KEEPALIVE, "keepalive timeout: client did not answer a ping",
                        actions);
                case BACKEND_SILENT -> closeBoth(KEEPALIVE, KEEPALIVE, "keepalive timeout: backend did not answer a ping",
                        actions);
                case PINGS -> {
                    client.pingIfDue(now, actions);
                    backend.pingIfDue(now, actions);
                }
                case NOTHING -> {
                }
            }
            if (state != State.CLOSED) {
                scheduleTick(now);
            }
        }
        run(actions);
    }

    private static void run(List<Runnable> actions) {
        for (Runnable action : actions) {
            try {
                action.run();
            } catch (RuntimeException e) {
                LOG.debug("Channel operation failed", e);
            }
        }
    }

    /** The status as it may go on the wire: 1005 as a CLOSE without status, other reserved codes as 1011. */
    private static CloseStatus sendable(CloseStatus s) {
        return s.isTransmittable() || s.code() == CloseStatus.NO_STATUS.code() ? s : CloseStatus.INTERNAL_ERROR;
    }

    /**
     * One leg: the handler of its inbound frames and the completion of their forwards to the peer leg.
     * Inbound events of a leg are serial, so the inbound counters have a single writer.
     */
    private final class Side implements ChannelHandler, Completion, Inspector.Leg {
        private final String name;
        private Side peer;                  // set once in the constructor of Bridge
        private Deadlines.Keepalive keepalive; // this leg's pings; set once in the constructor of Bridge
        private ConnectionStats.Counts counts; // what this leg received; set once in the constructor of Bridge
        private GatewayListener.Direction direction; // IN for the client leg, OUT for the backend's; set once in the constructor
        private long limit;                 // the largest message this leg may send, 0 for none; set in the constructor
        private Inspector inspector;        // in-session policies of this leg's messages, or null; set in the constructor
        private Outbox outbox;              // this leg's outbound queue: always on the client leg, on the backend leg when policies may reply; set in the constructor
        private volatile boolean forwarding; // a frame received on this leg awaits the other leg's send
        private volatile Channel channel;   // null until the leg is connected
        private long messageBytes;          // bytes of the message being received; single writer
        private Completion release;         // the inbound frame being forwarded, or null; set before its send, cleared by its completion
        private int releaseBytes;           // its size; set with release
        private volatile CloseStatus closeToSend; // the CLOSE decided for this leg, null while it may receive data; written under lock
        private boolean closeSent;          // whether closeToSend went to the channel; guarded by lock
        private CloseStatus awaiting;       // the peer's CLOSE that awaits our reply, or null; guarded by lock
        private volatile boolean finished;  // this leg is closed (handshake done, lost or aborted); written under lock

        /** Reads the leg's next frame once the pong answering its ping is written (or failed). */
        private final Completion pongSent = new Completion() {
            @Override
            public void succeeded() {
                channel.demand();
            }

            @Override
            public void failed(Throwable cause) {
                channel.demand();
            }
        };

        Side(String name) {
            this.name = name;
        }

        /**
         * Whether a frame received on this leg goes to the peer leg: not once the peer leg is closing. A
         * leg whose peer started the close still receives data until its own CLOSE is sent. Racy reads are
         * fine: a stale answer forwards one more frame to a leg that is closing, which fails harmlessly.
         */
        private boolean relaying() {
            return state != State.CLOSED && peer.closeToSend == null && !peer.finished && awaiting == null;
        }

        @Override
        public void onText(ByteBuffer fragment, boolean last, Completion done) {
            onData(true, fragment, last, done);
        }

        @Override
        public void onBinary(ByteBuffer fragment, boolean last, Completion done) {
            onData(false, fragment, last, done);
        }

        private void onData(boolean text, ByteBuffer fragment, boolean last, Completion done) {
            if (!relaying() || exceedsLimit(fragment.remaining(), last)) {
                done.succeeded();
                channel.demand();
                return;
            }
            if (inspector != null) {
                inspector.onData(text, fragment, last, done, this);
            } else {
                forward(text, fragment, last, done);
            }
        }

        @Override
        public void onCompressed(boolean text, ByteBuffer fragment, boolean last, Completion done) {
            if (!relaying() || exceedsLimit(fragment.remaining(), last)) {
                done.succeeded();
                channel.demand();
                return;
            }
            // No inspector here: the adapter negotiates compression only on routes without in-session policies.
            forward(text, true, fragment, last, done);
        }

        /**
         * A leg without in-session policies relays a peer's masked fragments as they are to a leg that sends
         * masked frames (a client's frames to the backend): neither unmasked nor masked again.
         */
        @Override
        public boolean relaysMasked() {
            Side to = peer;
            Channel out = to.channel;
            return inspector == null && to.outbox == null && out != null && out.sendsMasked();
        }

        @Override
        public void onMasked(boolean text, ByteBuffer fragment, int maskKey, boolean last, Completion done) {
            if (!relaying() || exceedsLimit(fragment.remaining(), last)) {
                done.succeeded();
                channel.demand();
                return;
            }
            int n = fragment.remaining();
            release = done;
            releaseBytes = n;
            forwarding = true;
            stats.holding(n);
            peer.channel.sendMasked(text, fragment, maskKey, last, this);
        }

        @Override
        public void forward(boolean text, ByteBuffer fragment, boolean last, Completion done) {
            forward(text, false, fragment, last, done);
        }

        private void forward(boolean text, boolean compressed, ByteBuffer fragment, boolean last, Completion done) {
            int n = fragment.remaining();
            release = done;
            releaseBytes = n;
            forwarding = true;
            stats.holding(n);
            if (peer.outbox != null) {
                peer.outbox.send(text, compressed, fragment, last, this);
            } else if (compressed) {
                peer.channel.sendCompressed(text, fragment, last, this);
            } else if (text) {
                peer.channel.sendText(fragment, last, this);
            } else {
                peer.channel.sendBinary(fragment, last, this);
            }
        }

        @Override
        public void next() {
            channel.demand();
        }

        @Override
        public void reply(String text) {
            if (outbox != null) {
                outbox.reply(text, channel::demand);
            } else {
                channel.demand();
            }
        }

        @Override
        public void close(CloseStatus toSender, String why) {
            boolean fromClient = this == client;
            Bridge.this.close(fromClient ? toSender : CloseStatus.GOING_AWAY, fromClient ? CloseStatus.GOING_AWAY : toSender,
                    why + " (" + name + ")");
            channel.demand();
        }

        /** Counts the fragment; on a too-big message closes the bridge and returns true. */
        private boolean exceedsLimit(int n, boolean last) {
            deadlines.active(ticker.nanoTime());
            counts.received(n);
            messageBytes += n;
            if (limit > 0 && messageBytes > limit) {
                boolean fromClient = this == client;
                Bridge.this.close(fromClient ? CloseStatus.MESSAGE_TOO_BIG : CloseStatus.GOING_AWAY,
                        fromClient ? CloseStatus.GOING_AWAY : CloseStatus.MESSAGE_TOO_BIG,
                        "message too big from " + name);
                return true;
            }
            if (last) {
                counts.messageEnded();
                GatewayListener.MessageCounter m = messages;
                if (m != null) {
                    m.message(direction, messageBytes);
                }
                messageBytes = 0;
            }
            return false;
        }

        /** The forward of the frame received on this leg completed: release it and read the next. */
        @Override
        public void succeeded() {
            forwarding = false;
            releaseFrame();
            if (peer.outbox != null) {
                peer.outbox.relayed();
            }
            channel.demand();
        }

        @Override
        public void failed(Throwable x) {
            forwarding = false;
            releaseFrame();
            if (peer.outbox != null) {
                peer.outbox.relayed();
            }
            if (peer.closeToSend == null) {
                LOG.debug("Connection {}: send to {} failed", id, peer.name, x);
                peer.lost(x);
            } // else: after our CLOSE, the transport refuses data by design; the leg is closing, not lost
            channel.demand();
        }

        private void releaseFrame() {
            Completion r = release;
            if (r != null) {
                release = null;
                stats.released(releaseBytes);
                r.succeeded();
            }
        }

        @Override
        public void onPing(ByteBuffer payload) {
            deadlines.active(ticker.nanoTime());
            channel.sendPong(payload, pongSent); // the next frame is read once the pong is written
        }

        @Override
        public void onPong(ByteBuffer payload) {
            boolean solicited = false;
            if (payload.remaining() == Long.BYTES) {
                long value = payload.getLong(payload.position());
                synchronized (lock) {
                    if (keepalive.answeredBy(value)) {
                        solicited = true;
                        if (state == State.OPEN) {
                            scheduleTick(ticker.nanoTime()); // the next ping is due earlier than the pong deadline
                        }
                    }
                }
            }
            if (!solicited) {
                deadlines.active(ticker.nanoTime());
            }
            channel.demand();
        }

        @Override
        public void onClose(CloseStatus status) {
            try (Mdc mdc = Mdc.of(id, route.path())) {
                closeReceived(status);
            }
        }

        private void closeReceived(CloseStatus status) {
            List<Runnable> actions = new ArrayList<>(2);
            synchronized (lock) {
                if (finished) {
                    return;
                }
                if (status.code() == CloseStatus.ABNORMAL.code()) {
                    finished = true;
                    Channel lostChannel = channel;
                    if (lostChannel != null) {
                        actions.add(lostChannel::abort); // a transport left open after an error must not leak
                    }
                    CloseStatus toPeer = this == backend ? settings.backendLostStatus() : CLIENT_GONE;
                    if (cause == null) {
                        decide(name + " connection lost", name, this == client ? status : toPeer);
                        beginClose(peer, toPeer, actions);
                    } else if (peer.awaiting != null) {
                        peer.reply(toPeer, actions);
                    }
                } else if (closeToSend != null) {
                    // The answer to our CLOSE (or a CLOSE that crossed it): this leg is done, and a peer that
                    // started the close gets this answer as its reply.
                    finished = true;
                    if (peer.awaiting != null) {
                        peer.reply(status, actions);
                    }
                } else {
                    // The peer of this leg starts the close: pass it on, and answer once the other leg has.
                    awaiting = status;
                    if (cause == null) {
                        CloseStatus toPeer = sendable(status);
                        decide(name + " closed", name, this == client ? status : toPeer);
                        beginClose(peer, toPeer, actions);
                    } else if (peer.finished) {
                        reply(status, actions);
                    }
                }
                finishIfDone(actions);
            }
            run(actions);
        }

        @Override
        public void onError(Throwable cause) {
            try (Mdc mdc = Mdc.of(id, route.path())) {
                LOG.debug("Connection {}: {} leg failed", id, name, cause);
                closeReceived(CloseStatus.ABNORMAL);
            }
        }

        @Override
        public void onProtocolError(CloseStatus sent) {
            try (Mdc mdc = Mdc.of(id, route.path())) {
                protocolError(sent);
            }
        }

        private void protocolError(CloseStatus sent) {
            LOG.debug("Connection {}: {} leg broke the protocol; closed with {}", id, name, sent);
            List<Runnable> actions = new ArrayList<>(2);
            synchronized (lock) {
                if (finished) {
                    return;
                }
                finished = true; // the adapter closes this leg itself
                CloseStatus toPeer = this == backend ? settings.backendLostStatus() : CloseStatus.GOING_AWAY;
                if (cause == null) {
                    decide(name + " " + violation(sent), "gateway", this == client ? sent : toPeer);
                    beginClose(peer, toPeer, actions);
                } else if (peer.awaiting != null) {
                    peer.reply(toPeer, actions);
                }
                finishIfDone(actions);
            }
            run(actions);
        }

        private void lost(Throwable x) {
            onClose(CloseStatus.ABNORMAL);
        }

        // ---- under lock ----

        private void sendPendingClose(List<Runnable> actions) {
            Channel ch = channel;
            CloseStatus status = closeToSend;
            if (ch != null && status != null && !closeSent && !finished) {
                closeSent = true;
                actions.add(closeAction(ch, status));
                if (!stats.isOpened()) {
                    actions.add(ch::demand); // the relay never read this leg: let the transport read the reply
                }
            }
        }

        /** Sends this leg's CLOSE after the gateway messages queued for it, if it has an outbound queue. */
        private Runnable closeAction(Channel ch, CloseStatus status) {
            Outbox queue = outbox;
            return queue == null ? () -> ch.close(status) : () -> queue.close(() -> ch.close(status));
        }

        /** Answers the peer's CLOSE that started the close handshake; the leg is then done. */
        private void reply(CloseStatus status, List<Runnable> actions) {
            if (finished) {
                return; // lost or aborted: nothing more is sent on this leg
            }
            CloseStatus answer = sendable(status);
            closeToSend = answer;
            Channel ch = channel;
            if (ch != null && !closeSent) {
                closeSent = true;
                actions.add(closeAction(ch, answer));
            }
            finished = true;
        }

        /** Drops this leg's connection; it is finished. */
        private void abortLeg(List<Runnable> actions) {
            if (finished) {
                return;
            }
            finished = true;
            Channel ch = channel;
            if (ch != null) {
                actions.add(ch::abort);
            }
        }

        /** The close timeout passed: answer a waiting peer with its own status, drop any other open leg. */
        private void giveUp(List<Runnable> actions) {
            if (finished) {
                return;
            }
            if (awaiting != null) {
                reply(awaiting, actions);
                return;
            }
            finished = true;
            Channel ch = channel;
            if (ch != null) {
                actions.add(ch::abort);
            }
        }

        private void pingIfDue(long now, List<Runnable> actions) {
            if (keepalive.pingDue(now)) {
                Channel ch = channel;
                ByteBuffer payload = ByteBuffer.allocate(Long.BYTES).putLong(0, keepalive.payload());
                actions.add(() -> ch.sendPing(payload));
            }
        }
    }
}
