package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.auth.JwtAuthenticator;
import dev.gatehouse.policy.OriginPolicy;

/** The gateway-wide authenticator and policies, and how a route's own replace them. */
class GatewayDefaultsTest {

    private static final Backend BACKEND = Backend.of("ws://backend.internal:9000/ws");
    private static final Authenticator GATEWAY_KEY = ApiKeyAuthenticator.of("gateway-key", "gateway");
    private static final Policy ORIGINS = OriginPolicy.allow("https://app.example.com");

    private static Handshake.Builder upgrade(String path) {
        return Handshake.builder(Ids.next(), path)
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .host("gw.example.com")
                .remoteAddress(new InetSocketAddress("203.0.113.7", 40000));
    }

    private static int status(DefaultGateway gateway, Handshake request) {
        // No connection limits here, so an admission holds no slot to give back.
        return gateway.admit(request).rejection().map(Verdict.Reject::status).orElse(101);
    }

    private static DefaultGateway gateway(Gateway.Builder b) {
        return DefaultGateway.of(b.build());
    }

    @Test
    void gatewayAuthenticatorAuthenticatesRoutesWithoutTheirOwn() {
        DefaultGateway gateway = gateway(Gateway.builder().authenticator(GATEWAY_KEY)
                .route(Route.of("/a", BACKEND))
                .route(Route.builder("/b").backend(BACKEND).build()));

        for (String path : List.of("/a", "/b")) {
            assertEquals(401, status(gateway, upgrade(path).build()), path);
            assertEquals(401, status(gateway, upgrade(path).header("X-API-Key", "wrong").build()), path);
            assertEquals(101, status(gateway, upgrade(path).header("X-API-Key", "gateway-key").build()), path);
        }
    }

    @Test
    void admittedHandshakeCarriesThePrincipalOfTheGatewayAuthenticator() {
        DefaultGateway gateway = gateway(Gateway.builder().authenticator(GATEWAY_KEY).route(Route.of("/a", BACKEND)));

        Admission.Admitted admitted = assertInstanceOf(Admission.Admitted.class,
                gateway.admit(upgrade("/a").header("X-API-Key", "gateway-key").build()));

        assertEquals("gateway", admitted.handshake().principal().orElseThrow().consumer().orElseThrow());
    }

    @Test
    void routeAuthenticatorReplacesTheGatewayAuthenticator() {
        DefaultGateway gateway = gateway(Gateway.builder().authenticator(GATEWAY_KEY)
                .route(Route.builder("/own").authenticator(ApiKeyAuthenticator.of("route-key", "route"))
                        .backend(BACKEND).build()));

        assertEquals(401, status(gateway, upgrade("/own").header("X-API-Key", "gateway-key").build()));
        assertEquals(101, status(gateway, upgrade("/own").header("X-API-Key", "route-key").build()));
    }

    @Test
    void routeWithAuthenticatorNoneOptsOutOfTheGatewayAuthenticator() {
        DefaultGateway gateway = gateway(Gateway.builder().authenticator(GATEWAY_KEY)
                .route(Route.builder("/public").authenticator(Authenticator.none()).backend(BACKEND).build())
                .route(Route.of("/private", BACKEND)));

        assertEquals(101, status(gateway, upgrade("/public").build()));
        assertEquals(401, status(gateway, upgrade("/private").build()));
    }

    @Test
    void gatewayPoliciesRunOnRoutesWithoutTheirOwn() {
        DefaultGateway gateway = gateway(Gateway.builder().policy(ORIGINS).route(Route.of("/a", BACKEND)));

        assertEquals(403, status(gateway, upgrade("/a").header("Origin", "https://evil.example").build()));
        assertEquals(101, status(gateway, upgrade("/a").header("Origin", "https://app.example.com").build()));
    }

