package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonGenerator;

import dev.gatehouse.Audience;
import dev.gatehouse.Authenticator;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Connections;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.NodeUnreachableException;
import dev.gatehouse.Verdict;
import dev.gatehouse.spi.GatewayListener;

/**
 * The HTTP management API without HTTP: parses a request's method, path and query into an operation on
 * {@link Connections}, and turns its result into the status, headers and JSON body of PRODUCT.md's table. An
 * adapter authenticates the request ({@link #authenticate}), reads the body when the operation needs one (at
 * most {@link #maxBody()} bytes, else {@link #tooLarge}), runs it and writes the answer.
 *
 * <p>Every bad request gets a 4xx with the JSON error body {@code {"error","message","requestId"}}: an unknown
 * path 404, a wrong method 405 (with {@code Allow}), a bad id, group, close code, reason, query parameter or
 * {@code excluded} list 400, a body over the limit 413.
 */
public final class ManagementApi {

    private static final Logger LOG = LoggerFactory.getLogger(ManagementApi.class);
    /**
     * What a connection id may look like: printable ASCII, as Gatehouse's ids (URL-safe base64) and AWS's
     * ({@code L0SM9cOFvHcCIhw=}) are; anything else is a bad request rather than an unknown id.
     */
    private static final Pattern ID = Pattern.compile("[!-~]{1,128}");
    /** How times are written: ISO-8601 in UTC with milliseconds, as AWS writes them. */
    private static final DateTimeFormatter ISO =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    /** The most ids an {@code excluded} list may name. */
    static final int MAX_EXCLUDED = 1000;
    /** The longest close reason, in UTF-8 bytes (a CLOSE frame's payload is at most 125 bytes). */
    static final int MAX_REASON_BYTES = 123;

    /**
     * An HTTP answer.
     *
     * @param status  the status code
     * @param headers extra response headers (besides {@code Content-Type})
     * @param body    the JSON body, empty for none
     */
    public record Answer(int status, Map<String, String> headers, String body) {
        /** Copies the headers. */
        public Answer {
            headers = Map.copyOf(headers);
            requireNonNull(body, "body");
        }

        /** The body as UTF-8. */
        public byte[] bodyBytes() {
            return body.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A parsed request: an answer already (a bad request), or an operation to run. */
    public sealed interface Parsed permits Immediate, Operation {
    }

    /** A request answered without running anything. */
    public record Immediate(Answer answer) implements Parsed {
    }

    /**
     * An operation on the registry.
     *
     * @param needsBody whether it reads the request body (a send); other operations ignore any body
     * @param action    runs it with the request's {@code Content-Type} (or {@code ""}) and body
     */
    public record Operation(boolean needsBody, Action action) implements Parsed {
    }

    /** Runs an operation. */
    @FunctionalInterface
    public interface Action {
        /** Runs it; the stage completes with the answer, never exceptionally for bad input. */
        CompletionStage<Answer> run(String contentType, ByteBuffer body);
    }

    private final Gateway gateway;
    private final Connections connections;
    private final Authenticator authenticator;
    private final int maxBody;

    /**
     * @param maxBody the largest body a send may have, in bytes
     */
    public ManagementApi(Gateway gateway, Authenticator authenticator, int maxBody) {
        this.gateway = requireNonNull(gateway, "gateway");
        this.connections = gateway.connections();
        this.authenticator = requireNonNull(authenticator, "authenticator");
        if (maxBody <= 0) {
            throw new IllegalArgumentException("maxBody: " + maxBody + " (expected: > 0)");
        }
        this.maxBody = maxBody;
    }

    /** The largest body a send may have, in bytes. */
    public int maxBody() {
        return maxBody;
    }

    /**
     * Runs the authenticator on a request.
     *
     * @return {@code null} when the request may proceed, else its answer (401 with the authenticator's
     *         headers, or whatever status it rejected with)
     */
    public Answer authenticate(Handshake request) {
        Verdict v;
        try {
            v = authenticator.authenticate(request);
        } catch (RuntimeException e) {
            LOG.error("Management request {}: the authenticator failed", request.requestId(), e);
            return error(500, "internal_error", "the authenticator failed", request.requestId());
        }
        if (v instanceof Verdict.Allow) {
            return null;
        }
        if (v == null) {
            LOG.error("Management request {}: the authenticator returned null", request.requestId());
            return error(500, "internal_error", "the authenticator returned no verdict", request.requestId());
        }
        Verdict.Reject r = (Verdict.Reject) v;
        return new Answer(r.status(), r.headers(), Json.errorBody(r, request.requestId()));
    }

    /**
     * The answer of a health check, which needs no credential: {@code GET /healthz} is 200 while the gateway
     * runs, {@code GET /readyz} 200, or 503 once it drains.
     *
     * @param path the decoded path inside the mount
     * @return the answer, or {@code null} when the request is not a health check
     */
    public Answer health(String method, String path) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return null;
        }
        if ("/healthz".equals(path)) {
            return new Answer(200, Map.of(), json(g -> g.writeStringField("status", "ok")));
        }
        if ("/readyz".equals(path)) {
            return gateway.isDraining()
                    ? new Answer(503, Map.of("Retry-After", "5"), json(g -> g.writeStringField("status", "draining")))
                    : new Answer(200, Map.of(), json(g -> g.writeStringField("status", "ready")));
        }
        return null;
    }

