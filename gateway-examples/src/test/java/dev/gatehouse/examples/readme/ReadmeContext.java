package dev.gatehouse.examples.readme;

import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Message;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.routing.RouteEvent;

/**
 * What the README's snippets use without declaring it, as the README says: each snippet that is not a whole
 * class is compiled as the body of a method of a subclass of this one ({@code ReadmeSnippetsTest}). A snippet
 * may declare a variable of the same name, which hides the one here. Nothing here runs.
 */
public abstract class ReadmeContext {

    /** The application's Jetty server. */
    protected Server server = new Server();
    /** A gateway built earlier. */
    protected Gateway gateway;
    /** Backends of the examples' routes. */
    protected Backend backend = Backend.of("ws://backend.internal:9000/ws");
    protected Backend chat = Backend.of("ws://chat.internal:9000/rooms/{room}");
    protected Backend feed = Backend.of("ws://feed.internal:9000/feed");
    /** An authenticator built earlier, e.g. a {@code JwtAuthenticator}. */
    protected Authenticator jwt = ApiKeyAuthenticator.of("k", "c");
    /** The application's logger. */
    protected Logger log = LoggerFactory.getLogger(ReadmeContext.class);
    /** Jackson, for the JSON of the demo's rooms: {@code DemoRooms}' own. */
    protected static final ObjectMapper JSON = new ObjectMapper();

    /** The JSON body of a route event's text message ({@code Jackson's readTree}). */
    protected static JsonNode json(RouteEvent event) {
        try {
            return JSON.readTree(event.body().map(m -> m instanceof Message.Text t ? t.text() : "{}").orElse("{}"));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
