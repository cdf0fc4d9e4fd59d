package dev.gatehouse.jetty.internal;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.Admission;
import dev.gatehouse.internal.Bridge;
import dev.gatehouse.internal.DefaultGateway;

/** The client leg's upgrade, shared by both mounts. */
final class Upgrades {

    private Upgrades() {
    }

    /**
     * The step after the backend's dial, the same on both mounts: relays a refused dial, attaches the
     * backend leg (a gateway that began draining meanwhile gets 503), then upgrades the client with a new
     * client leg. A backend leg whose client will not be upgraded is closed at once.
     *
     * @param callback completed once the 101 is written, or failed if it cannot be; untouched when a
     *                 refusal is returned
     * @return the refusal for the mount to write, or empty when the upgrade is under way
     * @throws RuntimeException from Jetty's upgrade, after the backend leg was closed
     */
    static Optional<Refusal> afterDial(BackendDialer dialer, BackendDialer.Dialed dialed, Handshake request,
            Admission.Admitted admission, Request jettyRequest, Response response, Callback callback) {
        if (dialed.refusal() != null) {
            return Optional.of(dialed.refusal());
        }
        DefaultGateway gateway = dialer.gateway();
        Route route = admission.route();
        Bridge bridge = dialed.bridge();
        if (!bridge.backendConnected(dialed.backendLeg(), dialed.subprotocol())) {
            dialer.abandon(dialed, "closed before the client upgrade");
            return Optional.of(Refusal.rejected(gateway, request, route, bridge.refusalBeforeUpgrade()));
        }
        if (jettyRequest.getConnectionMetaData().getHttpVersion() != HttpVersion.HTTP_1_1) {
            // The frame legs take over an HTTP/1.1 connection; WebSocket over HTTP/2 (RFC 8441) has none to take.
            dialer.abandon(dialed, "client upgrade over " + jettyRequest.getConnectionMetaData().getHttpVersion());
            return Optional.of(Refusal.rejected(gateway, request, route,
                    Verdict.reject(Rejection.UPGRADE_REQUIRED, "WebSocket upgrades need HTTP/1.1")
                            .withHeader("Upgrade", "websocket").withHeader("Sec-WebSocket-Version", "13")));
        }
        return frameUpgrade(dialer, dialed, request, admission, jettyRequest, response, callback);
    }

    /**
     * Upgrades the client with a {@link FrameLeg} of Gatehouse's own on the request's endpoint: checks the
     * upgrade request as RFC 6455 asks (a GET with {@code Upgrade: websocket}, {@code Connection: upgrade},
     * {@code Sec-WebSocket-Version: 13} and a key), writes the 101 with the backend's subprotocol and relayed
     * headers and no extension, and has Jetty hand the endpoint to the leg once the 101 is written.
     */
    private static Optional<Refusal> frameUpgrade(BackendDialer dialer, BackendDialer.Dialed dialed, Handshake request,
            Admission.Admitted admission, Request jettyRequest, Response response, Callback callback) {
        DefaultGateway gateway = dialer.gateway();
        Bridge bridge = dialed.bridge();
        HttpFields headers = jettyRequest.getHeaders();
        String key = headers.get(HttpHeader.SEC_WEBSOCKET_KEY);
        if (!HttpMethod.GET.is(jettyRequest.getMethod()) || !headers.contains(HttpHeader.UPGRADE, "websocket")
                || !headers.contains(HttpHeader.CONNECTION, "upgrade") || key == null
                || !"13".equals(headers.get(HttpHeader.SEC_WEBSOCKET_VERSION))) {
            dialer.abandon(dialed, "client upgrade refused");
            return Optional.of(Refusal.rejected(gateway, request, admission.route(),
                    Verdict.reject(Rejection.UPGRADE_REQUIRED, "not a valid WebSocket upgrade request")
                            .withHeader("Upgrade", "websocket").withHeader("Sec-WebSocket-Version", "13")));
        }
        ConnectionMetaData meta = jettyRequest.getConnectionMetaData();
        EndPoint endPoint = meta.getConnection().getEndPoint();
        FrameLeg leg = new FrameLeg(endPoint, meta.getConnector().getExecutor(), meta.getConnector().getByteBufferPool(),
                FrameLeg.Role.SERVER, dialed.extensions() == null ? 0 : FrameHeaders.RSV1, bridge.clientHandler(),
                bridge::clientConnected, BackendDialer.safetyIdleTimeout(admission.settings()));
        jettyRequest.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, leg);
        response.setStatus(HttpStatus.SWITCHING_PROTOCOLS_101);
        HttpFields.Mutable answer = response.getHeaders();
        answer.put(HttpHeader.UPGRADE, "websocket");
        answer.put(HttpHeader.CONNECTION, "Upgrade");
        answer.put(HttpHeader.SEC_WEBSOCKET_ACCEPT, AcceptHash.of(key));
        if (dialed.subprotocol() != null) {
            answer.put(HttpHeader.SEC_WEBSOCKET_SUBPROTOCOL, dialed.subprotocol());
        }
        if (dialed.extensions() != null) {
            answer.put(HttpHeader.SEC_WEBSOCKET_EXTENSIONS, dialed.extensions());
        }
        for (Map.Entry<String, List<String>> header : dialed.relayed().entrySet()) {
            header.getValue().forEach(v -> answer.add(header.getKey(), v));
        }
        // If the 101 cannot be written (the client left during the dial), the client leg never opens.
        Callback written = Callback.from(callback, (Throwable failure) -> {
            if (failure != null) {
                dialer.abandon(dialed, "client upgrade failed");
            }
        });
        response.write(true, null, written);
        return Optional.empty();
    }
}
