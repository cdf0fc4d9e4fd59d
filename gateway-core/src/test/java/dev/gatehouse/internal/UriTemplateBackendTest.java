package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Handshake;

/** Backend URL templates: {@code {param}} and {@code {*}} substitution, scheme validation. */
class UriTemplateBackendTest {

    private static URI target(String template, Map<String, String> params) {
        return Backend.of(template).target(Handshake.builder("r", "/ignored").pathParameters(params).build());
    }

    @Test
    void fixedUriIsTargetedAsIs() {
        assertEquals(URI.create("wss://echo.internal:9443/echo"), target("wss://echo.internal:9443/echo", Map.of()));
        assertEquals(URI.create("ws://echo.internal/echo"),
                Backend.of(URI.create("ws://echo.internal/echo")).target(Handshake.builder("r", "/x").build()));
    }

    @Test
    void parameterIsEncodedAsOnePathSegment() {
        assertEquals(URI.create("ws://chat.internal/rooms/a%20b%2Fc%3F%23%25"),
                target("ws://chat.internal/rooms/{room}", Map.of("room", "a b/c?#%")));
        assertEquals(URI.create("ws://chat.internal/rooms/caf%C3%A9/members"),
                target("ws://chat.internal/rooms/{room}/members", Map.of("room", "café")));
        assertEquals(URI.create("ws://chat.internal/rooms/A-z_0.9~"),
                target("ws://chat.internal/rooms/{room}", Map.of("room", "A-z_0.9~")));
    }

    @Test
    void restPlaceholderTakesTheRestOfThePath() {
        assertEquals(URI.create("ws://b:9000/v1/x/y/end"), target("ws://b:9000/v1/{*}/end", Map.of("*", "/x/y")));
        assertEquals(URI.create("ws://b:9000/v1/x/y"), target("ws://b:9000/v1/{*}", Map.of("*", "/x/y")));
        assertEquals(URI.create("ws://b:9000/v1/"), target("ws://b:9000/v1/{*}", Map.of("*", "")));
    }

    @Test
    void restIsAppendedWhenTheTemplateHasNoRestPlaceholder() {
        assertEquals(URI.create("ws://b:9000/v1/x"), target("ws://b:9000/v1", Map.of("*", "/x")));
        assertEquals(URI.create("ws://b:9000/v1/x/y"), target("ws://b:9000/v1/", Map.of("*", "/x/y")));
        assertEquals(URI.create("ws://b:9000/x"), target("ws://b:9000", Map.of("*", "/x")));
        assertEquals(URI.create("ws://b:9000/v1"), target("ws://b:9000/v1", Map.of("*", "")));
    }

    @Test
    void restKeepsItsPercentEncoding() {
        assertEquals(URI.create("ws://b/v1/a%2Fb/c%20d"), target("ws://b/v1", Map.of("*", "/a%2Fb/c%20d")));
    }

    @Test
    void templateQueryIsKeptAfterTheSubstitutedPath() {
        assertEquals(URI.create("ws://b/v1/lobby/x?format=json"),
                target("ws://b/v1/{room}?format=json", Map.of("room", "lobby", "*", "/x")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://b/x", "https://b/x", "ftp://b", "b:9000/x", "/relative", "ws:opaque"})
    void nonWebSocketUrlIsRejected(String template) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backend.of(template));

        assertTrue(e.getMessage().startsWith("backend: " + template), e.getMessage());
    }

    @Test
    void uppercaseWebSocketSchemeIsAccepted() {
        assertEquals("WSS", target("WSS://b/x", Map.of()).getScheme());
    }

    @Test
    void urlWithoutHostOrWithFragmentIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Backend.of("ws:///x"));
        assertThrows(IllegalArgumentException.class, () -> Backend.of("ws://b/x#frag"));
    }

    @Test
    void parameterOutsideThePathIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Backend.of("ws://{host}/x"));
    }

    @Test
    void parameterInTheQueryIsRejectedAtBuildTime() {
        // Substitution happens in the path only; a {param} left in the query would make every handshake fail
        // with 500 when URI.create meets the brace.
        assertThrows(IllegalArgumentException.class, () -> Backend.of("ws://b/x?room={room}"));
    }

    @Test
    void templateReportsItsParametersAndRest() {
        UriTemplateBackend t = UriTemplateBackend.parse("ws://b/{org}/{repo}/{*}");

        assertEquals(java.util.List.of("org", "repo"), java.util.List.copyOf(t.parameterNames()));
        assertTrue(t.usesRest());
        assertEquals("ws://b/{org}/{repo}/{*}", t.toString());
    }
}
