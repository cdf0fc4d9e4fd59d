package dev.gatehouse.bench;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.core.util.WebSocketUtils;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The endpoint tunnel in this JVM, between the JDK's WebSocket client and a Jetty echo backend, all on port 0. */
@Timeout(30)
class EndpointTunnelTest {

    private Server backend;
    private Server tunnel;
    private int tunnelPort;

    /** Records whole messages and the close. */
    private static final class Recorder implements WebSocket.Listener {
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                events.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            binary.write(bytes, 0, bytes.length);
            if (last) {
                events.add(binary.toByteArray());
                binary.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            events.add(statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            events.add(error);
        }

        Object next() throws InterruptedException {
            Object event = events.poll(5, SECONDS);
            if (event instanceof Throwable failure) {
                throw new AssertionError("the client failed", failure);
            }
            return event;
        }
    }

    @BeforeEach
    void start() throws Exception {
        backend = new Server();
        ServerConnector backendConnector = new ServerConnector(backend);
        backendConnector.setHost("127.0.0.1");
        backend.addConnector(backendConnector);
        backend.setHandler(WebSocketUpgradeHandler.from(backend, container -> {
            container.setMaxBinaryMessageSize(EchoBackend.MAX_MESSAGE);
            container.addMapping("/echo", (request, response, callback) -> {
                if (request.getSubProtocols().contains("chat.v1")) {
                    response.setAcceptedSubProtocol("chat.v1");
                }
                return new EchoBackend.Echo();
            });
        }));
        backend.start();
        tunnel = startTunnel(URI.create("ws://127.0.0.1:" + backendConnector.getLocalPort()));
        tunnelPort = ((ServerConnector) tunnel.getConnectors()[0]).getLocalPort();
    }

    private static Server startTunnel(URI target) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(EndpointTunnel.handler(connector, target));
        server.start();
        return server;
    }

    @AfterEach
    void stop() throws Exception {
        tunnel.stop();
        backend.stop();
    }

    @Test
    void echoesTextAndLargeBinaryThroughTheSpliceWithTheBackendsSubprotocolAndRelaysTheClose() throws Exception {
        Recorder client = new Recorder();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .subprotocols("chat.v1")
                .buildAsync(URI.create("ws://127.0.0.1:" + tunnelPort + "/echo"), client)
                .get(5, SECONDS);
        assertEquals("chat.v1", ws.getSubprotocol());

        ws.sendText("hello", true).get(5, SECONDS);
        assertEquals("hello", client.next());

        // Many reads and writes of the 32 KiB buffer each way, masked one way and not the other.
        byte[] payload = new byte[1 << 20];
        new Random(12).nextBytes(payload);
        ws.sendBinary(ByteBuffer.wrap(payload), true).get(5, SECONDS);
        assertArrayEquals(payload, (byte[]) client.next());

        ws.sendClose(1000, "bye").get(5, SECONDS);
        assertEquals("1000 bye", client.next());
    }

    @Test
    void relaysAFrameSentTogetherWithTheUpgradeRequest() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", tunnelPort)) {
            socket.setSoTimeout(5000);
            String key = "dGhlIHNhbXBsZSBub25jZQ==";
            byte[] upgrade = ("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] mask = {1, 2, 3, 4};
            byte[] text = "early".getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            first.write(upgrade);
            first.write(0x81); // FIN, text
            first.write(0x80 | text.length);
            first.write(mask);
            for (int i = 0; i < text.length; i++) {
                first.write(text[i] ^ mask[i % 4]);
            }
            OutputStream out = socket.getOutputStream();
            out.write(first.toByteArray()); // one write: Jetty's HTTP connection reads the frame with the request
            out.flush();

            InputStream in = socket.getInputStream();
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 101 "), head);
            assertTrue(head.contains("Sec-WebSocket-Accept: " + WebSocketUtils.hashKey(key) + "\r\n"), head);
            assertArrayEquals(new byte[] {(byte) 0x81, 5, 'e', 'a', 'r', 'l', 'y'}, in.readNBytes(7));
        }
    }

    @Test
    void answers502WhenTheBackendCannotBeReached() throws Exception {
        int closedPort;
        try (ServerSocket unused = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = unused.getLocalPort();
        }
        Server orphan = startTunnel(URI.create("ws://127.0.0.1:" + closedPort));
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", ((ServerConnector) orphan.getConnectors()[0]).getLocalPort()), 5000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String head = readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 502 "), head);
        } finally {
            orphan.stop();
        }
    }

    @Test
    void answers400ToAPlainRequestAnd404ElsewhereWithoutDialling() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<Void> plain = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tunnelPort + "/echo"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(400, plain.statusCode());
        HttpResponse<Void> elsewhere = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tunnelPort + "/other"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(404, elsewhere.statusCode());
    }

    /** Reads an HTTP response's head, through its blank line, byte by byte so that nothing after it is consumed. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }
}
