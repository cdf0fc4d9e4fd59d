package dev.gatehouse.jetty;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A real Jetty WebSocket backend on 127.0.0.1, port 0, with endpoints the tests drive:
 * <ul>
 * <li>{@code /echo}: echoes every message; records each handshake and each close it receives;</li>
 * <li>{@code /any/*}: like echo, for any path below {@code /any};</li>
 * <li>{@code /plain}: like echo, and declines every extension offered (permessage-deflate included);</li>
 * <li>{@code /proto}: like echo, and selects the first subprotocol the client offers;</li>
 * <li>{@code /close}: on the first message, closes with the code and reason of the query
 *     ({@code ?code=4000&reason=bye});</li>
 * <li>{@code /reject}: refuses the upgrade with 403 and a JSON body;</li>
 * <li>{@code /flood}: sends {@code count} binary messages of {@code size} bytes, each after the previous
 *     send completed, counting completed sends;</li>
 * <li>{@code /held}: like echo, but answers no upgrade until {@link #holdUpgrades(int) the set number} of
 *     upgrades are waiting together (or {@link #HELD_MAX_SECONDS} seconds have passed, then 503).</li>
 * </ul>
 * and one plain HTTP endpoint: {@code GET /health} answers {@link #healthStatus} (200 unless a test changes it).
 * Any other plain request gets 404.
 */
public final class TestBackend implements AutoCloseable {

    /** What the backend saw of one upgrade request. */
    public record Upgrade(String path, String query, Map<String, List<String>> headers, List<String> subprotocols) {
        /** The first value of the header, whatever the case of its name, or null. */
        public String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    /** A close the backend received. */
    public record Closed(int code, String reason) {
    }

    /** How long {@code /held} holds an upgrade: 10 s, for the storms of tests to gather on a loaded machine. */
    static final int HELD_MAX_SECONDS = 10;

    final BlockingQueue<Upgrade> upgrades = new LinkedBlockingQueue<>();
    final BlockingQueue<Closed> closes = new LinkedBlockingQueue<>();
    final BlockingQueue<String> texts = new LinkedBlockingQueue<>(); // every text message an echo endpoint got
    final BlockingQueue<Session> sessions = new LinkedBlockingQueue<>();
    final AtomicInteger floodSent = new AtomicInteger();
    /** The status {@code GET /health} answers. */
    volatile int healthStatus = 200;
    private volatile CountDownLatch held = new CountDownLatch(0); // the upgrades /held waits for
    private final Server server;
    private final ServerConnector connector;
    private final String scheme;

    public TestBackend() throws Exception {
        this(null);
    }

    /** A backend serving {@code wss://} with this TLS factory, or plain {@code ws://} when null. */
    TestBackend(org.eclipse.jetty.util.ssl.SslContextFactory.Server tls) throws Exception {
        this(tls, 0);
    }

    /** A backend on this port of 127.0.0.1 (0 for any), e.g. the port of a backend just stopped, to restart it. */
    TestBackend(org.eclipse.jetty.util.ssl.SslContextFactory.Server tls, int port) throws Exception {
        server = new Server();
        if (tls == null) {
            connector = new ServerConnector(server);
        } else {
            // No SNI host check: a test backend may present a certificate for another name on purpose.
            org.eclipse.jetty.server.HttpConfiguration https = new org.eclipse.jetty.server.HttpConfiguration();
            https.addCustomizer(new org.eclipse.jetty.server.SecureRequestCustomizer(false));
            connector = new ServerConnector(server, tls, new org.eclipse.jetty.server.HttpConnectionFactory(https));
        }
        this.scheme = tls == null ? "ws" : "wss";
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(128L << 20);
            container.setMaxBinaryMessageSize(128L << 20);
            container.setIdleTimeout(Duration.ofMinutes(5));
            container.addMapping("/echo", (rq, rs, cb) -> {
                record(rq);
                return new Echo(null);
            });
            container.addMapping("/any/*", (rq, rs, cb) -> {
                record(rq);
                return new Echo(null);
            });
            container.addMapping("/plain", (rq, rs, cb) -> {
                record(rq);
                rs.setExtensions(List.of());
                return new Echo(null);
            });
            container.addMapping("/proto", (rq, rs, cb) -> {
                record(rq);
                if (!rq.getSubProtocols().isEmpty()) {
                    rs.setAcceptedSubProtocol(rq.getSubProtocols().get(0));
                }
                rs.getHeaders().put(HttpHeader.SET_COOKIE, "backend=1; Path=/");
                return new Echo(null);
            });
            container.addMapping("/close", (rq, rs, cb) -> {
                record(rq);
                Map<String, List<String>> q = Request.extractQueryParameters(rq).toStringArrayMap().entrySet().stream()
                        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> List.of(e.getValue())));
                int code = Integer.parseInt(q.get("code").get(0));
                String reason = q.containsKey("reason") ? q.get("reason").get(0) : "";
                return new Echo(new Closed(code, reason));
            });
            container.addMapping("/reject", (rq, rs, cb) -> {
                record(rq);
                rs.setStatus(403);
                rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                Content.Sink.write(rs, true, "{\"backend\":\"says no\"}", cb);
                return null;
            });
            container.addMapping("/held", (rq, rs, cb) -> {
                CountDownLatch together = held;
                together.countDown();
                try {
                    if (!together.await(HELD_MAX_SECONDS, TimeUnit.SECONDS)) {
                        rs.setStatus(503);
                        cb.succeeded();
                        return null;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                record(rq);
                return new Echo(null);
            });
            container.addMapping("/flood", (rq, rs, cb) -> {
                record(rq);
                Map<String, String[]> q = Request.extractQueryParameters(rq).toStringArrayMap();
                return new Flood(Integer.parseInt(q.get("count")[0]), Integer.parseInt(q.get("size")[0]));
            });
        });
        ws.setHandler(new org.eclipse.jetty.server.Handler.Abstract() {
            @Override
            public boolean handle(Request request, org.eclipse.jetty.server.Response response,
                    org.eclipse.jetty.util.Callback callback) {
                if (!request.getHttpURI().getPath().equals("/health")) {
                    return false;
                }
                int status = healthStatus;
                response.setStatus(status);
                Content.Sink.write(response, true, status == 200 ? "up" : "down", callback);
                return true;
            }
        });
        server.setHandler(ws);
        server.start();
    }

    private void record(ServerUpgradeRequest rq) {
        Map<String, List<String>> headers = new java.util.LinkedHashMap<>();
        rq.getHeaders().forEach(f -> headers.computeIfAbsent(f.getName(), k -> new java.util.ArrayList<>()).add(f.getValue()));
        upgrades.add(new Upgrade(rq.getHttpURI().getPath(), rq.getHttpURI().getQuery(), headers, rq.getSubProtocols()));
    }

    /** Makes {@code /held} answer no upgrade until {@code count} upgrades are waiting at once. */
    void holdUpgrades(int count) {
        held = new CountDownLatch(count);
    }

    public URI uri(String path) {
        return URI.create(url(path));
    }

    /** The URL of a path, which may be a URI template such as {@code /any/{room}} that {@link URI} refuses. */
    public String url(String path) {
        return scheme + "://127.0.0.1:" + connector.getLocalPort() + path;
    }

    int port() {
        return connector.getLocalPort();
    }

    /** The next upgrade the backend saw, waiting up to 5 s for it. */
    public Upgrade nextUpgrade() throws InterruptedException {
        Upgrade u = upgrades.poll(5, TimeUnit.SECONDS);
        if (u == null) {
            throw new AssertionError("the backend saw no upgrade within 5 s");
        }
        return u;
    }

    /** The next close the backend received, waiting up to 5 s for it. */
    public Closed nextClose() throws InterruptedException {
        Closed c = closes.poll(5, TimeUnit.SECONDS);
        if (c == null) {
            throw new AssertionError("the backend saw no close within 5 s");
        }
        return c;
    }

    Session nextSession() throws InterruptedException {
        Session s = sessions.poll(5, TimeUnit.SECONDS);
        if (s == null) {
            throw new AssertionError("no backend session within 5 s");
        }
        return s;
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** Echoes messages; optionally closes with a status on the first message. */
    public final class Echo extends Session.Listener.AbstractAutoDemanding {
        private final Closed closeWith;

        Echo(Closed closeWith) {
            this.closeWith = closeWith;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            super.onWebSocketOpen(session);
            sessions.add(session);
        }

        @Override
        public void onWebSocketText(String message) {
            texts.add(message);
            if (closeWith != null) {
                getSession().close(closeWith.code(), closeWith.reason(), Callback.NOOP);
            } else {
                getSession().sendText(message, Callback.NOOP);
            }
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            getSession().sendBinary(copy, Callback.NOOP);
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason, Callback callback) {
            closes.add(new Closed(statusCode, reason == null ? "" : reason));
            callback.succeed();
        }
    }

    /** Sends count × size bytes, one send at a time. */
    public final class Flood extends Session.Listener.AbstractAutoDemanding {
        private final int count;
        private final byte[] payload;

        Flood(int count, int size) {
            this.count = count;
            this.payload = new byte[size];
            java.util.Arrays.fill(payload, (byte) 'x');
        }

        @Override
        public void onWebSocketOpen(Session session) {
            super.onWebSocketOpen(session);
            sessions.add(session);
            sendNext(session, 0);
        }

        private void sendNext(Session session, int i) {
            if (i == count) {
                return;
            }
            ByteBuffer buf = ByteBuffer.wrap(payload.clone());
            buf.put(0, (byte) (i & 0x7F));
            session.sendBinary(buf, Callback.from(() -> {
                floodSent.incrementAndGet();
                sendNext(session, i + 1);
            }, x -> { }));
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason, Callback callback) {
            closes.add(new Closed(statusCode, reason == null ? "" : reason));
            callback.succeed();
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
