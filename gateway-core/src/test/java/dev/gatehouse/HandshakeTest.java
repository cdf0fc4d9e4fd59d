package dev.gatehouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** The immutable view of an upgrade request. */
class HandshakeTest {

    private static Handshake withQuery(String query) {
        return Handshake.builder("r1", "/ws").query(query).build();
    }

    @Test
    void headerNamesAreCaseInsensitive() {
        Handshake h = Handshake.builder("r1", "/ws").header("X-Custom", "v").addHeader("ACCEPT", "a").build();

        assertEquals(Optional.of("v"), h.header("x-custom"));
        assertEquals(Optional.of("v"), h.header("X-CUSTOM"));
        assertEquals(Optional.of("a"), h.header("Accept"));
        assertEquals(List.of("v"), h.headers().get("x-custom"));
        assertTrue(h.header("missing").isEmpty());
    }

    @Test
    void headerKeepsAllValuesInOrderAndReturnsTheFirst() {
        Handshake h = Handshake.builder("r1", "/ws").addHeader("X-Multi", "1").addHeader("x-multi", "2").build();

        assertEquals(List.of("1", "2"), h.headers().get("x-multi"));
        assertEquals(Optional.of("1"), h.header("X-Multi"));
    }

    @Test
    void headerReplacesEarlierValues() {
        Handshake h = Handshake.builder("r1", "/ws").addHeader("X-A", "1").header("x-a", "2").build();

        assertEquals(List.of("2"), h.headers().get("x-a"));
    }

    @Test
    void addHeaderOnACopiedHandshakeAppendsAValue() {
        Handshake original = Handshake.builder("r1", "/ws").header("Accept-Language", "en").build();

        Handshake copy = original.toBuilder().addHeader("accept-language", "fr").build();

        assertEquals(List.of("en", "fr"), copy.headers().get("accept-language"));
        assertEquals(List.of("en"), original.headers().get("accept-language"));
    }

    @Test
    void withHeaderAndWithoutHeaderReturnChangedCopies() {
        Handshake original = Handshake.builder("r1", "/ws").header("X-A", "1").build();

        Handshake added = original.withHeader("X-B", "2");
        Handshake removed = original.withoutHeader("x-a");

        assertEquals(Optional.of("2"), added.header("x-b"));
        assertTrue(removed.header("X-A").isEmpty());
        assertEquals(Optional.of("1"), original.header("X-A"));
        assertTrue(original.header("X-B").isEmpty());
    }

    @Test
    void headersMapIsUnmodifiable() {
        Handshake h = Handshake.builder("r1", "/ws").header("X-A", "1").build();

        assertThrows(UnsupportedOperationException.class, () -> h.headers().put("x-b", List.of("2")));
        assertThrows(UnsupportedOperationException.class, () -> h.headers().get("x-a").add("3"));
    }

    @Test
    void queryParameterIsPercentDecoded() {
        Handshake h = withQuery("name=J%C3%BCrgen%20M&plus=a+b&empty=&flag&enc%20key=v");

        assertEquals(Optional.of("Jürgen M"), h.queryParameter("name"));
        assertEquals(Optional.of("a b"), h.queryParameter("plus"));
        assertEquals(Optional.of(""), h.queryParameter("empty"));
        assertEquals(Optional.of(""), h.queryParameter("flag"));
        assertEquals(Optional.of("v"), h.queryParameter("enc key"));
        assertTrue(h.queryParameter("absent").isEmpty());
        assertTrue(withQuery("").queryParameter("x").isEmpty());
    }

    @Test
    void queryParameterReturnsTheFirstOccurrence() {
        assertEquals(Optional.of("1"), withQuery("a=1&a=2").queryParameter("a"));
    }

    @Test
    void malformedPercentEscapeIsKeptAsIs() {
        assertEquals(Optional.of("100%"), withQuery("p=100%").queryParameter("p"));
    }

    @Test
    void withoutQueryParameterRemovesEveryOccurrenceAndKeepsTheRestRaw() {
        Handshake h = withQuery("token=a&x=1%202&token=b&api%5Fkey=c&y");

        assertEquals("x=1%202&api%5Fkey=c&y", h.withoutQueryParameter("token").query());
        assertEquals("token=a&x=1%202&token=b&y", h.withoutQueryParameter("api_key").query());
        assertEquals("", withQuery("token=a").withoutQueryParameter("token").query());
        Handshake none = withQuery("");
        assertSame(none, none.withoutQueryParameter("token"));
    }

    @Test
    void toStringNeverContainsTheQuery() {
        Handshake h = Handshake.builder("r1", "/ws").query("api_key=top-secret&access_token=jwt").host("gw").build();

        assertFalse(h.toString().contains("top-secret"), h.toString());
        assertFalse(h.toString().contains("jwt"), h.toString());
        assertFalse(h.toString().contains("?"), h.toString());
        assertTrue(h.toString().contains("r1"), h.toString());
    }

    @Test
    void hostNameIsLowerCaseWithoutPort() {
        assertEquals("api.example.com", Handshake.builder("r", "/").host("API.Example.com:8443").build().hostName());
        assertEquals("api.example.com", Handshake.builder("r", "/").host("api.example.com").build().hostName());
        assertEquals("[::1]", Handshake.builder("r", "/").host("[::1]:8080").build().hostName());
        assertEquals("", Handshake.builder("r", "/").build().hostName());
    }

    @Test
    void toBuilderCopiesEveryValue() {
        Principal alice = Principal.of("alice");
        InetSocketAddress remote = new InetSocketAddress("198.51.100.1", 1234);
        Handshake h = Handshake.builder("r1", "/chat/x").method("GET").secure(true).host("gw").query("a=1")
                .header("X-A", "1").remoteAddress(remote).subprotocols(List.of("p1", "p2"))
                .pathParameters(Map.of("room", "x")).build().withPrincipal(alice);

        Handshake copy = h.toBuilder().build();

        assertEquals("r1", copy.requestId());
        assertEquals("/chat/x", copy.path());
        assertTrue(copy.secure());
        assertEquals("gw", copy.host());
        assertEquals("a=1", copy.query());
        assertEquals(h.headers(), copy.headers());
        assertEquals(remote, copy.remoteAddress());
        assertEquals(List.of("p1", "p2"), copy.subprotocols());
        assertEquals(Optional.of("x"), copy.pathParameter("room"));
        assertSame(alice, copy.principal().orElseThrow());
    }

    @Test
    void pathMustStartWithASlash() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Handshake.builder("r", "ws"));
        assertTrue(e.getMessage().startsWith("path: ws"), e.getMessage());
    }
}
