package dev.gatehouse;

import java.net.URI;

import dev.gatehouse.internal.UriTemplateBackend;

/**
 * Where a route's connections go: a WebSocket service the gateway dials before it answers the client.
 *
 * <pre>{@code
 * Backend.of("ws://chat.internal:9000/rooms/{room}")   // {room} from the route's path template
 * }</pre>
 *
 * <p>Threading: {@link #target(Handshake)} runs on a server thread of the upgrade request, after the
 * policies.
 */
@FunctionalInterface
public interface Backend {

    /**
     * The URI to dial for an admitted handshake, with scheme {@code ws} or {@code wss}. The client's query
     * string (without credentials) is appended by the gateway.
     */
    URI target(Handshake handshake);

    /**
     * A backend at a URL template. {@code {name}} is replaced by the route's path parameter (encoded as a
     * path segment), {@code {*}} by the rest of the path matched by a route's trailing {@code /*}. When
     * the route ends in {@code /*} and the template has no {@code {*}}, the rest of the path is appended
     * to the template's path: route {@code /api/*} with {@code ws://b:9000/v1} sends {@code /api/x} to
     * {@code ws://b:9000/v1/x}.
     *
     * @throws IllegalArgumentException if the template is not a {@code ws://} or {@code wss://} URL
     */
    static Backend of(String urlTemplate) {
        return UriTemplateBackend.parse(urlTemplate);
    }

    /** A backend at a fixed URI; see {@link #of(String)}. */
    static Backend of(URI uri) {
        return UriTemplateBackend.parse(uri.toString());
    }
}
