package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/**
 * Frames that break RFC 6455: the client gets the close code that says so, the backend 1001, and the
 * access log the code sent and what happened.
 */
class ProtocolErrorTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @BeforeEach
    void clearLog() {
        RecordingLogProvider.clear();
    }

    private GatewayServer start(Mount mount) throws Exception {
        return servers.start(Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo").toString())))
                .build(), mount);
    }

    /** The access-log line of the connection that ended, waiting for it up to 5 s. */
    private static String accessLine() throws InterruptedException {
        return RecordingLogProvider.awaitLine(l -> l.contains("dev.gatehouse.access") && l.contains("\"status\":101"));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aFrameWithReservedBitsClosesTheClientWith1002AndIsLoggedAsAProtocolError(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (RawWebSocket ws = RawWebSocket.open(gw.uri("/echo"))) {
            servers.backend().nextUpgrade();
            ws.write(0xA1, 0x80, 0, 0, 0, 0); // FIN, RSV2, TEXT; masked, empty

            assertEquals(1002, ws.readFrame().closeCode());
        }
        assertEquals(new TestBackend.Closed(1001, ""), servers.backend().nextClose());
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":1002,") && line.contains("\"cause\":\"client protocol error"), line);
        assertTrue(line.contains("\"initiator\":\"gateway\""), line);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aTopBitFrameLengthClosesTheClientWith1002AndIsLoggedAsAProtocolError(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (RawWebSocket ws = RawWebSocket.open(gw.uri("/echo"))) {
            servers.backend().nextUpgrade();
            ws.write(RawWebSocket.header64(0x81, 0x8000_0000_0000_0000L));

            assertEquals(1002, ws.readFrame().closeCode());
        }
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":1002,") && line.contains("\"cause\":\"client protocol error: a 64-bit payload length with its most "
                + "significant bit set\""), line);
    }

    /**
     * A client that sends the start of a frame right behind its upgrade request, before the 101: the rest of
     * the frame, which looks like a header with a top-bit length, is relayed as the payload it is.
     */
    @ParameterizedTest
    @EnumSource(Mount.class)
    void aFrameBegunRightBehindTheUpgradeRequestIsRelayedWhole(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        URI uri = gw.uri("/echo");
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(5_000);
            byte[] request = ("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            byte[] begun = {(byte) 0x82, (byte) 0x85, 0, 0, 0, 0}; // binary, masked with key 0, 5 bytes
            byte[] both = Arrays.copyOf(request, request.length + begun.length);
            System.arraycopy(begun, 0, both, request.length, begun.length);
            socket.getOutputStream().write(both); // before the 101, in the same segment
            InputStream in = socket.getInputStream();
            String head = "";
            while (!head.endsWith("\r\n\r\n")) {
                head += (char) in.read();
            }
            assertTrue(head.startsWith("HTTP/1.1 101 "), head);

            byte[] payload = {(byte) 0x82, (byte) 0xFF, (byte) 0x80, 0, 0};
            socket.getOutputStream().write(payload);

            byte[] echo = in.readNBytes(2 + payload.length);
            assertArrayEquals(new byte[] {(byte) 0x82, 5, (byte) 0x82, (byte) 0xFF, (byte) 0x80, 0, 0}, echo);
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aCloseReasonThatIsNotUtf8ClosesTheClientWith1007AndIsLoggedAsInvalidPayload(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (RawWebSocket ws = RawWebSocket.open(gw.uri("/echo"))) {
            servers.backend().nextUpgrade();
            ws.write(0x88, 0x84, 0, 0, 0, 0, 0x03, 0xE8, 0xC3, 0x28); // 1000 + bad UTF-8

            assertEquals(1007, ws.readFrame().closeCode());
        }
        assertEquals(new TestBackend.Closed(1001, ""), servers.backend().nextClose());
        String line = accessLine();
        assertTrue(line.contains("\"closeCode\":1007,") && line.contains("\"cause\":\"client invalid payload"), line);
    }
}
