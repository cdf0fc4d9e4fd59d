package dev.gatehouse.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.ClientConnectionFactory;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.Retainable;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;
import org.eclipse.jetty.websocket.core.util.WebSocketUtils;

/**
 * A reference relay below WebSocket ({@code --relay endpoint-tunnel}): two Jetty {@link EndPoint}s spliced by
 * a connection that copies bytes both ways, verbatim (client frames stay masked, which the backend accepts).
 * It knows nothing of WebSocket beyond the handshake, so it is the ceiling of Jetty's I/O layer for a relay
 * on this machine: what reading and writing two sockets costs, with nothing parsed.
 *
 * <p><b>Handshake.</b> The handler answers a client's upgrade on {@code /echo} by dialling the backend's
 * {@code /echo} first, with a {@link ClientConnector} (as many selectors as the server connector has) and a
 * GET written by hand: a fresh key, the client's {@code Sec-WebSocket-Protocol} and
 * {@code Sec-WebSocket-Extensions} offers passed on as they came. Jetty's {@link HttpParser} reads the 101 (it
 * stops after the header, leaving any frame the backend sent with it in the buffer). Then the backend
 * {@link EndPoint} is upgraded to a {@link Splice} that takes those leftover bytes, and the client gets its 101
 * (the accept hash of its own key, the backend's chosen subprotocol and extensions) with a second splice set as
 * {@link HttpStream#UPGRADE_CONNECTION_ATTRIBUTE}: Jetty installs it on the client's endpoint once the 101 is
 * written, with any frame the client sent early. A failed dial answers 502. Everything runs on selector
 * threads: the handler is non-blocking (the server is made static so that it says so), so Jetty parses the
 * upgrade request on its selector too; the backend's connect is non-blocking.
 *
 * <p><b>Relay.</b> Each direction is an {@link IteratingCallback}, as in Jetty's {@code ConnectHandler}: fill a
 * pooled buffer from one endpoint, write it to the other, and fill again only when that write completed; an
 * empty fill releases the buffer and registers read interest. Fill and write callbacks are
 * {@code NON_BLOCKING}, so Jetty's selector runs them on its own thread, with no hand-off. End of input or
 * any failure, on either side, closes both endpoints. No policies, limits, timers or frame parsing; Jetty's
 * idle timeout (the connector's) still closes a silent pair.
 */
final class EndpointTunnel {

    /** The size of the pooled buffer a direction reads into: one 16 KiB message and its header fit. */
    static final int BUFFER_SIZE = 32 * 1024;
    /** How long the backend has to answer the upgrade once connected. */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

    private static final HttpField UPGRADE_WEBSOCKET = new PreEncodedHttpField(HttpHeader.UPGRADE, "websocket");
    private static final HttpField CONNECTION_UPGRADE = new PreEncodedHttpField(HttpHeader.CONNECTION, "Upgrade");

    private EndpointTunnel() {
    }

    /**
     * The handler relaying {@code /echo} on {@code connector}'s server to {@code backend}'s {@code /echo}. It adds
     * its {@link ClientConnector} to the server, which starts and stops it, and makes the server static (its
     * handler fixed once started) so that Jetty handles upgrade requests on the selector thread.
     */
    static Handler handler(ServerConnector connector, URI backend) {
        Server server = connector.getServer();
        ClientConnector dialer = new ClientConnector();
        dialer.setExecutor(server.getThreadPool());
        dialer.setScheduler(server.getScheduler());
        dialer.setByteBufferPool(server.getByteBufferPool());
        // The default is one selector; backend legs get as many as the client legs (Jetty's own default there).
        dialer.setSelectors(connector.getSelectorManager().getSelectorCount());
        dialer.setConnectTimeout(HANDSHAKE_TIMEOUT);
        dialer.setIdleTimeout(Duration.ofMillis(connector.getIdleTimeout()));
        server.addBean(dialer);
        // A dynamic server reports BLOCKING whatever its handler, and every request would go to a pool thread.
        server.setDynamic(false);
        return new Upgrades(dialer, new InetSocketAddress(backend.getHost(), backend.getPort()),
                backend.getHost() + ":" + backend.getPort());
    }

    /** Answers WebSocket upgrades on {@code /echo} by dialling the backend first; never blocks. */
    private static final class Upgrades extends Handler.Abstract.NonBlocking {
        private final ClientConnector dialer;
        private final InetSocketAddress backend;
        private final String host;