    /** The 404 of a request that names no management operation. */
    public Answer notFound(String requestId) {
        return error(404, "not_found", "no management operation at this path", requestId);
    }

    /** The 408 of a request whose body stopped coming. */
    public Answer timedOut(String requestId) {
        return error(408, "request_timeout", "the request body did not arrive in time", requestId);
    }

    /** The 413 of a body over {@link #maxBody()}. */
    public Answer tooLarge(String requestId) {
        return error(413, "payload_too_large", "the body is larger than " + maxBody + " bytes", requestId);
    }

    /**
     * Parses a request.
     *
     * @param rawPath the path inside the mount, still percent-encoded
     * @param query   the raw query string, {@code ""} for none
     */
    public Parsed parse(String method, String rawPath, String query, String requestId) {
        try {
            Parsed parsed = route(method, rawPath, query, requestId);
            if (parsed instanceof Operation op) {
                parsed = new Operation(op.needsBody(), (type, body) -> op.action().run(type, body)
                        .exceptionally(x -> unreachable(x, requestId)));
            }
            Listeners listeners = gateway instanceof DefaultGateway d ? d.observers() : null;
            if (listeners != null && parsed instanceof Operation op) {
                String name = method + " " + template(rawPath);
                return new Operation(op.needsBody(), (type, body) -> op.action().run(type, body).whenComplete((answer, x) ->
                        listeners.managementOperation(new GatewayListener.ManagementEvent(name, x == null ? answer.status() : 500))));
            }
            return parsed;
        } catch (BadRequest e) {
            return new Immediate(error(400, "bad_request", e.getMessage(), requestId));
        } catch (IllegalArgumentException e) {
            return new Immediate(error(400, "bad_request", e.getMessage(), requestId));
        }
    }

    private Parsed route(String method, String rawPath, String query, String requestId) {
        String malformed = PercentCodec.malformed(rawPath);
        if (malformed != null) {
            throw new BadRequest("path: holds " + malformed);
        }
        List<String> s = segments(rawPath);
        Map<String, List<String>> params = query(query);
        int n = s.size();
        if (n == 1 && s.get(0).equals(":send")) {
            return only(method, "POST", params, Set.of("excluded"), requestId,
                    () -> send(Audience.all().excluding(excluded(params)), requestId));
        }
        if (n == 2 && s.get(0).equals("@connections")) {
            String id = id(s.get(1));
            switch (method) {
                case "GET":
                    checkParams(params, Set.of());
                    return operation(false, (type, body) -> info(id, requestId));
                case "POST":
                    checkParams(params, Set.of());
                    return operation(true, (type, body) -> sendTo(id, type, body, requestId));
                case "DELETE": {
                    checkParams(params, Set.of("code", "reason"));
                    CloseStatus status = status(params);
                    return operation(false, (type, body) -> closeOne(id, status, requestId));
                }
                default:
                    return notAllowed("GET, POST, DELETE", requestId);
            }
        }
        if (n >= 2 && (s.get(0).equals("users") || s.get(0).equals("groups"))) {
            boolean user = s.get(0).equals("users");
            String name = Audience.checkName(s.get(1), user ? "userId" : "group");
            Audience audience = user ? Audience.user(name) : Audience.group(name);
            if (n == 2) {
                return only(method, "GET", params, Set.of(), requestId, () -> members(audience, requestId));
            }
            if (n == 3 && s.get(2).equals(":send")) {
                return only(method, "POST", params, Set.of("excluded"), requestId,
                        () -> send(audience.excluding(excluded(params)), requestId));
            }
            if (n == 3 && s.get(2).equals(":closeConnections")) {
                return only(method, "POST", params, Set.of("code", "reason"), requestId,
                        () -> closeAll(audience, status(params)));
            }
            if (!user && n == 4 && s.get(2).equals("connections")) {
                String id = id(s.get(3));
                switch (method) {
                    case "PUT":
                        checkParams(params, Set.of());
                        return operation(false, (type, body) -> membership(connections.join(id, name), id, requestId));
                    case "DELETE":
                        checkParams(params, Set.of());
                        return operation(false, (type, body) -> membership(connections.leave(id, name), id, requestId));
                    default:
                        return notAllowed("PUT, DELETE", requestId);
                }
            }
        }
        return new Immediate(notFound(requestId));
    }

