package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;
import dev.gatehouse.jetty.logging.RecordingLogProvider;

/** {@link JettyGateway#requestDeadline}: slow request header blocks are cut off, nothing else is. */
class RequestDeadlineTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /**
     * Short, so that tests wait little, and long enough that a client which sends its request at once always
     * makes it, even on a loaded machine; every wait for it is bounded by the sockets' read timeout.
     */
    private static final Duration DEADLINE = Duration.ofSeconds(1);

    @RegisterExtension
    final Servers servers = new Servers();

    @BeforeEach
    void clearLog() {
        RecordingLogProvider.clear(); // the log lines of a socket are found by its port, which earlier sockets had too
    }

    private GatewayServer start(Mount mount) throws Exception {
        Gateway gateway = Gateway.builder().route(Route.of("/echo", Backend.of(servers.backend().uri("/echo")))).build();
        return servers.start(gateway, mount, connector -> {
            connector.setIdleTimeout(TimeUnit.HOURS.toMillis(1)); // only the deadline may close a socket here
            connector.addBean(JettyGateway.requestDeadline(DEADLINE));
            connector.getServer().setErrorHandler(JettyGateway.errorHandler()); // which must not log the close again
        });
    }

    private static Socket open(GatewayServer gw) throws IOException {
        URI uri = gw.httpUri("/");
        Socket socket = new Socket(uri.getHost(), uri.getPort());
        socket.setSoTimeout(5_000);
        return socket;
    }

    private static void write(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** Reads until the server closes the connection, which must send nothing first. */
    private static void assertClosedWithoutResponse(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        try {
            assertEquals(-1, in.read(), "the server answered instead of closing");
        } catch (SocketException reset) {
            // closed too: a reset instead of an end of stream
        }
    }

    /** Checks the one access-log line of the timeout, after any lines of earlier requests on the socket. */
    private static void assertTimeoutLogged(Socket socket, int earlierRequests) {
        String remote = "\"remote\":\"127.0.0.1:" + socket.getLocalPort() + "\"";
        List<String> all = RecordingLogProvider.lines().stream()
                .filter(l -> l.contains("dev.gatehouse.access") && l.contains(remote)).toList();
        assertEquals(earlierRequests + 1, all.size(), all.toString());
        List<String> lines = all.subList(earlierRequests, all.size());
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("\"route\":null,\"path\":\"-\"") && lines.get(0).contains("\"status\":408,\"kind\":\"request_timeout\","
                + "\"message\":\"no complete request within " + DEADLINE.toMillis() + " ms\""), lines.get(0));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesAnUpgradeRequestStillIncompleteAtTheDeadline(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (Socket slow = open(gw)) {
            write(slow, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web");
            write(slow, "s");
            assertClosedWithoutResponse(slow);
            assertTimeoutLogged(slow, 0);
        }
        assertTrue(servers.backend().upgrades.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesAConnectionThatSendsNothing(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (Socket silent = open(gw)) {
            assertClosedWithoutResponse(silent);
            assertTimeoutLogged(silent, 0);
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void closesALaterRequestLeftIncompleteOnAKeptAliveConnection(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (Socket socket = open(gw)) {
            write(socket, "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(404, RawHttp.read(socket.getInputStream()).status());
            write(socket, "GET /nowhere HTTP/1.1\r\nHo");
            assertClosedWithoutResponse(socket);
            assertTimeoutLogged(socket, 1);
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void leavesUpgradedAndKeptAliveConnectionsOpenPastTheDeadline(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);
        try (Socket keptAlive = open(gw)) {
            write(keptAlive, "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(404, RawHttp.read(keptAlive.getInputStream()).status());
            // Two slow sockets, each opened after the previous one was cut off: when the second is closed, the
            // connections above have been open for more than two deadlines.
            for (int i = 0; i < 2; i++) {
                try (Socket slow = open(gw)) {
                    write(slow, "GET /echo HTTP/1.1\r\n");
                    assertClosedWithoutResponse(slow);
                }
            }
            write(keptAlive, "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(404, RawHttp.read(keptAlive.getInputStream()).status());
        }
        ws.sendText("still here", true);
        events.assertText("still here");
        ws.sendClose(1000, "bye");
        events.assertClose(1000, "bye");
    }

    @Test
    void refusesADeadlineShorterThanAMillisecond() {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> JettyGateway.requestDeadline(Duration.ZERO));
        assertEquals("deadline: PT0S (expected: >= 1 ms)", zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JettyGateway.requestDeadline(Duration.ofNanos(999_999)));
        assertThrows(IllegalArgumentException.class, () -> JettyGateway.requestDeadline(Duration.ofSeconds(-1)));
    }
}
