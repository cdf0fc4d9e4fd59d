package dev.gatehouse.session;

import dev.gatehouse.Handshake;
import dev.gatehouse.Message;

/**
 * An in-session hook that sees every whole message travelling one way on a route, and decides what
 * happens to it: forward it (as it is or transformed), drop it, drop it with a reply to its sender, or
 * close the connection. Validation, transformation and interception are all filters:
 *
 * <pre>{@code
 * MessageFilter objectsOnly = (message, connection) ->
 *         message instanceof Message.Text text && text.text().startsWith("{") && text.text().endsWith("}")
 *                 ? MessageAction.forward(message)
 *                 : MessageAction.invalid("messages must be JSON objects");  // 1007 to the sender, 1001 to the other leg
 * Route.builder("/feed").clientMessages(objectsOnly).backend(Backend.of("ws://feed.internal:9000")).build();
 * }</pre>
 *
 * <p>A route with a filter for a direction reassembles that direction's fragmented messages before the
 * filter runs (bounded by the route's message size limit), so filters cost memory and latency; a route
 * without filters relays fragments as they come and pays nothing. Threading: called on the thread that
 * received the message's last frame, one message at a time per direction and connection; it must not
 * block. An exception closes the connection with 1011 to the sender and 1001 to the other leg.
 */
@FunctionalInterface
public interface MessageFilter {

    /**
     * Decides on one message.
     *
     * @param message    the whole message
     * @param connection the connection's handshake: its principal, path parameters and headers
     * @return what to do; never {@code null}
     */
    MessageAction filter(Message message, Handshake connection);
}
