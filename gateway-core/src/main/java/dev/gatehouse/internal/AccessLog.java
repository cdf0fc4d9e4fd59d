package dev.gatehouse.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Instant;

import com.fasterxml.jackson.core.JsonGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Verdict;
import dev.gatehouse.policy.Cidr;

/**
 * The access log: one JSON line per session at its end, one per rejected handshake, and optionally one per
 * message routed on a WebSocket API route, on the logger {@code dev.gatehouse.access}. Field names follow
 * AWS's {@code $context} variables where one exists ({@code identity} and {@code authorizer} are objects, as
 * in the integrations' events). Written with Jackson's streaming generator; never a query string, header
 * value or credential, only the request's path.
 */
final class AccessLog {

    /** The access log's logger. */
    static final Logger LOGGER = LoggerFactory.getLogger("dev.gatehouse.access");


    private AccessLog() {
    }

    /** What a session's line says about its traffic and its end. */
    record Session(String connectionId, String route, Handshake handshake, String backendTarget, String traceparent,
            Instant connectedAt,
            long durationMs, long messagesIn, long bytesIn, long messagesOut, long bytesOut, CloseStatus clientClose,
            String cause, String initiator) {
    }

    /** The line of a session that ended. */
    static String session(String node, Session s) {
        return write(g -> {
            Handshake h = s.handshake();
            g.writeStringField("requestId", h.requestId());
            g.writeStringField("connectionId", s.connectionId());
            g.writeStringField("eventType", "DISCONNECT");
            g.writeStringField("routeKey", "$disconnect");
            g.writeNumberField("status", 101);
            g.writeNumberField("connectedAt", s.connectedAt().toEpochMilli());
            identity(g, h.clientAddress().getHostAddress(), h);
            g.writeStringField("route", s.route());
            g.writeNumberField("durationMs", s.durationMs());
            g.writeNumberField("messagesIn", s.messagesIn());
            g.writeNumberField("messagesOut", s.messagesOut());
            g.writeNumberField("bytesIn", s.bytesIn());
            g.writeNumberField("bytesOut", s.bytesOut());
            if (s.clientClose() == null) {
                g.writeNullField("closeCode");
                g.writeNullField("closeReason");
            } else {
                g.writeNumberField("closeCode", s.clientClose().code());
                g.writeStringField("closeReason", s.clientClose().reason());
            }
            g.writeStringField("cause", s.cause());
            g.writeStringField("initiator", s.initiator());
            if (s.backendTarget() == null) {
                g.writeNullField("backendTarget");
            } else {
                g.writeStringField("backendTarget", s.backendTarget());
            }
            g.writeStringField("node", node);
            trace(g, s.traceparent());
        });
    }

    /**
     * The line of a rejected handshake.
     *
     * @param route      the matched route's path template, or null
     * @param durationMs from the start of the pipeline, or -1 when unknown
     */
    static String rejection(String node, Handshake h, String route, Verdict.Reject reject, long durationMs) {
        return rejection(node, h.requestId(), h.path(), h.remoteAddress(), Cidr.text(h.clientAddress()), h, route, reject,
                durationMs);
    }

    /** The line of a handshake that no gateway's pipeline decided (Jetty's parser, a request deadline). */
    static String rejection(String node, String requestId, String path, InetSocketAddress remote, Verdict.Reject reject) {
        String client = remote.getAddress() == null ? remote.getHostString() : Cidr.text(remote.getAddress());
        return rejection(node, requestId, path, remote, client, null, null, reject, -1);
    }

    private static String rejection(String node, String requestId, String path, InetSocketAddress remote, String client,
            Handshake h, String route, Verdict.Reject reject, long durationMs) {
        return write(g -> {
            g.writeStringField("requestId", requestId);
            g.writeStringField("eventType", "CONNECT");
            g.writeStringField("routeKey", "$connect");
            g.writeNumberField("status", reject.status());
            g.writeStringField("kind", reject.kind().error());
            g.writeStringField("message", reject.message());
            identity(g, client, h);
            if (route == null) {
                g.writeNullField("route");
            } else {
                g.writeStringField("route", route);
            }
            g.writeStringField("path", path);
            g.writeStringField("remote", address(remote));
            if (durationMs >= 0) {
                g.writeNumberField("durationMs", durationMs);
            }
            g.writeStringField("node", node);
            if (h != null) {
                trace(g, h.header(TraceContext.HEADER).orElse(null));
            }
        });
    }

    /** The line of a message routed to an integration. */
    static String message(String node, String connectionId, String requestId, String messageId, String route,
            String routeKey, int status, long latencyMs, String traceparent) {
        return write(g -> {
            g.writeStringField("requestId", requestId);
            g.writeStringField("connectionId", connectionId);
            if (messageId != null) {
                g.writeStringField("messageId", messageId);
            }
            g.writeStringField("eventType", "MESSAGE");
            g.writeStringField("routeKey", routeKey);
            g.writeNumberField("status", status);
            g.writeNumberField("integrationStatus", status);
            g.writeNumberField("integrationLatency", latencyMs);
            g.writeStringField("route", route);
            g.writeStringField("node", node);
            if (traceparent != null) {
                g.writeStringField("traceparent", traceparent);
                g.writeStringField("traceId", TraceContext.traceId(traceparent));
            }
        });
    }

    /** The backend URI as the log may show it: scheme, host, port and path, never the query or user info. */
    static String target(URI uri) {
        if (uri == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(64).append(uri.getScheme()).append("://").append(uri.getHost());
        if (uri.getPort() != -1) {
            b.append(':').append(uri.getPort());
        }
        return b.append(uri.getRawPath() == null ? "" : uri.getRawPath()).toString();
    }

    /** The backend's origin, for metrics: scheme, host and port. */
    static String origin(URI uri) {
        int port = uri.getPort();
        if (port == -1) {
            port = "wss".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        }
        return uri.getScheme() + "://" + uri.getHost() + ":" + port;
    }

    /** {@code ip:port}, or {@code [ip6]:port}. */
    private static String address(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static void identity(JsonGenerator g, String sourceIp, Handshake h) throws IOException {
        g.writeObjectFieldStart("identity");
        g.writeStringField("sourceIp", sourceIp);
        String userAgent = h == null ? null : h.header("user-agent").orElse(null);
        if (userAgent == null) {
            g.writeNullField("userAgent");
        } else {
            g.writeStringField("userAgent", userAgent);
        }
        g.writeEndObject();
        g.writeObjectFieldStart("authorizer");
        String principal = h == null ? null : h.principal().map(p -> p.subject()).orElse(null);
        if (principal == null) {
            g.writeNullField("principalId");
        } else {
            g.writeStringField("principalId", principal);
        }
        g.writeEndObject();
    }

    private static void trace(JsonGenerator g, String traceparent) throws IOException {
        if (traceparent != null && TraceContext.isValid(traceparent)) {
            g.writeStringField("traceparent", traceparent);
            g.writeStringField("traceId", TraceContext.traceId(traceparent));
        }
    }

    private static String write(Json.Fields fields) {
        return Json.object(fields);
    }
}
