package dev.gatehouse.jetty.internal;

import java.util.List;
import java.util.Map;

import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;

/** The client leg's upgrade, shared by both mounts. */
final class Upgrades {

    private Upgrades() {
    }

    /**
     * Accepts the client's upgrade with the dialled backend's subprotocol and relayed 101 headers, and
     * {@code clientLeg} as the frame handler. Extensions are Jetty's to negotiate with the client, per leg.
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
}
