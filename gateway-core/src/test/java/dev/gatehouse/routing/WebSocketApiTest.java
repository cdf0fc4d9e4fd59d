package dev.gatehouse.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Route;

class WebSocketApiTest {

    private static final Integration NONE = Integration.of(e -> CompletableFuture.completedFuture(Reply.none()));

    @Test
    void defaultsAreAwsLike() {
        WebSocketApi api = WebSocketApi.builder().integration("$default", NONE).build();

        assertEquals("$request.body.action", api.selection());
        assertEquals(Duration.ofSeconds(29), api.timeout());
        assertTrue(api.replies());
    }

    @Test
    void routeKeysMustBeTheReservedOnesOrNotStartWithADollar() {
        WebSocketApi.Builder b = WebSocketApi.builder();
        assertEquals("routeKey: $conect (expected: $connect, $disconnect, $default, or a key not starting with $)",
                assertThrows(IllegalArgumentException.class, () -> b.integration("$conect", NONE)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.integration("", NONE));
        b.integration("send", NONE);
        assertThrows(IllegalArgumentException.class, () -> b.integration("send", NONE));
    }

    @Test
    void anApiWithoutAMessageRouteIsRefused() {
        WebSocketApi.Builder b = WebSocketApi.builder().integration("$connect", NONE).integration("$disconnect", NONE);
        assertEquals("integrations: none for messages (expected: $default or a route key of your own)",
                assertThrows(IllegalStateException.class, b::build).getMessage());
    }

    @Test
    void aMalformedSelectionExpressionFailsBuild() {
        WebSocketApi.Builder b = WebSocketApi.builder().integration("$default", NONE).selection("${request.body.action");
        assertThrows(IllegalArgumentException.class, b::build);
    }

    @Test
    void theTimeoutMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> WebSocketApi.builder().timeout(Duration.ZERO));
    }

    @Test
    void httpIntegrationsNeedAnHttpUrl() {
        assertEquals("integration: ws://x/y (expected: an http:// or https:// URL)",
                assertThrows(IllegalArgumentException.class, () -> Integration.http(URI.create("ws://x/y"))).getMessage());
        assertEquals(URI.create("https://svc/a"), Integration.http(URI.create("https://svc/a")).uri());
    }

    @Test
    void aRouteHasABackendOrAWebSocketApiButNotBoth() {
        WebSocketApi api = WebSocketApi.builder().integration("$default", NONE).build();
        Route route = Route.builder("/api").webSocketApi(api).build();
        assertTrue(route.backend().isEmpty());
        assertEquals(api, route.webSocketApi().orElseThrow());

        assertThrows(IllegalStateException.class, () -> Route.builder("/api").build());
        assertThrows(IllegalStateException.class,
                () -> Route.builder("/api").webSocketApi(api).backend(Backend.of("ws://b:1/")).build());
    }

    @Test
    void repliesValidateWhatTheyCarry() {
        assertThrows(IllegalArgumentException.class, () -> Reply.refuse(200, "ok"));
        assertThrows(IllegalArgumentException.class, () -> Reply.close(CloseStatus.ABNORMAL));
        Reply.Accept a = Reply.accept().withUser("alice").withGroups("ops", "eu").withSubprotocol("chat.v1");
        assertEquals(List.of("ops", "eu"), a.groups());
        assertEquals("alice", a.user().orElseThrow());
    }

    @Test
    void connectAnswerRefusesAUserOrGroupThatTheManagementApiCouldNotAddress() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reply.accept().withUser(""));
        assertTrue(e.getMessage().startsWith("user: "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Reply.accept().withGroups("ok", "a\tb"));
        assertTrue(e.getMessage().startsWith("groups: "), e.getMessage());
    }
}
