package dev.gatehouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Building routes and gateways: every configuration mistake fails at build time with a clear message. */
class RouteTest {

    private static final Backend BACKEND = Backend.of("ws://backend.internal:9000");

    @Test
    void conflictingRoutesFailAtGatewayBuildNamingBoth() {
        Gateway.Builder builder = Gateway.builder()
                .route(Route.of("/chat/{room}", BACKEND))
                .route(Route.of("/echo", BACKEND))
                .route(Route.of("/chat/{id}", BACKEND));

        IllegalStateException e = assertThrows(IllegalStateException.class, builder::build);

        assertTrue(e.getMessage().contains("/chat/{room}"), e.getMessage());
        assertTrue(e.getMessage().contains("/chat/{id}"), e.getMessage());
    }

    @Test
    void sameRouteTwiceConflicts() {
        Gateway.Builder builder = Gateway.builder().route(Route.of("/echo", BACKEND)).route(Route.of("/echo", BACKEND));

        assertThrows(IllegalStateException.class, builder::build);
    }

    @Test
    void conflictingRoutesOnTheSameHostConflictButNotAcrossHosts() {
        Route a = Route.builder("/ws/*").host("a.example.com").backend(BACKEND).build();
        Route b = Route.builder("/ws/*").host("b.example.com").backend(BACKEND).build();
        Route aAgain = Route.builder("/ws/*").host("A.EXAMPLE.COM").backend(BACKEND).build();

        assertEquals(2, Gateway.builder().route(a).route(b).build().routes().size());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Gateway.builder().route(a).route(aAgain).build());
        assertTrue(e.getMessage().contains("a.example.com/ws/*"), e.getMessage());
    }

    @Test
    void gatewayWithoutRoutesFailsAtBuild() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Gateway.builder().build());

        assertTrue(e.getMessage().startsWith("routes: "), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "/chat/{room", "/chat/{}", "/a//b", "/a/*/b", "/chat/{x}/{x}"})
    void malformedTemplateFailsWithAMessageNamingThePath(String path) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Route.builder(path));

        assertTrue(e.getMessage().contains(path), e.getMessage());
    }

    @Test
    void backendTemplateUsingAnUndefinedParameterFailsAtRouteBuild() {
        Route.Builder builder = Route.builder("/chat/{room}").backend(Backend.of("ws://chat.internal/{room}/{user}"));

        IllegalStateException e = assertThrows(IllegalStateException.class, builder::build);

        assertTrue(e.getMessage().contains("{user}"), e.getMessage());
        assertTrue(e.getMessage().contains("/chat/{room}"), e.getMessage());
    }

    @Test
    void groupTargetUsingAnUndefinedParameterFailsAtRouteBuild() {
        Route.Builder builder = Route.builder("/chat/{room}").backend(dev.gatehouse.balance.BackendGroup.of(
                "ws://chat-a.internal/{room}", "ws://chat-b.internal/{room}/{user}"));

        IllegalStateException e = assertThrows(IllegalStateException.class, builder::build);

        assertTrue(e.getMessage().contains("ws://chat-b.internal/{room}/{user} uses {user}"), e.getMessage());
    }

    @Test
    void backendTemplateUsingRestOnARouteWithoutWildcardFailsAtRouteBuild() {
        Route.Builder builder = Route.builder("/chat/{room}").backend(Backend.of("ws://chat.internal/{*}"));

        IllegalStateException e = assertThrows(IllegalStateException.class, builder::build);

        assertTrue(e.getMessage().contains("{*}"), e.getMessage());
    }

    @Test
    void routeWithoutBackendFailsAtBuild() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Route.builder("/echo").build());

        assertTrue(e.getMessage().contains("/echo"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "*.", "a.*.com", "*", "host:8080", "a/b"})
    void malformedHostIsRejected(String host) {
        assertThrows(IllegalArgumentException.class, () -> Route.builder("/x").host(host));
    }

    @Test
    void routeKeepsItsConfigurationAndToBuilderCopiesIt() {
        Policy policy = (h, chain) -> chain.proceed(h);
        Settings settings = Settings.builder().maxMessageSize(5).build();
        Authenticator auth = Verdict::allow;
        Route route = Route.builder("/chat/{room}").host("Chat.Example.com").authenticator(auth).policy(policy)
                .backend(BACKEND).settings(settings).build();

        Route copy = route.toBuilder().build();

        for (Route r : List.of(route, copy)) {
            assertEquals("/chat/{room}", r.path());
            assertEquals(Optional.of("chat.example.com"), r.host());
            assertSame(auth, r.authenticator().orElseThrow());
            assertEquals(List.of(policy), r.policies());
            assertSame(BACKEND, r.backend().orElseThrow());
            assertEquals(Optional.of(settings), r.settings());
        }
        assertEquals("Route[chat.example.com/chat/{room}]", route.toString());
    }

    @Test
    void routeWithoutItsOwnAuthenticatorOrPoliciesHasNone() {
        Route route = Route.of("/echo", BACKEND);

        assertEquals(Optional.empty(), route.authenticator());
        assertEquals(List.of(), route.policies());
        assertEquals(Optional.empty(), route.toBuilder().build().authenticator());
    }

    @Test
    void noneIsOneInstanceThatNamesItself() {
        assertSame(Authenticator.none(), Authenticator.none());
        assertSame(Policy.none(), Policy.none());
        assertEquals("Authenticator.none()", Authenticator.none().toString());
        assertEquals("Policy.none()", Policy.none().toString());
    }

    @Test
    void gatewayKeepsRoutesInOrderWithItsSettings() {
        Route a = Route.of("/a", BACKEND);
        Route b = Route.of("/b", BACKEND);
        Settings settings = Settings.builder().maxMessageSize(1).build();

        Gateway gateway = Gateway.builder().route(a).route(b).settings(settings).build();

        assertEquals(List.of(a, b), gateway.routes());
        assertSame(settings, gateway.settings());
        assertEquals(0, gateway.connections().count());
        assertTrue(!gateway.isDraining());
    }
}
