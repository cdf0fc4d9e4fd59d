package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Backend;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;

/** Route matching: most specific template first, host routes before host-less ones. */
class RouteTableTest {

    private static final Backend BACKEND = Backend.of("ws://backend.internal:9000");

    private static Route route(String path) {
        return Route.of(path, BACKEND);
    }

    private static Route route(String host, String path) {
        return Route.builder(path).host(host).backend(BACKEND).build();
    }

    /** Builds the table from the routes in every rotation, so that registration order cannot decide. */
    private static void assertMatchIndependentOfOrder(List<Route> routes, String host, String path, Route expected) {
        for (int i = 0; i < routes.size(); i++) {
            List<Route> rotated = new ArrayList<>(routes);
            Collections.rotate(rotated, i);
            RouteTable.Match match = new RouteTable(rotated, Settings.defaults()).match(host, path);
            assertTrue(match != null, () -> "no match for " + host + path);
            assertSame(expected, match.route(), () -> host + path + " matched " + match.route() + " with order " + rotated);
        }
    }

    @Test
    void literalBeatsParameterWhichBeatsWildcard() {
        Route literal = route("/chat/lobby");
        Route param = route("/chat/{room}");
        Route wildcard = route("/chat/*");
        List<Route> routes = List.of(literal, param, wildcard);

        assertMatchIndependentOfOrder(routes, "", "/chat/lobby", literal);
        assertMatchIndependentOfOrder(routes, "", "/chat/other", param);
        assertMatchIndependentOfOrder(routes, "", "/chat/other/deeper", wildcard);
        assertMatchIndependentOfOrder(routes, "", "/chat", wildcard);
    }

    @Test
    void earlierLiteralSegmentDecidesBetweenTemplates() {
        Route literalFirst = route("/api/{version}");
        Route paramFirst = route("/{tenant}/v1");

        assertMatchIndependentOfOrder(List.of(literalFirst, paramFirst), "", "/api/v1", literalFirst);
    }

    @Test
    void longerWildcardPrefixWins() {
        Route shallow = route("/api/*");
        Route deep = route("/api/admin/*");
        Route root = route("/*");

        assertMatchIndependentOfOrder(List.of(shallow, deep, root), "", "/api/admin/users", deep);
        assertMatchIndependentOfOrder(List.of(shallow, deep, root), "", "/api/users", shallow);
        assertMatchIndependentOfOrder(List.of(shallow, deep, root), "", "/other", root);
    }

    @Test
    void trailingWildcardMatchesThePrefixItselfAndAnyRest() {
        RouteTable table = new RouteTable(List.of(route("/api/*")), Settings.defaults());

        assertEquals(Map.of("*", ""), table.match("", "/api").parameters());
        assertEquals(Map.of("*", "/x"), table.match("", "/api/x").parameters());
        assertEquals(Map.of("*", "/x/y"), table.match("", "/api/x/y").parameters());
        assertNull(table.match("", "/apix"));
        assertNull(table.match("", "/other"));
    }

    @Test
    void parametersAreDecodedAndRestIsKeptRaw() {
        RouteTable table = new RouteTable(List.of(route("/t/{tenant}/*")), Settings.defaults());

        RouteTable.Match match = table.match("", "/t/acme%20corp/a%2Fb/c");

        assertEquals("acme corp", match.parameters().get("tenant"));
        assertEquals("/a%2Fb/c", match.parameters().get("*"));
    }

    @Test
    void parameterDoesNotMatchAnEmptySegment() {
        RouteTable table = new RouteTable(List.of(route("/chat/{room}")), Settings.defaults());

        assertNull(table.match("", "/chat/"));
        assertNull(table.match("", "/chat"));
        assertNull(table.match("", "/chat/a/b"));
        assertEquals(Map.of("room", "a"), table.match("", "/chat/a").parameters());
    }

    @Test
    void rootRouteMatchesOnlyTheRoot() {
        RouteTable table = new RouteTable(List.of(route("/")), Settings.defaults());

        assertTrue(table.match("", "/") != null);
        assertNull(table.match("", "/x"));
    }

    @Test
    void exactHostBeatsWildcardHostWhichBeatsNoHost() {
        Route exact = route("api.example.com", "/ws/{x}");
        Route wildcard = route("*.example.com", "/ws/{x}");
        Route anyHost = route("/ws/literal");
        List<Route> routes = List.of(exact, wildcard, anyHost);

        assertMatchIndependentOfOrder(routes, "api.example.com", "/ws/literal", exact);
        assertMatchIndependentOfOrder(routes, "eu.example.com", "/ws/literal", wildcard);
        assertMatchIndependentOfOrder(routes, "other.org", "/ws/literal", anyHost);
    }

    @Test
    void wildcardHostMatchesSubdomainsButNotTheApex() {
        RouteTable table = new RouteTable(List.of(route("*.example.com", "/ws")), Settings.defaults());

        assertTrue(table.match("a.example.com", "/ws") != null);
        assertTrue(table.match("a.b.example.com", "/ws") != null);
        assertNull(table.match("example.com", "/ws"));
        assertNull(table.match("badexample.com", "/ws"));
        assertNull(table.match("", "/ws"));
    }

    @Test
    void hostRouteIsMatchedCaseInsensitively() {
        Route r = route("API.Example.com", "/ws");
        RouteTable table = new RouteTable(List.of(r), Settings.defaults());

        assertSame(r, table.match("api.example.com", "/ws").route());
    }

    @Test
    void sameTemplateOnDifferentHostsDoesNotConflict() {
        Route a = route("a.example.com", "/ws");
        Route b = route("b.example.com", "/ws");
        Route none = route("/ws");
        RouteTable table = new RouteTable(List.of(a, b, none), Settings.defaults());

        assertSame(a, table.match("a.example.com", "/ws").route());
        assertSame(b, table.match("b.example.com", "/ws").route());
        assertSame(none, table.match("c.example.com", "/ws").route());
    }

    @Test
    void routeSettingsReplaceTheDefaults() {
        Settings own = Settings.builder().idleTimeout(Duration.ofSeconds(7)).build();
        Route withSettings = Route.builder("/own").backend(BACKEND).settings(own).build();
        RouteTable table = new RouteTable(List.of(withSettings, route("/default")), Settings.defaults());

        assertSame(own, table.match("", "/own").settings());
        assertSame(Settings.defaults(), table.match("", "/default").settings());
    }

    @Test
    void templatesDifferingOnlyInParameterNamesConflict() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new RouteTable(List.of(route("/chat/{room}"), route("/chat/{id}")), Settings.defaults()));

        assertTrue(e.getMessage().contains("/chat/{room}") && e.getMessage().contains("/chat/{id}"), e.getMessage());
    }

    @Test
    void emptyTableIsRejected() {
        assertThrows(IllegalStateException.class, () -> new RouteTable(List.of(), Settings.defaults()));
    }
}
