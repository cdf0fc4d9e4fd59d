package dev.gatehouse;

/**
 * The kinds of handshake rejection, each with its default HTTP status and the {@code error} value of the
 * JSON body that the gateway answers with:
 * {@code {"error":"<kind>","message":"<human text>","requestId":"<id>"}}.
 */
public enum Rejection {
    /**
     * The request is malformed: a request target with a bad percent-escape or escapes that are not UTF-8,
     * a {@code Sec-WebSocket-Key} that is not one base64 value of 16 bytes, or anything Jetty's HTTP parser
     * refuses: 400. Checked before any backend is dialled.
     */
    BAD_REQUEST(400, "bad_request"),
    /**
     * The client did not send a complete request within the connector's request deadline: 408. The
     * connection is closed (see {@code JettyGateway.requestDeadline}).
     */
    REQUEST_TIMEOUT(408, "request_timeout"),
    /**
     * The request's headers are too many or too large (see {@code Gateway.Builder.maxRequestHeaders} and
     * {@code maxRequestHeaderBytes}): 431. Checked before the route is matched.
     */
    REQUEST_HEADERS_TOO_LARGE(431, "request_headers_too_large"),
    /** The request's path and query are longer than {@code Gateway.Builder.maxRequestUriLength}: 414. */
    URI_TOO_LONG(414, "uri_too_long"),
    /** No route matches the host and path: 404. */
    ROUTE_NOT_FOUND(404, "route_not_found"),
    /** The request is not a WebSocket upgrade: 426, with {@code Upgrade: websocket}. */
    UPGRADE_REQUIRED(426, "upgrade_required"),
    /**
     * No credential of the kind an authenticator reads: 401. Authenticator chains try the next
     * authenticator on this kind, and {@link Authenticator#orAnonymous()} lets the client in.
     */
    CREDENTIAL_MISSING(401, "unauthorized"),
    /** A credential is invalid: 401. */
    UNAUTHORIZED(401, "unauthorized"),
    /**
     * Not allowed (origin, client address, scope, claim): 403. A missing scope carries
     * {@code WWW-Authenticate: Bearer error="insufficient_scope"}.
     */
    FORBIDDEN(403, "forbidden"),
    /** A handshake rate limit was exceeded: 429, with {@code Retry-After} in seconds. */
    RATE_LIMITED(429, "rate_limited"),
    /** A quota of connections per period was used up: 429, with {@code Retry-After} until the period ends. */
    QUOTA_EXCEEDED(429, "quota_exceeded"),
    /** A concurrent-connection limit of the route, the principal or the client address was reached: 429. */
    TOO_MANY_CONNECTIONS(429, "too_many_connections"),
    /**
     * The gateway is draining, overloaded, or at its global connection limit: 503, with
     * {@code Retry-After}.
     */
    UNAVAILABLE(503, "service_unavailable"),
    /** The backend refused the handshake with a 4xx status, which the client receives. */
    BACKEND_REJECTED(400, "backend_rejected"),
    /** The backend is unreachable, answered 5xx, or broke the handshake: 502. */
    BAD_GATEWAY(502, "bad_gateway"),
    /** The backend did not complete its handshake within the connect timeout: 504. */
    GATEWAY_TIMEOUT(504, "gateway_timeout"),
    /** An authenticator, policy or backend resolver failed with an exception: 500. */
    INTERNAL_ERROR(500, "internal_error");

    private final int status;
    private final String error;

    Rejection(int status, String error) {
        this.status = status;
        this.error = error;
    }

    /** The default HTTP status of this kind. */
    public int status() {
        return status;
    }

    /** The {@code error} value of the JSON body, e.g. {@code "route_not_found"}. */
    public String error() {
        return error;
    }
}
