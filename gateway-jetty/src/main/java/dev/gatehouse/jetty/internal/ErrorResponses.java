package dev.gatehouse.jetty.internal;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.Ids;
import dev.gatehouse.internal.Json;
import dev.gatehouse.internal.Rejections;

/**
 * A server's error handler that answers Jetty's own error responses (a request its parser refused, a
 * request no handler took, a handler failure) with the gateway's JSON body and logs one access line each.
 */
public final class ErrorResponses implements Request.Handler {

    /** The longest path written to the access log; longer ones are cut. */
    private static final int MAX_LOGGED_PATH = 256;

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = status(request, response);
        Verdict.Reject reject = reject(request, status);
        String requestId = Ids.next();
        Rejections.log(requestId, loggedPath(request), remote(request), reject);
        if (response.isCommitted() || HttpStatus.hasNoBody(reject.status())) {
            callback.succeeded();
            return true;
        }
        byte[] body = Json.errorBody(reject, requestId).getBytes(StandardCharsets.UTF_8);
        new Refusal(reject, body, "application/json").write(response, callback);
        return true;
    }

    private static int status(Request request, Response response) {
        Object status = request.getAttribute(ErrorHandler.ERROR_STATUS);
        int s = status instanceof Integer i ? i : response.getStatus();
        return s >= 400 && s <= 599 ? s : HttpStatus.INTERNAL_SERVER_ERROR_500;
    }

    /**
     * The rejection for a status. Its message is the gateway's own, never Jetty's reason: that may name an
     * exception, or quote the request (a parser error can show the buffer it failed in, query included).
     */
    private static Verdict.Reject reject(Request request, int status) {
        if (status == HttpStatus.BAD_REQUEST_400 && upgradeWithoutConnectionUpgrade(request)) {
            // Jetty refuses an Upgrade header without Connection: Upgrade as a bad h2c upgrade, before any
            // handler sees it; the gateway answers such a WebSocket upgrade 426, as for its own checks.
            return Verdict.reject(Rejection.UPGRADE_REQUIRED, "the upgrade request has no Connection: Upgrade")
                    .withHeader("Upgrade", "websocket").withHeader("Sec-WebSocket-Version", "13");
        }
        return switch (status) {
            case HttpStatus.BAD_REQUEST_400 -> Verdict.reject(Rejection.BAD_REQUEST, "the request is malformed");
            case HttpStatus.NOT_FOUND_404 -> Verdict.reject(Rejection.ROUTE_NOT_FOUND, "no route for this request");
            case HttpStatus.REQUEST_TIMEOUT_408 -> Verdict.reject(Rejection.REQUEST_TIMEOUT,
                    "the request was not received in time");
            case HttpStatus.URI_TOO_LONG_414 -> Verdict.reject(Rejection.URI_TOO_LONG,
                    "the request target is longer than the server accepts");
            case HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE_431 -> Verdict.reject(Rejection.REQUEST_HEADERS_TOO_LARGE,
                    "the request's header block is larger than the server accepts");
            case HttpStatus.SERVICE_UNAVAILABLE_503 -> Verdict.reject(Rejection.UNAVAILABLE,
                    "the server is unavailable").withHeader("Retry-After", "5");
            default -> status < 500
                    ? Verdict.reject(Rejection.BAD_REQUEST, "the request was refused").withStatus(status)
                    : Verdict.reject(Rejection.INTERNAL_ERROR, "the server failed to answer the request")
                            .withStatus(status);
        };
    }

    private static boolean upgradeWithoutConnectionUpgrade(Request request) {
        boolean websocket = false;
        for (String value : request.getHeaders().getValuesList(HttpHeader.UPGRADE)) {
            websocket |= hasToken(value, "websocket");
        }
        for (String value : request.getHeaders().getValuesList(HttpHeader.CONNECTION)) {
            if (hasToken(value, "upgrade")) {
                return false;
            }
        }
        return websocket;
    }

    private static boolean hasToken(String value, String token) {
        for (String t : value.split(",")) {
            if (t.trim().toLowerCase(Locale.ROOT).equals(token)) {
                return true;
            }
        }
        return false;
    }

    /** The path, without query, cut to a bounded length; {@code -} for a request Jetty could not parse. */
    private static String loggedPath(Request request) {
        // Jetty hands the error handler a request with method BAD when it could not parse the request line.
        String path = "BAD".equals(request.getMethod()) ? null : request.getHttpURI().getPath();
        if (path == null || path.isEmpty()) {
            return "-";
        }
        return path.length() > MAX_LOGGED_PATH ? path.substring(0, MAX_LOGGED_PATH) + "..." : path;
    }

    private static InetSocketAddress remote(Request request) {
        SocketAddress remote = request.getConnectionMetaData().getRemoteSocketAddress();
        return remote instanceof InetSocketAddress address
                ? address : InetSocketAddress.createUnresolved(String.valueOf(remote), 0);
    }

    @Override
    public String toString() {
        return "Gatehouse JSON error responses";
    }
}
