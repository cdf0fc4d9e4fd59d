package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parsing and matching of route path templates. */
class PathTemplateTest {

    private static Map<String, String> match(String template, String path) {
        return PathTemplate.parse(template).match(path.substring(1).split("/", -1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "/chat/{room", "/chat/room}", "/chat/{}", "/chat/{1room}", "/chat/{ro-om}",
            "/a//b", "/a/", "/a/*/b", "/a*", "/{x}/{x}", "/a/{x}y", "//"})
    void malformedTemplateIsRejectedWithAMessageNamingIt(String template) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathTemplate.parse(template));

        assertTrue(e.getMessage().startsWith("path: " + template), e.getMessage());
    }

    @Test
    void literalSegmentsMatchExactly() {
        assertEquals(Map.of(), match("/a/b", "/a/b"));
        assertNull(match("/a/b", "/a/c"));
        assertNull(match("/a/b", "/a/b/c"));
        assertNull(match("/a/b", "/a"));
    }

    @Test
    void encodedLiteralMatchesEncodedOrDecodedRequest() {
        assertEquals(Map.of(), match("/caf%C3%A9", "/caf%C3%A9"));
        assertEquals(Map.of(), match("/café", "/caf%C3%A9"));
    }

    @Test
    void parametersAreNamedInOrder() {
        PathTemplate t = PathTemplate.parse("/org/{org}/repo/{repo}/*");

        assertEquals(List.of("org", "repo"), List.copyOf(t.parameterNames()));
        assertTrue(t.hasWildcard());
        assertEquals(Map.of("org", "a", "repo", "b", "*", "/c"), match("/org/{org}/repo/{repo}/*", "/org/a/repo/b/c"));
    }

    @Test
    void rootWildcardMatchesEverythingWithTheWholePathAsRest() {
        assertEquals(Map.of("*", "/"), match("/*", "/"));
        assertEquals(Map.of("*", "/a/b"), match("/*", "/a/b"));
    }

    @Test
    void shapeErasesParameterNames() {
        assertEquals(PathTemplate.parse("/a/{x}/*").shape(), PathTemplate.parse("/a/{y}/*").shape());
        assertNotEquals(PathTemplate.parse("/a/{x}").shape(), PathTemplate.parse("/a/{x}/*").shape());
        assertNotEquals(PathTemplate.parse("/a/b").shape(), PathTemplate.parse("/a/{b}").shape());
    }

    @Test
    void specificityOrdersLiteralThenParameterThenEndThenWildcard() {
        PathTemplate literal = PathTemplate.parse("/a/b");
        PathTemplate param = PathTemplate.parse("/a/{x}");
        PathTemplate end = PathTemplate.parse("/a");
        PathTemplate wildcard = PathTemplate.parse("/a/*");

        assertTrue(literal.compareSpecificity(param) < 0);
        assertTrue(param.compareSpecificity(end) < 0);
        assertTrue(end.compareSpecificity(wildcard) < 0);
        assertTrue(param.compareSpecificity(wildcard) < 0);
        assertEquals(0, param.compareSpecificity(PathTemplate.parse("/a/{y}")));
    }

    @Test
    void templateWithoutParametersHasNoNames() {
        PathTemplate t = PathTemplate.parse("/echo");

        assertEquals(Set.of(), t.parameterNames());
        assertFalse(t.hasWildcard());
        assertEquals("/echo", t.source());
    }
}
