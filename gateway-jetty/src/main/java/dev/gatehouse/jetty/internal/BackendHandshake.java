package dev.gatehouse.jetty.internal;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ClientConnectionFactory;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.Retainable;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;
import org.eclipse.jetty.util.thread.Scheduler;

import dev.gatehouse.jetty.internal.BackendConnector.DialFailure;
import dev.gatehouse.jetty.internal.BackendConnector.DialFailure.Kind;
import dev.gatehouse.spi.ChannelHandler;

/**
 * One backend dial, from its turn to its 101: resolves the backend's host, connects (trying each address the
 * name resolves to), writes a hand-made HTTP/1.1 upgrade request, reads the answer with Jetty's
 * {@link HttpParser}, and checks it as RFC 6455 asks of a client: status 101, {@code Upgrade: websocket},
 * {@code Connection: upgrade}, the accept hash of its key, at most the extension and one of the subprotocols
 * it offered. Then it upgrades the endpoint to a {@link FrameLeg}, handing over whatever the backend sent after
 * the 101's header. Any other answer fails the dial with what the backend said (status, a few headers, up to
 * {@value #MAX_BODY} bytes of body), for the client's error.
 *
 * <p>Everything after the connect runs on the connector's selector thread, without a hand-off; only a host
 * name's look-up runs on the executor. One timer bounds the whole dial; whichever of the answer, a failure or
 * the timer comes first decides it, once.
 */
final class BackendHandshake implements ClientConnectionFactory {

    /** The most of a refusal's body that is kept. */
    static final int MAX_BODY = 8 * 1024;
    /** The most bytes of the backend's answer header. */
    private static final int MAX_HEADER = 16 * 1024;
    /** The read buffer's size during the handshake. */
    private static final int BUFFER_SIZE = 4 * 1024;

    /**
     * A connected backend leg.
     *
     * @param leg         the leg that owns the connection
     * @param subprotocol the subprotocol the backend chose, or null for none
     * @param extensions  the backend's {@code Sec-WebSocket-Extensions} answer to the offer, or null for none
     * @param relayed     the backend's 101 headers the client's 101 carries too ({@link BackendDialer#RELAYED_UPGRADE_HEADERS})
     */
    record Connected(FrameLeg leg, String subprotocol, String extensions, Map<String, List<String>> relayed) {
    }

    /**
     * What the backend answered.
     *
     * @param status      the status of its status line
     * @param headers     its headers named in {@link BackendDialer#RELAYED_REJECTION_HEADERS}, by name
     * @param contentType its {@code Content-Type}, or null
     * @param body        the start of its body, at most {@value #MAX_BODY} bytes
     */
    record Answer(int status, Map<String, String> headers, String contentType, byte[] body) {
    }

    private final BackendConnector connector;
    private final URI uri;
    private final boolean tls;
    private final String host;
    private final int port;
    private final String destination;
    private final String key;
    private final byte[] request;
    private final List<String> offeredSubprotocols;
    private final String offer;
    private final ChannelHandler handler;
    private final Duration idleTimeout;
    private final Duration timeout;
    private final CompletableFuture<Connected> result = new CompletableFuture<>();
    private final AtomicBoolean decided = new AtomicBoolean();
    private final AtomicBoolean turnGivenBack = new AtomicBoolean();
    private volatile Scheduler.Task timer;
    private volatile boolean holdsTurn;   // the dial took a turn, to give back once decided
    private volatile boolean started;     // its turn came (it left the queue): a timeout is the backend's
    private volatile EndPoint endPoint;   // the connection, once open
    private volatile Exchange exchange;   // reading the answer, once connected
    private List<InetSocketAddress> addresses; // what the host resolved to; touched by one thread at a time
    private int next;                          // the index of the next address to try

    BackendHandshake(BackendConnector connector, URI uri, Map<String, List<String>> headers, List<String> subprotocols,
            String offer, ChannelHandler handler, Duration idleTimeout, Duration timeout) {
        this.connector = connector;
        this.uri = uri;
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        this.tls = scheme.equals("wss") || scheme.equals("https");
        String h = uri.getHost();
        this.host = h != null && h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
        this.port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
        this.destination = BackendConnector.destination(uri, tls, port);
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        this.key = Base64.getEncoder().encodeToString(nonce);
        this.offeredSubprotocols = subprotocols;
        this.offer = offer;
        this.handler = handler;
        this.idleTimeout = idleTimeout;
        this.timeout = timeout;
        this.request = request(uri, tls, port, key, headers, subprotocols, offer);
    }