    @Test
    void routePoliciesReplaceTheGatewayPolicies() {
        Policy subprotocol = (h, chain) -> h.header("X-Chat-Version").isPresent() ? chain.proceed(h)
                : Verdict.reject(Rejection.FORBIDDEN, "X-Chat-Version required");
        DefaultGateway gateway = gateway(Gateway.builder().policy(ORIGINS)
                .route(Route.builder("/own").policy(subprotocol).backend(BACKEND).build()));

        assertEquals(101, status(gateway, upgrade("/own").header("Origin", "https://evil.example")
                .header("X-Chat-Version", "1").build()));
        assertEquals(403, status(gateway, upgrade("/own").header("Origin", "https://app.example.com").build()));
    }

    @Test
    void routeWithPolicyNoneRunsNoPolicy() {
        DefaultGateway gateway = gateway(Gateway.builder().policy(ORIGINS)
                .route(Route.builder("/open").policy(Policy.none()).backend(BACKEND).build()));

        assertEquals(101, status(gateway, upgrade("/open").header("Origin", "https://evil.example").build()));
    }

    @Test
    void gatewayPoliciesRunAfterTheGatewayAuthenticatorInTheOrderAdded() {
        StringBuilder order = new StringBuilder();
        Policy first = (h, chain) -> {
            order.append("1");
            return chain.proceed(h);
        };
        Policy second = (h, chain) -> {
            order.append(h.principal().isPresent() ? "2" : "?");
            return chain.proceed(h);
        };
        DefaultGateway gateway = gateway(Gateway.builder().authenticator(GATEWAY_KEY).policy(first).policy(second)
                .route(Route.of("/a", BACKEND)));

        assertEquals(101, status(gateway, upgrade("/a").header("X-API-Key", "gateway-key").build()));
        assertEquals("12", order.toString());
    }

    @Test
    void gatewayWithoutAuthenticatorAdmitsAnonymousClients() {
        Gateway gateway = Gateway.builder().route(Route.of("/a", BACKEND)).build();

        assertSame(Authenticator.none(), gateway.authenticator());
        assertEquals(List.of(), gateway.policies());
        assertEquals(101, status(DefaultGateway.of(gateway), upgrade("/a").build()));
    }

    @Test
    void toBuilderKeepsTheGatewayAuthenticatorAndPolicies() {
        Gateway gateway = Gateway.builder().authenticator(GATEWAY_KEY).policy(ORIGINS).route(Route.of("/a", BACKEND)).build();

        Gateway copy = gateway.toBuilder().build();

        assertSame(GATEWAY_KEY, copy.authenticator());
        assertEquals(List.of(ORIGINS), copy.policies());
        assertEquals(401, status(DefaultGateway.of(copy), upgrade("/a").build()));
    }

    @Test
    void gatewayAuthenticatorAndPolicyMustNotBeNull() {
        assertThrows(NullPointerException.class, () -> Gateway.builder().authenticator(null));
        assertThrows(NullPointerException.class, () -> Gateway.builder().policy(null));
    }

    @Test
    void missingOrBlankApiKeyFailsNamingTheKeySetting() {
        for (String key : new String[] {null, "", "  "}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ApiKeyAuthenticator.of(key, "web-app"));
            assertTrue(e.getMessage().startsWith("key: "), e.getMessage());
            assertTrue(e.getMessage().contains("environment variable"), e.getMessage());
        }
    }

    @Test
    void missingOrBlankJwtSecretFailsNamingTheSecretSetting() {
        IllegalArgumentException nullBytes = assertThrows(IllegalArgumentException.class,
                () -> JwtAuthenticator.hmacSha256(null));
        assertTrue(nullBytes.getMessage().startsWith("secret: null"), nullBytes.getMessage());
        for (String secret : new String[] {null, "", "   "}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> JwtAuthenticator.builder().secret(secret));
            assertTrue(e.getMessage().startsWith("secret: "), e.getMessage());
            assertTrue(e.getMessage().contains("environment variable"), e.getMessage());
        }
    }
}
