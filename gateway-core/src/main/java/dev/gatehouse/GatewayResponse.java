package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * How the gateway answers one kind of rejected handshake, replacing its default status, message or body
 * (AWS API Gateway's "gateway responses"). Set gateway-wide with {@code Gateway.Builder.response(..)} and
 * per route with {@code Route.Builder.response(..)}; the route's wins.
 *
 * <pre>{@code
 * Gateway.builder()
 *         .response(Rejection.UNAUTHORIZED, GatewayResponse.status(403))
 *         .response(Rejection.ROUTE_NOT_FOUND, GatewayResponse.body("application/json",
 *                 "{\"code\":\"${error}\",\"detail\":\"${message}\",\"trace\":\"${requestId}\"}"))
 *         .response(Rejection.RATE_LIMITED, GatewayResponse.message("slow down").withHeader("X-Limit", "10/s"))
 * }</pre>
 *
 * <p>Body templates replace {@code ${error}}, {@code ${message}}, {@code ${requestId}} and
 * {@code ${status}}; in a JSON content type the values are JSON-escaped. Without a template the body is the
 * gateway's JSON. Headers the rejection carries (such as {@code Retry-After}) are kept.
 */
public final class GatewayResponse {

    private final int status;           // 0: the kind's status
    private final String message;       // null: the rejection's message
    private final String contentType;   // null: no template
    private final String template;      // null: the gateway's JSON body
    private final Map<String, String> headers;

    private GatewayResponse(int status, String message, String contentType, String template, Map<String, String> headers) {
        this.status = status;
        this.message = message;
        this.contentType = contentType;
        this.template = template;
        this.headers = Map.copyOf(headers);
    }

    /**
     * Answers with another status, e.g. 404 instead of 403 to hide what exists.
     *
     * @throws IllegalArgumentException if the status is not 400-599
     */
    public static GatewayResponse status(int status) {
        return new GatewayResponse(checkStatus(status), null, null, null, Map.of());
    }

    /** Answers with another message in the JSON body. */
    public static GatewayResponse message(String message) {
        return new GatewayResponse(0, requireNonNull(message, "message"), null, null, Map.of());
    }

    /** Answers with a body of your own; see the class documentation for the placeholders. */
    public static GatewayResponse body(String contentType, String template) {
        return new GatewayResponse(0, null, requireNonNull(contentType, "contentType"), requireNonNull(template, "template"),
                Map.of());
    }

    /** This response with another status. */
    public GatewayResponse withStatus(int status) {
        return new GatewayResponse(checkStatus(status), message, contentType, template, headers);
    }

    /** This response with another message. */
    public GatewayResponse withMessage(String message) {
        return new GatewayResponse(status, requireNonNull(message, "message"), contentType, template, headers);
    }

    /** This response with one more header. */
    public GatewayResponse withHeader(String name, String value) {
        Map<String, String> copy = new LinkedHashMap<>(headers);
        copy.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
        return new GatewayResponse(status, message, contentType, template, copy);
    }

    /** The rejection as this response shapes it: status, message and headers. */
    public Verdict.Reject applyTo(Verdict.Reject reject) {
        Verdict.Reject r = new Verdict.Reject(reject.kind(), status == 0 ? reject.status() : status,
                message == null ? reject.message() : message, reject.headers());
        for (Map.Entry<String, String> h : headers.entrySet()) {
            r = r.withHeader(h.getKey(), h.getValue());
        }
        return r;
    }

    /** The content type of the body template, when there is one. */
    public Optional<String> contentType() {
        return Optional.ofNullable(contentType);
    }

    /** The body for a rejection, when this response has a template. */
    public Optional<String> body(Verdict.Reject reject, String requestId) {
        if (template == null) {
            return Optional.empty();
        }
        boolean json = contentType.toLowerCase(java.util.Locale.ROOT).contains("json");
        return Optional.of(template
                .replace("${error}", value(reject.kind().error(), json))
                .replace("${message}", value(reject.message(), json))
                .replace("${requestId}", value(requestId, json))
                .replace("${status}", Integer.toString(reject.status())));
    }

    private static String value(String v, boolean json) {
        if (!json) {
            return v;
        }
        return new String(JsonStringEncoder.getInstance().quoteAsString(v));
    }

    private static int checkStatus(int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("status: " + status + " (expected: 400-599)");
        }
        return status;
    }

    @Override
    public String toString() {
        return "GatewayResponse[status=" + (status == 0 ? "default" : status) + (message == null ? "" : ", message")
                + (template == null ? "" : ", body " + contentType) + "]";
    }
}