        Upgrades(ClientConnector dialer, InetSocketAddress backend, String host) {
            this.dialer = dialer;
            this.backend = backend;
            this.host = host;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            if (!"/echo".equals(Request.getPathInContext(request))) {
                Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
                return true;
            }
            HttpFields headers = request.getHeaders();
            String key = headers.get(HttpHeader.SEC_WEBSOCKET_KEY);
            if (key == null || !HttpMethod.GET.is(request.getMethod())
                    || !HttpVersion.HTTP_1_1.is(request.getConnectionMetaData().getProtocol())
                    || !headers.contains(HttpHeader.UPGRADE, "websocket") || !headers.contains(HttpHeader.CONNECTION, "upgrade")
                    || !"13".equals(headers.get(HttpHeader.SEC_WEBSOCKET_VERSION))) {
                Response.writeError(request, response, callback, HttpStatus.BAD_REQUEST_400);
                return true;
            }
            Dial dial = new Dial(request, response, callback, key, host, dialer.getExecutor(), dialer.getByteBufferPool());
            Map<String, Object> context = new HashMap<>();
            context.put(Transport.CONTEXT_KEY, Transport.TCP_IP);
            context.put(ClientConnectionFactory.CONTEXT_KEY, dial);
            context.put(ClientConnector.CONNECTION_PROMISE_CONTEXT_KEY, dial);
            dialer.connect(backend, context);
            return true;
        }
    }

    /**
     * One client's upgrade, from its request to its 101: makes the backend connection's {@link Handshake},
     * hears of a failed connect, and answers the client exactly once, with a 101 or a 502.
     */
    private static final class Dial implements ClientConnectionFactory, Promise<Connection> {
        private final Request request;
        private final Response response;
        private final Callback callback;
        private final String clientKey;
        private final String backendKey;
        private final byte[] upgradeRequest;
        private final Executor executor;
        private final ByteBufferPool pool;
        private final AtomicBoolean answered = new AtomicBoolean(); // set once the client's answer is decided

        Dial(Request request, Response response, Callback callback, String clientKey, String host, Executor executor,
                ByteBufferPool pool) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.clientKey = clientKey;
            this.executor = executor;
            this.pool = pool;
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            this.backendKey = Base64.getEncoder().encodeToString(nonce);
            StringBuilder get = new StringBuilder(256).append("GET /echo HTTP/1.1\r\nHost: ").append(host)
                    .append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(backendKey)
                    .append("\r\nSec-WebSocket-Version: 13\r\n");
            for (HttpField field : request.getHeaders()) {
                if (field.getHeader() == HttpHeader.SEC_WEBSOCKET_SUBPROTOCOL
                        || field.getHeader() == HttpHeader.SEC_WEBSOCKET_EXTENSIONS) {
                    get.append(field.getName()).append(": ").append(field.getValue()).append("\r\n");
                }
            }
            this.upgradeRequest = get.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        }

        @Override
        public Connection newConnection(EndPoint endPoint, Map<String, Object> context) {
            return new Handshake(endPoint, this);
        }

        @Override
        public void succeeded(Connection connection) {
            // Connected: the handshake connection is already writing the upgrade request.
        }

        @Override
        public void failed(Throwable cause) {
            if (answered.compareAndSet(false, true)) {
                Response.writeError(request, response, callback, HttpStatus.BAD_GATEWAY_502, "backend dial failed: " + cause);
            }
        }

