package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLSocket;

import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.BackendTls;
import dev.gatehouse.Gateway;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.jetty.GatewayServer.Mount;

/** TLS on both legs, with key stores made for the test: wss backends, the client leg, mutual TLS. */
class TlsTest {

    private static final char[] PASSWORD = TestCertificates.PASSWORD.toCharArray();
    private static TestCertificates certs;
    @RegisterExtension
    final Servers servers = new Servers();

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TestCertificates.create();
    }

    private static Gateway gateway(TestBackend backend, BackendTls tls) {
        return Gateway.builder().backendTls(tls).route(Route.of("/echo", Backend.of(backend.uri("/echo")))).build();
    }

    private static void assertEchoes(GatewayServer gw) throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(gw.uri("/echo"), events)
                .get(5, TimeUnit.SECONDS);
        ws.sendText("over tls", true).get(5, TimeUnit.SECONDS);
        events.assertText("over tls");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysToAWssBackendSignedByATrustedAuthority(Mount mount) throws Exception {
        TestBackend backend = servers.startBackend(certs.server("server", null));
        GatewayServer gw = servers.start(gateway(backend,
                BackendTls.builder().trustStore(certs.trustStore("server"), PASSWORD).build()), mount);
        assertEchoes(gw);
    }

    /**
     * The relay's frame legs over TLS on both legs at once, Jetty's {@code SslConnection} below each endpoint:
     * messages larger than a TLS record and than the relay's read buffer, and a close handshake.
     */
    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysLargeMessagesAndTheCloseHandshakeWithTlsOnBothLegs(Mount mount) throws Exception {
        TestBackend backend = servers.startBackend(certs.server("server", null));
        GatewayServer gw = servers.startTls(gateway(backend,
                BackendTls.builder().trustStore(certs.trustStore("server"), PASSWORD).build()), mount,
                certs.server("server", null));
        HttpClient https = HttpClient.newBuilder().sslContext(certs.clientContext("server", null)).build();
        RecordingListener events = new RecordingListener();
        WebSocket ws = https.newWebSocketBuilder().buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);

        byte[] bytes = new byte[1 << 20];
        new Random(17).nextBytes(bytes);
        ws.sendBinary(ByteBuffer.wrap(bytes), true).get(5, TimeUnit.SECONDS);
        events.assertBinary(bytes);
        String text = "over tls \u20ac ".repeat(30_000);
        ws.sendText(text, true).get(5, TimeUnit.SECONDS);
        events.assertText(text);

        ws.sendClose(4000, "done").get(5, TimeUnit.SECONDS);
        events.assertClose(4000, "done");
        assertEquals(new TestBackend.Closed(4000, "done"), backend.nextClose());
    }

    @Test
    void refusesAWssBackendItDoesNotTrustWith502() throws Exception {
        TestBackend backend = servers.startBackend(certs.server("server", null));
        GatewayServer gw = servers.start(gateway(backend, BackendTls.defaults()));
        assertEquals(502, RawHttp.upgrade(gw.httpUri("/echo")).status());
    }

    @Test
    void checksThatTheBackendsCertificateNamesItsHost() throws Exception {
        TestBackend backend = servers.startBackend(certs.server("wrong-name", null));
        GatewayServer strict = servers.start(gateway(backend,
                BackendTls.builder().trustStore(certs.trustStore("wrong-name"), PASSWORD).build()));
        GatewayServer lenient = servers.start(gateway(backend,
                BackendTls.builder().trustStore(certs.trustStore("wrong-name"), PASSWORD)
                        .hostnameVerification(false).build()));
        assertEquals(502, RawHttp.upgrade(strict.httpUri("/echo")).status());
        assertEchoes(lenient);
    }

    @Test
    void presentsAClientCertificateToABackendThatRequiresOne() throws Exception {
        TestBackend backend = servers.startBackend(certs.server("server", "client"));
        GatewayServer without = servers.start(gateway(backend,
                BackendTls.builder().trustStore(certs.trustStore("server"), PASSWORD).build()));
        GatewayServer with = servers.start(gateway(backend,
                BackendTls.builder().trustStore(certs.trustStore("server"), PASSWORD)
                        .clientCertificate(certs.keyStore("client"), PASSWORD).build()));
        assertEquals(502, RawHttp.upgrade(without.httpUri("/echo")).status());
        assertEchoes(with);
    }

    @Test
    void aBadTrustStoreFileFailsAtBuildNamingTheSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BackendTls.builder().trustStore(certs.dir.resolve("missing.p12"), PASSWORD));
        assertEquals(true, e.getMessage().startsWith("trustStore: "), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void servesWssOnTheAppsConnectorAndShowsTheClientCertificateToAuthenticators(Mount mount) throws Exception {
        Authenticator byCertificate = h -> h.clientCertificates().isEmpty()
                ? Verdict.reject(Rejection.CREDENTIAL_MISSING, "a client certificate is required")
                : Verdict.allow(h.withPrincipal(Principal.of(h.clientCertificates().get(0).getSubjectX500Principal().getName())));
        SslContextFactory.Server tls = certs.server("server", null);
        tls.setTrustStorePath(certs.trustStore("user").toString());
        tls.setTrustStorePassword(TestCertificates.PASSWORD);
        tls.setTrustStoreType("PKCS12");
        tls.setWantClientAuth(true);
        TestBackend backend = servers.backend();
        GatewayServer gw = servers.startTls(Gateway.builder()
                .route(Route.builder("/echo").authenticator(byCertificate).backend(Backend.of(backend.uri("/echo"))).build())
                .build(), mount, tls);
        HttpClient withCertificate = HttpClient.newBuilder().sslContext(certs.clientContext("server", "user")).build();
        RecordingListener events = new RecordingListener();
        WebSocket ws = withCertificate.newWebSocketBuilder().buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);
        TestBackend.Upgrade up = backend.nextUpgrade();
        assertEquals("CN=alice,O=Example", up.header("X-Gatehouse-Subject"));
        assertEquals("https", up.header("X-Forwarded-Proto"));
        ws.sendText("mutual", true).get(5, TimeUnit.SECONDS);
        events.assertText("mutual");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");

        HttpClient anonymous = HttpClient.newBuilder().sslContext(certs.clientContext("server", null)).build();
        ExecutionException refused = assertThrows(ExecutionException.class, () -> anonymous.newWebSocketBuilder()
                .buildAsync(gw.uri("/echo"), new RecordingListener()).get(5, TimeUnit.SECONDS));
        assertEquals(401, assertInstanceOf(WebSocketHandshakeException.class, refused.getCause()).getResponse().statusCode());
    }

    private static void assertClosedWithoutResponse(Socket socket) throws Exception {
        InputStream in = socket.getInputStream();
        try {
            assertEquals(-1, in.read(), "the server answered instead of closing");
        } catch (SocketException reset) {
            // closed too: a reset instead of an end of stream
        }
    }

    @Test
    void closesTlsConnectionsWithoutACompleteRequestAtTheRequestDeadline() throws Exception {
        GatewayServer gw = servers.startTls(gateway(servers.backend(), BackendTls.defaults()), Mount.HANDLER,
                certs.server("server", null), connector -> {
                    connector.setIdleTimeout(TimeUnit.HOURS.toMillis(1));
                    // Long enough for the TLS handshakes of the clients below on a loaded machine.
                    connector.addBean(JettyGateway.requestDeadline(Duration.ofSeconds(2)));
                });
        URI uri = gw.uri("/echo");
        // No TLS handshake at all: the deadline counts from the TCP connection.
        try (Socket silent = new Socket(uri.getHost(), uri.getPort())) {
            silent.setSoTimeout(5_000);
            assertClosedWithoutResponse(silent);
        }
        // A TLS handshake, then half a request.
        try (SSLSocket slow = (SSLSocket) certs.clientContext("server", null).getSocketFactory()
                .createSocket(uri.getHost(), uri.getPort())) {
            slow.setSoTimeout(5_000);
            slow.startHandshake();
            slow.getOutputStream().write("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr"
                    .getBytes(StandardCharsets.ISO_8859_1));
            slow.getOutputStream().flush();
            assertClosedWithoutResponse(slow);
        }
        // A complete upgrade is unaffected.
        HttpClient trusting = HttpClient.newBuilder().sslContext(certs.clientContext("server", null)).build();
        RecordingListener events = new RecordingListener();
        WebSocket ws = trusting.newWebSocketBuilder().buildAsync(uri, events).get(5, TimeUnit.SECONDS);
        ws.sendText("over tls", true).get(5, TimeUnit.SECONDS);
        events.assertText("over tls");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }
}