    /** The upgrade request's bytes: the header values cleaned of control characters, as Jetty's generator does. */
    private static byte[] request(URI uri, boolean tls, int port, String key, Map<String, List<String>> headers,
            List<String> subprotocols, String offer) {
        StringBuilder get = new StringBuilder(512).append("GET ");
        String path = uri.getRawPath();
        get.append(path == null || path.isEmpty() ? "/" : path);
        if (uri.getRawQuery() != null) {
            get.append('?').append(uri.getRawQuery());
        }
        get.append(" HTTP/1.1\r\nHost: ").append(uri.getHost());
        if (uri.getPort() > 0 && port != (tls ? 443 : 80)) {
            get.append(':').append(port);
        }
        get.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key)
                .append("\r\nSec-WebSocket-Version: 13\r\n");
        if (!subprotocols.isEmpty()) {
            header(get, "Sec-WebSocket-Protocol", String.join(", ", subprotocols));
        }
        if (offer != null) {
            header(get, "Sec-WebSocket-Extensions", offer);
        }
        for (Map.Entry<String, List<String>> field : headers.entrySet()) {
            for (String value : field.getValue()) {
                header(get, field.getKey(), value);
            }
        }
        return get.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void header(StringBuilder out, String name, String value) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            out.append(c <= ' ' || c == ':' || c >= 0x7F ? '_' : c);
        }
        out.append(": ");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            out.append((c < ' ' && c != '\t') || c == 0x7F ? ' ' : c > 0xFF ? '?' : c);
        }
        out.append("\r\n");
    }

    CompletableFuture<Connected> result() {
        return result;
    }

    /** Arms the dial's timer and takes a turn: starts now, or waits in the backend's queue. Never throws. */
    void begin() {
        try {
            timer = connector.scheduler().schedule(this::expire, timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) { // the scheduler is stopped
            fail(new DialFailure(Kind.GATEWAY, "the gateway is stopping", e));
            return;
        }
        boolean now;
        try {
            now = connector.acquire(destination, this);
        } catch (DialFailure full) {
            fail(full);
            return;
        }
        holdsTurn = true;
        if (decided.get()) {
            giveBackTurn(); // decided (by the timer) while taking the turn
        } else if (now) {
            start();
        }
    }

    /** The dial's turn came: resolves the host, then connects. Never throws: a failure fails the dial. */
    void start() {
        if (decided.get()) {
            return; // gave up while waiting
        }
        started = true;
        try {
            resolveAndConnect();
        } catch (RuntimeException e) { // e.g. the executor refused the look-up: full, or stopping
            fail(new DialFailure(Kind.GATEWAY, "the gateway could not start the dial", e));
        }
    }

    private void resolveAndConnect() {
        connector.resolve(host, port, new Promise<>() {
            @Override
            public void succeeded(List<InetSocketAddress> resolved) {
                addresses = resolved;
                connectNext(null);
            }

            @Override
            public void failed(Throwable cause) {
                fail(new DialFailure(Kind.UNREACHABLE, "the backend's host " + host + " did not resolve", cause));
            }
        });
    }

    /** Connects to the next resolved address, or fails with the last connect's failure when none is left. */
    private void connectNext(Throwable last) {
        if (decided.get()) {
            return;
        }
        if (next >= addresses.size()) {
            fail(new DialFailure(Kind.UNREACHABLE, "the backend is unreachable", last));
            return;
        }
        try {
            connector.connect(addresses.get(next++), tls, this);
        } catch (RuntimeException e) {
            fail(new DialFailure(Kind.UNREACHABLE, "the backend is unreachable", e));
        }
    }

    /** Hears of a failed connect (or a TLS or connection failure before the exchange took over). */
    Promise<Connection> connectPromise() {
        return new Promise<>() {
            @Override
            public void succeeded(Connection connection) {
                // Open: the exchange is writing the request.
            }

            @Override
            public void failed(Throwable cause) {
                if (exchange == null) {
                    connectNext(cause);
                } else {
                    fail(new DialFailure(Kind.UNREACHABLE, "the backend connection failed", cause));
                }
            }
        };
    }

    @Override
    public Connection newConnection(EndPoint endPoint, Map<String, Object> context) {
        this.endPoint = endPoint;
        Exchange e = new Exchange(endPoint);
        exchange = e;
        if (decided.get()) {
            endPoint.close(); // gave up while connecting
        }
        return e;
    }

    /**
     * The timer: the dial took too long. A refusal already being read is reported as what it is; a dial that
     * never had its turn timed out in the gateway's own queue, which says nothing about the backend.
     */
    private void expire() {
        Exchange e = exchange;
        Answer partial = e == null ? null : e.partialRefusal();
        if (partial != null) {
            fail(new DialFailure(Kind.STATUS, "the backend refused the upgrade with status " + partial.status(), null, partial));
        } else if (!started) {
            fail(new DialFailure(Kind.QUEUE_TIMEOUT, "the dial waited " + timeout.toMillis()
                    + " ms for a turn to this backend", null));
        } else {
            fail(new DialFailure(Kind.TIMEOUT, "the backend did not complete its handshake within "
                    + timeout.toMillis() + " ms", null));
        }
    }

    private void stopTimer() {
        Scheduler.Task t = timer;
        if (t != null) {
            t.cancel();
        }
    }

    /**
     * Gives the dial's turn back (or leaves the queue), exactly once, once it is decided: both {@link #begin}
     * and {@link #decide} call it, so that a dial decided while it took its turn still gives it back.
     */
    private void giveBackTurn() {
        if (holdsTurn && turnGivenBack.compareAndSet(false, true) && !connector.leaveQueue(destination, this)) {
            connector.release(destination);
        }
    }

    private void fail(DialFailure failure) {
        if (!decided.compareAndSet(false, true)) {
            return;
        }
        try {
            stopTimer();
            EndPoint e = endPoint;
            if (e != null) {
                e.close(failure);
            }
            Exchange x = exchange;
            if (x != null) {
                x.release();
            }
        } finally {
            try {
                giveBackTurn();
            } finally {
                complete(null, failure);
            }
        }
    }

    /**
     * Completes the dial's future on the executor: what follows (the client's answer, listeners, the access
     * log) must not run on the selector thread that read the backend's answer, nor on the scheduler's.
     */
    private void complete(Connected connected, DialFailure failure) {
        try {
            connector.executor().execute(() -> {
                if (failure == null) {
                    result.complete(connected);
                } else {
                    result.completeExceptionally(failure);
                }
            });
        } catch (RuntimeException refused) { // the executor is full or stopping: complete here rather than never
            if (failure == null) {
                result.complete(connected);
            } else {
                result.completeExceptionally(failure);
            }
        }
    }

    /**
     * The backend connection until its 101: writes the upgrade request, parses the answer, and decides the
     * dial by it. Runs on the connector's selector thread.
     */
    private final class Exchange extends AbstractConnection.NonBlocking implements Connection.UpgradeFrom,
            HttpParser.ResponseHandler {
        private final HttpParser parser = new HttpParser(this, MAX_HEADER);
        // The read buffer, until the answer is decided. Only the read loop uses it; whichever of the loop's end
        // and release() comes last gives it back (never under a lock of ours: Jetty calls back under its own).
        private final AtomicReference<RetainableByteBuffer> buffer = new AtomicReference<>();
        private final AtomicInteger wakeups = new AtomicInteger(); // reads and releases asked for, not yet run
        private ByteBuffer leftover;         // what followed the 101's header, for the leg; then null
        private int status;                  // the answer's status, once its status line is parsed
        private volatile boolean headerDone; // the answer's header is complete
        private boolean upgrade;             // Upgrade: websocket was answered
        private boolean connection;          // Connection: upgrade was answered
        private String accept;               // the answer's Sec-WebSocket-Accept, or null
        private final List<String> subprotocols = new ArrayList<>(1);
        private final List<String> extensions = new ArrayList<>(1);
        private List<String> cookies;        // the answer's Set-Cookie values, or null
        private Map<String, String> refusalHeaders = Map.of();
        private String contentType;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream(); // guarded by itself
        private boolean complete;            // the whole answer was read
        private boolean interim;             // the response just parsed was a 1xx other than 101
        private volatile boolean released;   // the exchange is over: nothing more is read, the buffer goes back
        private Throwable bad;               // why the parser refused the answer, or null

        Exchange(EndPoint endPoint) {
            super(endPoint, connector.executor());
        }

        @Override
        public void onOpen() {
            super.onOpen();
            getEndPoint().setIdleTimeout(timeout.toMillis());
            getEndPoint().write(Callback.from(InvocationType.NON_BLOCKING, () -> { },
                    cause -> fail(new DialFailure(Kind.UNREACHABLE, "the backend connection failed", cause))),
                    ByteBuffer.wrap(request));
            fillInterested();
        }

        @Override
        public void onFillable() {
            if (wakeups.getAndIncrement() == 0) {
                drive();
            } // else the thread running drive() reads again for this call before it stops
        }

        /**
         * Runs the reads and the release asked for, one at a time, on the thread that found none running; a
         * call that arrives meanwhile (TLS calls back inside a read, on that thread or another) makes it run
         * once more. No lock of ours is held while Jetty is called: Jetty calls back under its own.
         */
        private void drive() {
            do {
                if (released) {
                    Retainable.release(buffer.getAndSet(null));
                } else {
                    try {
                        readAnswer();
                    } catch (Throwable x) {
                        fail(new DialFailure(Kind.UNREACHABLE, "the backend connection failed", x));
                    }
                }
            } while (wakeups.decrementAndGet() != 0);
        }

        /** Reads and parses until the answer is decided or the socket has nothing more for now; in {@link #drive()}. */
        private void readAnswer() throws IOException {
            if (decided.get() || released) {
                return;
            }
            RetainableByteBuffer held = buffer.get();
            if (held == null) {
                held = connector.pool().acquire(BUFFER_SIZE, false);
                BufferUtil.clear(held.getByteBuffer());
                buffer.set(held);
            }
            ByteBuffer in = held.getByteBuffer();
            boolean eof = false;
            while (true) {
                if (!in.hasRemaining()) {
                    BufferUtil.clear(in); // the parser consumed all it was given
                    int filled = getEndPoint().fill(in);
                    if (filled < 0) {
                        eof = true;
                        parser.atEOF();
                    } else if (filled == 0) {
                        fillInterested();
                        return;
                    }
                }
                boolean stopped = parser.parseNext(in);
                if (bad != null) {
                    fail(new DialFailure(Kind.BAD_RESPONSE, "the backend's answer is not a valid HTTP response", bad));
                    return;
                }
                if (interim) {
                    // A 1xx before the answer (100 Continue, 103 Early Hints): skipped, as RFC 9110 asks.
                    interim = false;
                    forget();
                    parser.reset();
                    continue;
                }
                if (stopped || complete || eof) {
                    decide(in);
                    return;
                }
            }
        }

        /** Forgets what an interim response said. */
        private void forget() {
            status = 0;
            upgrade = false;
            connection = false;
            accept = null;
            subprotocols.clear();
            extensions.clear();
            cookies = null;
            refusalHeaders = Map.of();
            contentType = null;
            complete = false;
        }

        /** The answer's header (and, for a refusal, its body) is read, or the backend closed: decides the dial. */
        private void decide(ByteBuffer in) {
            if (!headerDone) {
                fail(new DialFailure(Kind.UNREACHABLE, "the backend closed the connection before answering",
                        new EOFException()));
                return;
            }
            if (status != HttpStatus.SWITCHING_PROTOCOLS_101) {
                Answer answer = refusal();
                fail(new DialFailure(Kind.STATUS, "the backend refused the upgrade with status " + status, null, answer));
                return;
            }
            String invalid = check();
            if (invalid != null) {
                fail(new DialFailure(Kind.INVALID_UPGRADE, "the backend's handshake response was invalid: " + invalid,
                        null, refusal()));
                return;
            }
            if (!decided.compareAndSet(false, true)) {
                return; // the timer won
            }
            Connected connected = null;
            DialFailure failure = null;
            try {
                stopTimer();
                leftover = in.hasRemaining() ? BufferUtil.copy(in) : null;
                release();
                String chosen = subprotocols.isEmpty() ? null : subprotocols.get(0);
                String accepted = extensions.isEmpty() ? null : extensions.get(0).trim();
                FrameLeg leg = new FrameLeg(getEndPoint(), getExecutor(), connector.pool(), FrameLeg.Role.CLIENT,
                        accepted == null ? 0 : FrameHeaders.RSV1, handler, l -> { }, idleTimeout);
                getEndPoint().upgrade(leg);
                connected = new Connected(leg, chosen, accepted,
                        cookies == null ? Map.of() : Map.of("Set-Cookie", List.copyOf(cookies)));
            } catch (RuntimeException e) {
                failure = new DialFailure(Kind.GATEWAY, "the gateway could not take the backend connection over", e);
                getEndPoint().close(e);
            } finally {
                try {
                    giveBackTurn();
                } finally {
                    complete(connected, failure);
                }
            }
        }

        /** Why the 101 is not a valid answer to the request, or null if it is. */
        private String check() {
            if (!upgrade) {
                return "no Upgrade: websocket";
            }
            if (!connection) {
                return "no Connection: upgrade";
            }
            if (!AcceptHash.of(key).equals(accept)) {
                return "a wrong Sec-WebSocket-Accept";
            }
            if (!extensions.isEmpty()) {
                String name = extensions.get(0).split(";", 2)[0].trim();
                if (offer == null || extensions.size() > 1 || !name.equalsIgnoreCase("permessage-deflate")) {
                    return "an extension that was not offered";
                }
            }
            if (subprotocols.size() > 1) {
                return "several subprotocols";
            }
            if (!subprotocols.isEmpty() && !offeredSubprotocols.contains(subprotocols.get(0))) {
                return "a subprotocol that was not offered";
            }
            return null;
        }

        /** The refusal read so far, if its header is complete; else null. */
        Answer partialRefusal() {
            return headerDone && status != HttpStatus.SWITCHING_PROTOCOLS_101 ? refusal() : null;
        }

        private Answer refusal() {
            byte[] bytes;
            synchronized (body) {
                bytes = body.toByteArray();
            }
            return new Answer(status, refusalHeaders, contentType, bytes);
        }

        /**
         * Ends the exchange's reading, from any thread: the buffer goes back now when the read loop is not
         * running, else as the loop ends; later reads find the exchange released.
         */
        void release() {
            released = true;
            if (wakeups.getAndIncrement() == 0) {
                drive();
            } // else the thread running drive() gives it back before it stops
        }

        @Override
        public void onFillInterestedFailed(Throwable cause) {
            fail(new DialFailure(Kind.UNREACHABLE, "the backend connection failed", cause));
        }

        @Override
        public boolean onIdleExpired(TimeoutException timeoutException) {
            expire();
            return true;
        }

        @Override
        public ByteBuffer onUpgradeFrom() {
            ByteBuffer rest = leftover;
            leftover = null;
            return rest;
        }

        // ---- HttpParser.ResponseHandler ----

        @Override
        public void startResponse(HttpVersion version, int status, String reason) {
            this.status = status;
        }

        @Override
        public void parsedHeader(HttpField field) {
            HttpHeader header = field.getHeader();
            if (header == null) {
                return;
            }
            switch (header) {
                case UPGRADE -> upgrade |= field.contains("websocket");
                case CONNECTION -> connection |= field.contains("upgrade");
                case SEC_WEBSOCKET_ACCEPT -> accept = field.getValue();
                case SEC_WEBSOCKET_SUBPROTOCOL -> {
                    for (String value : field.getValues()) {
                        if (!value.isBlank()) {
                            subprotocols.add(value.trim());
                        }
                    }
                }
                case SEC_WEBSOCKET_EXTENSIONS -> {
                    for (String value : field.getValues()) {
                        if (!value.isBlank()) {
                            extensions.add(value.trim());
                        }
                    }
                }
                case SET_COOKIE -> {
                    if (cookies == null) {
                        cookies = new ArrayList<>(2);
                    }
                    cookies.add(field.getValue());
                }
                case CONTENT_TYPE -> contentType = field.getValue();
                case WWW_AUTHENTICATE, RETRY_AFTER -> {
                    if (refusalHeaders.isEmpty()) {
                        refusalHeaders = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                    }
                    refusalHeaders.putIfAbsent(header.asString(), field.getValue());
                }
                default -> {
                }
            }
        }

        @Override
        public boolean headerComplete() {
            if (status >= 100 && status < 200 && status != HttpStatus.SWITCHING_PROTOCOLS_101) {
                interim = true;
                return true; // an interim response: the answer follows it
            }
            headerDone = true;
            // A 101 ends here: what follows is the backend's first frames. A refusal's body is read on.
            return status == HttpStatus.SWITCHING_PROTOCOLS_101;
        }

        @Override
        public boolean content(ByteBuffer item) {
            synchronized (body) {
                int n = Math.min(MAX_BODY - body.size(), item.remaining());
                for (int i = 0; i < n; i++) {
                    body.write(item.get(item.position() + i));
                }
                return body.size() >= MAX_BODY; // enough: stop reading
            }
        }

        @Override
        public boolean contentComplete() {
            return false;
        }

        @Override
        public boolean messageComplete() {
            complete = true;
            return true;
        }

        @Override
        public void earlyEOF() {
            complete = true; // a refusal cut short is still a refusal; a header cut short is caught by headerDone
        }

        @Override
        public void badMessage(HttpException failure) {
            bad = failure instanceof Throwable cause ? cause : new IOException(failure.getReason());
        }
    }
}
