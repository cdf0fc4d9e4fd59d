package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.ServerSocket;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.GatewayResponse;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.jetty.GatewayServer.Mount;

/** Gateway responses: the status and body of each rejection kind, gateway-wide and per route. */
class GatewayResponseTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @ParameterizedTest
    @EnumSource(Mount.class)
    void rejectionsTakeTheConfiguredStatusAndBodyRouteBeforeGateway(Mount mount) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        TestBackend backend = servers.backend();
        GatewayServer gw = servers.start(Gateway.builder()
                .response(Rejection.ROUTE_NOT_FOUND, GatewayResponse.body("application/json",
                        "{\"code\":\"${error}\",\"detail\":\"${message}\",\"status\":${status}}"))
                .response(Rejection.CREDENTIAL_MISSING, GatewayResponse.status(403).withMessage("go away"))
                .response(Rejection.BAD_GATEWAY, GatewayResponse.message("try later").withHeader("Retry-After", "30"))
                .route(Route.builder("/keys").authenticator(ApiKeyAuthenticator.of("k", "c"))
                        .backend(Backend.of(backend.uri("/echo"))).build())
                .route(Route.builder("/quiet").authenticator(ApiKeyAuthenticator.of("k", "c"))
                        .response(Rejection.CREDENTIAL_MISSING, GatewayResponse.body("text/plain", "no (${requestId})"))
                        .backend(Backend.of(backend.uri("/echo"))).build())
                .route(Route.of("/down", Backend.of("ws://127.0.0.1:" + closedPort + "/x")))
                .build(), mount);
        RawHttp.Response missing = RawHttp.upgrade(gw.httpUri("/nowhere"));
        assertEquals(404, missing.status());
        assertEquals("{\"code\":\"route_not_found\",\"detail\":\"no route for /nowhere\",\"status\":404}", missing.body());

        RawHttp.Response keys = RawHttp.upgrade(gw.httpUri("/keys"));
        assertEquals(403, keys.status());
        assertEquals(true, keys.body().contains("\"message\":\"go away\""), keys.body());

        RawHttp.Response quiet = RawHttp.upgrade(gw.httpUri("/quiet"));
        assertEquals(401, quiet.status());
        assertEquals("text/plain", quiet.header("content-type"));
        assertEquals(true, quiet.body().matches("no \\([A-Za-z0-9_-]{22}\\)"), quiet.body());

        RawHttp.Response down = RawHttp.upgrade(gw.httpUri("/down"));
        assertEquals(502, down.status());
        assertEquals("30", down.header("retry-after"));
        assertEquals(true, down.body().contains("\"message\":\"try later\""), down.body());
    }
}