    /** A one-method resource: its operation, or 405. */
    private Parsed only(String method, String allowed, Map<String, List<String>> params, Set<String> known,
            String requestId, Supplier<Parsed> operation) {
        if (!method.equals(allowed)) {
            return notAllowed(allowed, requestId);
        }
        checkParams(params, known);
        return operation.get();
    }

    private static Parsed operation(boolean needsBody, Action action) {
        return new Operation(needsBody, action);
    }

    private Parsed notAllowed(String allowed, String requestId) {
        Answer a = error(405, "method_not_allowed", "this path takes " + allowed, requestId);
        return new Immediate(new Answer(405, Map.of("Allow", allowed), a.body()));
    }

    // ---- the operations ----

    private Parsed send(Audience audience, String requestId) {
        return operation(true, (type, body) -> {
            Message message;
            try {
                message = message(type, body);
            } catch (BadBody e) {
                return done(e.answer(requestId));
            }
            return connections.send(audience, message).thenApply(d -> {
                LOG.debug("Management request {}: sent {} bytes to {}: {} recipients, {} refused", requestId,
                        message.size(), audience, d.recipients(), d.refused());
                return new Answer(202, Map.of("X-Gatehouse-Recipients", Integer.toString(d.recipients()),
                        "X-Gatehouse-Refused", Integer.toString(d.refused())), "");
            });
        });
    }

    private CompletionStage<Answer> sendTo(String id, String type, ByteBuffer body, String requestId) {
        Message message;
        try {
            message = message(type, body);
        } catch (BadBody e) {
            return done(e.answer(requestId));
        }
        return connections.send(id, message).thenApply(result -> {
            switch (result) {
                case QUEUED:
                    return new Answer(200, Map.of(), "");
                case TOO_LARGE:
                    return error(413, "payload_too_large", "the message is larger than the connection's outbound "
                            + "queue can hold", requestId);
                case QUEUE_FULL:
                    return new Answer(429, Map.of("Retry-After", "1"), error(429, "queue_full",
                            "the connection's outbound queue is full: its client reads more slowly than messages arrive",
                            requestId).body());
                default:
                    return gone(id, requestId);
            }
        });
    }

    private CompletionStage<Answer> info(String id, String requestId) {
        return connections.info(id).thenApply(info -> info.map(ManagementApi::infoAnswer)
                .orElseGet(() -> gone(id, requestId)));
    }

    private CompletionStage<Answer> closeOne(String id, CloseStatus status, String requestId) {
        return connections.close(id, status).thenApply(closed -> closed ? new Answer(204, Map.of(), "")
                : gone(id, requestId));
    }

    private Parsed closeAll(Audience audience, CloseStatus status) {
        return operation(false, (type, body) -> connections.close(audience, status)
                .thenApply(n -> new Answer(204, Map.of(), "")));
    }

    private Parsed members(Audience audience, String requestId) {
        return operation(false, (type, body) -> connections.ids(audience).thenApply(ids -> {
            if (ids.isEmpty()) {
                return error(404, "not_found", "no open connection", requestId);
            }
            return new Answer(200, Map.of(), json(g -> {
                g.writeArrayFieldStart("connections");
                for (String id : ids) {
                    g.writeString(id);
                }
                g.writeEndArray();
            }));
        }));
    }

    private CompletionStage<Answer> membership(CompletionStage<Boolean> change, String id, String requestId) {
        return change.thenApply(open -> open ? new Answer(204, Map.of(), "") : gone(id, requestId));
    }

