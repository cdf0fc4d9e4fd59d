package dev.gatehouse.jetty.internal;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;

/** The client leg's upgrade, shared by both mounts. */
final class Upgrades {

    private Upgrades() {
    }

    /**
     * Accepts the client's upgrade with the dialled backend's subprotocol and relayed 101 headers, and
     * {@code clientLeg} as the frame handler. Extensions are negotiated with the client only, by Jetty, from
     * the offer {@link #offering} left in the request.
     */
    static WebSocketNegotiator negotiator(BackendDialer.Dialed dialed, JettyLeg clientLeg) {
        String subprotocol = dialed.subprotocol();
        return (request, response, callback) -> {
            if (subprotocol != null) {
                response.setAcceptedSubProtocol(subprotocol);
            }
            for (Map.Entry<String, List<String>> header : dialed.relayed().entrySet()) {
                header.getValue().forEach(v -> response.getHeaders().add(header.getKey(), v));
            }
            return clientLeg;
        };
    }

    /**
     * The client's upgrade request as Jetty's handshake is to see it: its {@code Sec-WebSocket-Extensions}
     * reduced to the one offer the gateway accepts, or removed when it accepts none ({@link ExtensionOffers}).
     * This happens before the handshake because Jetty parses the offers before it asks the negotiator, and
     * answers 400 to one it cannot parse or to a permessage-deflate parameter it does not know, where RFC
     * 7692 has the server decline the offer; it also accepts offers with invalid values or repeated
     * parameters, which RFC 7692 has the server decline.
     */
    static Request offering(Request request) {
        List<String> offers = request.getHeaders().getValuesList(HttpHeader.SEC_WEBSOCKET_EXTENSIONS);
        if (offers.isEmpty()) {
            return request;
        }
        HttpFields.Mutable headers = HttpFields.build(request.getHeaders());
        Optional<String> accepted = ExtensionOffers.accepted(offers);
        if (accepted.isPresent()) {
            headers.put(HttpHeader.SEC_WEBSOCKET_EXTENSIONS, accepted.get());
        } else {
            headers.remove(HttpHeader.SEC_WEBSOCKET_EXTENSIONS);
        }
        HttpFields offered = headers.asImmutable();
        return new Request.Wrapper(request) {
            @Override
            public HttpFields getHeaders() {
                return offered;
            }
        };
    }
}
