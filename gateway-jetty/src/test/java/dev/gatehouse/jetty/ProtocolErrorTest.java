package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

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

    /** The access-log line of the connection that ended, waiting for it up to 10 s. */
    private static String accessLine() throws InterruptedException {
        return RecordingLogProvider.awaitLine(l -> l.contains("dev.gatehouse.access") && l.contains("status=101"),
                Duration.ofSeconds(10));
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
        assertTrue(line.contains("close=1002 cause=\"client protocol error"), line);
        assertTrue(line.contains("initiator=gateway"), line);
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
        assertTrue(line.contains("close=1007 cause=\"client invalid payload"), line);
    }
}