    // ---- parsing ----

    /**
     * The body as a message: text for {@code text/*} and {@code application/json}, decoded with the content
     * type's {@code charset} (UTF-8 when it names none), else binary.
     *
     * @throws BadBody for text that its charset cannot decode, or a charset Java does not know
     */
    private static Message message(String contentType, ByteBuffer body) {
        String[] parts = contentType.split(";");
        String mime = parts[0].trim().toLowerCase(Locale.ROOT);
        if (!mime.startsWith("text/") && !mime.equals("application/json")) {
            return Message.binary(body);
        }
        Charset charset = StandardCharsets.UTF_8;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            if (p.regionMatches(true, 0, "charset=", 0, 8)) {
                String name = p.substring(8).replace("\"", "").trim();
                try {
                    charset = Charset.forName(name);
                } catch (IllegalArgumentException e) {
                    throw new BadBody(415, "unsupported_media_type", "charset " + quoted(name)
                            + ": not one this gateway knows (expected e.g. UTF-8)");
                }
            }
        }
        try {
            return Message.text(charset.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(body.duplicate()).toString());
        } catch (CharacterCodingException e) {
            throw new BadBody(400, "bad_request", "body: not valid " + charset.name() + ", which its Content-Type "
                    + "says it is (send it as application/octet-stream for a binary message)");
        }
    }

    /** The path with its ids, users and groups replaced by their names in braces: {@code /users/{userId}/:send}. */
    static String template(String rawPath) {
        List<String> s = segments(rawPath);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.size(); i++) {
            String seg = s.get(i);
            if (i == 1 && !s.get(0).startsWith(":")) {
                seg = switch (s.get(0)) {
                    case "users" -> "{userId}";
                    case "groups" -> "{group}";
                    default -> "{id}";
                };
            } else if (i == 3) {
                seg = "{id}";
            }
            out.append('/').append(seg);
        }
        return out.length() == 0 ? "/" : out.toString();
    }

    private static List<String> segments(String rawPath) {
        String p = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
        if (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        List<String> out = new ArrayList<>();
        if (p.isEmpty()) {
            return out;
        }
        for (String seg : p.split("/", -1)) {
            out.add(PercentCodec.decode(seg));
        }
        return out;
    }

    private static Map<String, List<String>> query(String query) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (query.isEmpty()) {
            return params;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decodeQuery(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decodeQuery(pair.substring(eq + 1));
            params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    private static String decodeQuery(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("query: holds a malformed percent-escape");
        }
    }

    private static void checkParams(Map<String, List<String>> params, Set<String> known) {
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            if (!known.contains(p.getKey())) {
                throw new BadRequest("query parameter " + quoted(p.getKey()) + ": unknown"
                        + (known.isEmpty() ? " (this operation takes none)" : " (expected: " + String.join(", ", known) + ")"));
            }
            if (!p.getKey().equals("excluded") && p.getValue().size() > 1) {
                throw new BadRequest("query parameter " + p.getKey() + ": given " + p.getValue().size()
                        + " times (expected: once)");
            }
        }
    }

    private static String id(String id) {
        if (!ID.matcher(id).matches()) {
            throw new BadRequest("connection id " + quoted(id) + ": not a connection id (expected: 1 to 128 "
                    + "printable ASCII characters)");
        }
        return id;
    }

    private static Set<String> excluded(Map<String, List<String>> params) {
        Set<String> ids = new LinkedHashSet<>();
        for (String list : params.getOrDefault("excluded", List.of())) {
            for (String id : list.split(",", -1)) {
                String trimmed = id.trim();
                if (trimmed.isEmpty()) {
                    throw new BadRequest("excluded: holds an empty id (expected: a comma-separated list of connection ids)");
                }
                if (!ID.matcher(trimmed).matches()) {
                    throw new BadRequest("excluded: " + quoted(trimmed) + " is not a connection id");
                }
                ids.add(trimmed);
            }
        }
        if (ids.size() > MAX_EXCLUDED) {
            throw new BadRequest("excluded: " + ids.size() + " ids (expected: at most " + MAX_EXCLUDED + ")");
        }
        return ids;
    }

    private static CloseStatus status(Map<String, List<String>> params) {
        int code = 1000;
        List<String> codes = params.get("code");
        if (codes != null) {
            String c = codes.get(0);
            try {
                code = Integer.parseInt(c);
            } catch (NumberFormatException e) {
                throw new BadRequest("code: " + quoted(c) + " (expected: a close code, 1000-4999)");
            }
        }
        if (code < 1000 || code > 4999) {
            throw new BadRequest("code: " + code + " (expected: 1000-4999)");
        }
        String reason = params.containsKey("reason") ? params.get("reason").get(0) : "";
        CloseStatus status = CloseStatus.of(code, reason);
        if (!status.isTransmittable()) {
            throw new BadRequest("code: " + code + " is reserved and may not be sent (expected: 1000-1003, "
                    + "1007-1014 or 3000-4999)");
        }
        int bytes = reason.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_REASON_BYTES) {
            throw new BadRequest("reason: " + bytes + " bytes (expected: at most " + MAX_REASON_BYTES + ")");
        }
        return status;
    }

    private static String quoted(String s) {
        String shown = s.length() > 64 ? s.substring(0, 64) + "…" : s;
        StringBuilder b = new StringBuilder("\"");
        shown.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.append('"').toString();
    }

    // ---- answers ----

    /**
     * The 503 of an operation whose connection lives on a node that cannot be reached, with {@code Retry-After};
     * any other failure is rethrown.
     */
    private static Answer unreachable(Throwable failure, String requestId) {
        Throwable x = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (x instanceof NodeUnreachableException) {
            LOG.debug("Management request {}: {}", requestId, x.getMessage());
            Answer a = error(503, "node_unreachable", "the gateway node that holds the connection cannot be reached"
                    + " right now; try again later", requestId);
            return new Answer(503, Map.of("Retry-After", Integer.toString(NodeUnreachableException.RETRY_AFTER_SECONDS)),
                    a.body());
        }
        throw failure instanceof CompletionException c ? c : new CompletionException(failure);
    }

    private static Answer gone(String id, String requestId) {
        return error(410, "gone", "no open connection has id " + id, requestId);
    }

    static Answer error(int status, String kind, String message, String requestId) {
        return new Answer(status, Map.of(), json(g -> {
            g.writeStringField("error", kind);
            g.writeStringField("message", message);
            g.writeStringField("requestId", requestId);
        }));
    }

    private static Answer infoAnswer(ConnectionInfo c) {
        return new Answer(200, Map.of(), json(g -> {
            g.writeStringField("connectionId", c.id());
            g.writeStringField("connectedAt", iso(c.connectedAt()));
            g.writeStringField("lastActiveAt", iso(c.lastActiveAt()));
            g.writeObjectFieldStart("identity");
            g.writeStringField("sourceIp", c.remoteAddress().getAddress() == null ? c.remoteAddress().getHostString()
                    : c.remoteAddress().getAddress().getHostAddress());
            writeOptional(g, "userAgent", c.userAgent().orElse(null));
            g.writeEndObject();
            g.writeStringField("route", c.route());
            writeOptional(g, "userId", c.user().orElse(null));
            g.writeArrayFieldStart("groups");
            for (String group : c.groups()) {
                g.writeString(group);
            }
            g.writeEndArray();
            writeOptional(g, "subprotocol", c.subprotocol().orElse(null));
            g.writeNumberField("messagesIn", c.messagesIn());
            g.writeNumberField("messagesOut", c.messagesOut());
            g.writeNumberField("bytesIn", c.bytesIn());
            g.writeNumberField("bytesOut", c.bytesOut());
        }));
    }

    private static void writeOptional(JsonGenerator g, String name, String value) throws IOException {
        if (value == null) {
            g.writeNullField(name);
        } else {
            g.writeStringField(name, value);
        }
    }

    /** ISO-8601 in UTC with milliseconds, as AWS writes times: {@code 2026-12-04T21:52:23.123Z}. */
    static String iso(Instant t) {
        return ISO.format(t);
    }

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    private static String json(Json.Fields fields) {
        return Json.object(fields);
    }

    /** A body the API cannot send; it carries its answer's status and kind. */
    private static final class BadBody extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final String kind;

        BadBody(int status, String kind, String message) {
            super(message, null, false, false);
            this.status = status;
            this.kind = kind;
        }

        Answer answer(String requestId) {
            return error(status, kind, getMessage(), requestId);
        }
    }

    /** A request the API cannot run; its message becomes the 400's. */
    private static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