        /**
         * The backend accepted: answers the client 101 with a splice for its endpoint; Jetty installs it once
         * the 101 is written, and its {@link Splice#onOpen()} starts both directions.
         */
        void accepted(Splice back, String subprotocol, String extensions) {
            if (!answered.compareAndSet(false, true)) {
                back.getEndPoint().close();
                return;
            }
            Splice front = new Splice(request.getConnectionMetaData().getConnection().getEndPoint(), executor, pool, back,
                    true);
            back.peer = front;
            request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, front); // before the 101 is written
            response.setStatus(HttpStatus.SWITCHING_PROTOCOLS_101);
            HttpFields.Mutable fields = response.getHeaders();
            fields.put(UPGRADE_WEBSOCKET);
            fields.put(CONNECTION_UPGRADE);
            fields.put(HttpHeader.SEC_WEBSOCKET_ACCEPT, WebSocketUtils.hashKey(clientKey));
            if (subprotocol != null) {
                fields.put(HttpHeader.SEC_WEBSOCKET_SUBPROTOCOL, subprotocol);
            }
            if (extensions != null) {
                fields.put(HttpHeader.SEC_WEBSOCKET_EXTENSIONS, extensions);
            }
            response.write(true, null, new Callback.Nested(callback) {
                @Override
                public void failed(Throwable cause) {
                    back.getEndPoint().close(cause); // the client is gone: so is its backend connection
                    super.failed(cause);
                }
            });
        }
    }

    /**
     * The backend connection until its 101: writes the upgrade request, parses the answer, and checks it; then
     * upgrades its endpoint to a {@link Splice}, handing over what the backend sent after the 101's header.
     * Runs on the dialler's selector thread.
     */
    private static final class Handshake extends AbstractConnection.NonBlocking
            implements Connection.UpgradeFrom, HttpParser.ResponseHandler {
        private final Dial dial;
        private final HttpParser parser = new HttpParser(this);
        private RetainableByteBuffer buffer; // the read buffer, from the first read until the 101's header is parsed
        private ByteBuffer leftover;         // what followed the 101's header, for the splice; then null
        private int status;                  // the answer's status, once its status line is parsed
        private boolean upgrade;             // whether Upgrade: websocket was answered
        private boolean connection;          // whether Connection: Upgrade was answered
        private String accept;               // the answer's Sec-WebSocket-Accept, or null
        private String subprotocol;          // the backend's chosen subprotocol, or null
        private String extensions;           // the backend's accepted extensions, or null
        private Throwable bad;               // why the parser refused the answer, or null

        Handshake(EndPoint endPoint, Dial dial) {
            super(endPoint, dial.executor);
            this.dial = dial;
        }

        @Override
        public void onOpen() {
            super.onOpen();
            getEndPoint().setIdleTimeout(HANDSHAKE_TIMEOUT.toMillis());
            getEndPoint().write(Callback.from(InvocationType.NON_BLOCKING, () -> { }, this::fail),
                    ByteBuffer.wrap(dial.upgradeRequest));
            fillInterested();
        }

        @Override
        public void onFillable() {
            try {
                if (buffer == null) {
                    buffer = dial.pool.acquire(BUFFER_SIZE, true);
                }
                ByteBuffer in = buffer.getByteBuffer();
                while (true) {
                    BufferUtil.clear(in); // the parser consumes all it is given until the header is complete
                    int filled = getEndPoint().fill(in);
                    if (filled < 0) {
                        fail(new EOFException("the backend closed before answering the upgrade"));
                        return;
                    }
                    if (parser.parseNext(in)) {
                        break;
                    }
                    if (bad != null) {
                        fail(bad);
                        return;
                    }
                    if (filled == 0) {
                        fillInterested();
                        return;
                    }
                }
                if (status != HttpStatus.SWITCHING_PROTOCOLS_101 || !upgrade || !connection
                        || !WebSocketUtils.hashKey(dial.backendKey).equals(accept)) {
                    fail(new IOException("the backend refused the upgrade: status " + status));
                    return;
                }
                leftover = in.hasRemaining() ? BufferUtil.copy(in) : null;
                buffer = Retainable.release(buffer);
                Splice back = new Splice(getEndPoint(), getExecutor(), dial.pool, null, false);
                getEndPoint().setIdleTimeout(dial.request.getConnectionMetaData().getConnector().getIdleTimeout());
                getEndPoint().upgrade(back);
                dial.accepted(back, subprotocol, extensions);
            } catch (Throwable x) {
                fail(x);
            }
        }

        @Override
        public void onFillInterestedFailed(Throwable cause) {
            fail(cause); // closed, or no answer in time
        }

        @Override
        public ByteBuffer onUpgradeFrom() {
            ByteBuffer rest = leftover;
            leftover = null;
            return rest;
        }

        private void fail(Throwable cause) {
            buffer = Retainable.release(buffer);
            getEndPoint().close(cause);
            dial.failed(cause);
        }

        @Override
        public void startResponse(HttpVersion version, int status, String reason) {
            this.status = status;
        }

        @Override
        public void parsedHeader(HttpField field) {
            HttpHeader header = field.getHeader();
            if (header == HttpHeader.UPGRADE) {
                upgrade |= field.contains("websocket");
            } else if (header == HttpHeader.CONNECTION) {
                connection |= field.contains("upgrade");
            } else if (header == HttpHeader.SEC_WEBSOCKET_ACCEPT) {
                accept = field.getValue();
            } else if (header == HttpHeader.SEC_WEBSOCKET_SUBPROTOCOL) {
                subprotocol = field.getValue();
            } else if (header == HttpHeader.SEC_WEBSOCKET_EXTENSIONS) {
                extensions = extensions == null ? field.getValue() : extensions + ", " + field.getValue();
            }
        }

        @Override
        public boolean headerComplete() {
            return true; // stop here: what follows is the backend's first frames, not HTTP
        }

        @Override
        public boolean content(ByteBuffer item) {
            return false;
        }

        @Override
        public boolean contentComplete() {
            return false;
        }

        @Override
        public boolean messageComplete() {
            return true;
        }

        @Override
        public void earlyEOF() {
            bad = new HttpException.RuntimeException(HttpStatus.BAD_GATEWAY_502, "the backend's answer ended early");
        }

        @Override
        public void badMessage(HttpException failure) {
            bad = failure instanceof Throwable cause ? cause : new IOException(failure.getReason());
        }
    }

    /**
     * One end of a tunnel: the connection of one endpoint, whose {@link Pump} copies what it reads to the
     * peer's endpoint. The backend's splice is opened first (upgraded from its {@link Handshake}) and waits;
     * the client's is opened by Jetty once the client's 101 is written, and starts both directions, so that
     * nothing is written to the client before Jetty's HTTP connection let go of it.
     */
    static final class Splice extends AbstractConnection.NonBlocking implements Connection.UpgradeTo {
        private final ByteBufferPool pool;
        private final boolean starts;
        private final Pump pump = new Pump();
        private Splice peer;            // the other end; set before either end starts pumping, never changed
        private volatile ByteBuffer early; // bytes read before this splice took over, to go to the peer first; then null

        Splice(EndPoint endPoint, Executor executor, ByteBufferPool pool, Splice peer, boolean starts) {
            super(endPoint, executor);
            this.pool = pool;
            this.peer = peer;
            this.starts = starts;
        }

        @Override
        public void onUpgradeTo(ByteBuffer buffer) {
            early = buffer; // a buffer of its own: Jetty's HttpConnection and the Handshake both copy
        }

        @Override
        public void onOpen() {
            super.onOpen();
            if (starts) {
                pump.iterate();
                peer.pump.iterate();
            }
        }

        @Override
        public void onFillable() {
            pump.iterate();
        }

        @Override
        public void onFillInterestedFailed(Throwable cause) {
            closeBoth(cause);
        }

        @Override
        public void onClose(Throwable cause) {
            super.onClose(cause);
            Splice other = peer;
            if (other != null) {
                other.getEndPoint().close(cause);
            }
        }

        private void closeBoth(Throwable cause) {
            getEndPoint().close(cause);
            peer.getEndPoint().close(cause);
        }

        /**
         * Copies this splice's endpoint to the peer's: fill, write, and fill again once the write completed.
         * Both the fill callback and the write callback, {@code NON_BLOCKING}: the selector runs it.
         */
        private final class Pump extends IteratingCallback {
            private RetainableByteBuffer buffer; // the buffer of the write in flight, or null

            @Override
            protected Action process() throws IOException {
                ByteBuffer first = early;
                if (first != null) {
                    early = null;
                    peer.getEndPoint().write(this, first);
                    return Action.SCHEDULED;
                }
                buffer = pool.acquire(BUFFER_SIZE, true);
                ByteBuffer in = buffer.getByteBuffer();
                int filled = getEndPoint().fill(in);
                if (filled > 0) {
                    peer.getEndPoint().write(this, in);
                    return Action.SCHEDULED;
                }
                buffer = Retainable.release(buffer);
                if (filled == 0) {
                    fillInterested(this);
                    return Action.SCHEDULED;
                }
                return Action.SUCCEEDED; // end of input: onCompleteSuccess closes both ends
            }

            @Override
            protected void onSuccess() {
                buffer = Retainable.release(buffer);
            }

            @Override
            protected void onCompleteSuccess() {
                closeBoth(null);
            }

            @Override
            protected void onCompleteFailure(Throwable cause) {
                buffer = Retainable.release(buffer);
                closeBoth(cause);
            }

            @Override
            public InvocationType getInvocationType() {
                return InvocationType.NON_BLOCKING;
            }
        }
    }
}
