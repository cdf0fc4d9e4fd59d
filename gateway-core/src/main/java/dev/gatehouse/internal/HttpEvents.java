package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.Principal;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;

/**
 * An HTTP integration's side of an event, for the adapter that makes the call: the {@code POST}'s headers
 * and body (AWS's proxy-integration event, written with Jackson's streaming generator), and what its
 * answer means ({@link #answer}).
 *
 * <p>The body's {@code requestContext} has {@code routeKey}, {@code eventType}, {@code connectionId},
 * {@code requestId}, {@code messageId} (messages only), {@code connectedAt} and {@code requestTimeEpoch}
 * (epoch milliseconds), {@code messageDirection} ({@code "IN"}), {@code identity} ({@code sourceIp},
 * {@code userAgent}), {@code authorizer} ({@code principalId} and the principal's claims; absent for an
 * anonymous client) and, for {@code DISCONNECT}, {@code disconnectStatusCode} and {@code disconnectReason},
 * where AWS puts them. A message's {@code body} is its text, or its bytes in base64 with
 * {@code isBase64Encoded: true}. {@code CONNECT} events also carry {@code headers},
 * {@code queryStringParameters} (several values of one name joined with commas) and {@code pathParameters},
 * without credentials: an authenticator removed the ones it read, and {@code Authorization},
 * {@code Proxy-Authorization} and the subprotocol credential are never written.
 */
public final class HttpEvents {

    /** The content type of the event. */
    public static final String CONTENT_TYPE = "application/json";
    /** The most of a message's answer body the gateway reads; a longer body fails the call. */
    public static final int MAX_MESSAGE_ANSWER = 1024 * 1024;
    /** The most of an accepting {@code $connect} answer's body the gateway reads; a longer body fails the call. */
    public static final int MAX_ACCEPT_ANSWER = 64 * 1024;
    /** The most of a refusing {@code $connect} answer's body that is kept for the client; the rest is dropped. */
    public static final int MAX_REFUSAL_ANSWER = Integrations.MAX_REFUSAL_BODY;

    private static final JsonFactory FACTORY = JsonFactory.builder().build();
    private static final String IDENTITY_PREFIX = HandshakePipeline.IDENTITY_PREFIX;

    private HttpEvents() {
    }

    /**
     * The request headers of the event's call, besides what the HTTP client adds: {@code Content-Type},
     * {@code X-Gatehouse-Connection-Id}, {@code X-Gatehouse-Route-Key}, {@code X-Gatehouse-Event-Type}, and
     * the identity headers: {@code X-Gatehouse-Subject} and {@code X-Gatehouse-Consumer} from the principal,
     * and the {@code X-Gatehouse-*} headers that policies (such as
     * {@link dev.gatehouse.policy.IdentityHeadersPolicy}) set on the handshake.
     *
     * @return names to values, in a stable order
     */
    public static Map<String, String> headers(RouteEvent event) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("Content-Type", CONTENT_TYPE);
        out.put("X-Gatehouse-Connection-Id", event.connectionId());
        out.put("X-Gatehouse-Route-Key", event.routeKey());
        out.put("X-Gatehouse-Event-Type", event.type().name());
        event.handshake().header(TraceContext.HEADER).ifPresent(t -> out.put("traceparent", t));
        event.handshake().principal().ifPresent(p -> {
            out.put("X-Gatehouse-Subject", p.subject());
            p.consumer().ifPresent(c -> out.put("X-Gatehouse-Consumer", c));
        });
        Set<String> taken = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        taken.addAll(out.keySet());
        // A policy's header never replaces one the gateway sets from the event or the principal.
        event.handshake().headers().forEach((name, values) -> {
            if (name.startsWith(IDENTITY_PREFIX) && !values.isEmpty() && !taken.contains(name)) {
                out.put(name, String.join(",", values));
            }
        });
        return out;
    }

    /** The event as JSON, UTF-8. */
    public static byte[] body(RouteEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
            Handshake h = event.handshake();
            g.writeStartObject();
            g.writeObjectFieldStart("requestContext");
            g.writeStringField("routeKey", event.routeKey());
            g.writeStringField("eventType", event.type().name());
            g.writeStringField("connectionId", event.connectionId());
            g.writeStringField("requestId", event.requestId());
            if (event.type() == RouteEvent.Type.MESSAGE && event.messageId().isPresent()) {
                g.writeStringField("messageId", event.messageId().get());
            }
            g.writeNumberField("connectedAt", event.connectedAt().toEpochMilli());
            g.writeNumberField("requestTimeEpoch", event.requestTime().toEpochMilli());
            g.writeStringField("messageDirection", "IN");
            if (event.type() == RouteEvent.Type.DISCONNECT) {
                CloseStatus status = event.disconnectStatus().orElse(CloseStatus.NO_STATUS);
                g.writeNumberField("disconnectStatusCode", status.code());
                g.writeStringField("disconnectReason", status.reason());
            }
            g.writeObjectFieldStart("identity");
            g.writeStringField("sourceIp", h.clientAddress().getHostAddress());
            Optional<String> userAgent = h.header("user-agent");
            if (userAgent.isPresent()) {
                g.writeStringField("userAgent", userAgent.get());
            } else {
                g.writeNullField("userAgent");
            }
            g.writeEndObject();
            if (h.principal().isPresent()) {
                Principal p = h.principal().get();
                g.writeObjectFieldStart("authorizer");
                g.writeStringField("principalId", p.subject());
                for (Map.Entry<String, Object> claim : p.claims().entrySet()) {
                    if (!claim.getKey().equals("principalId")) {
                        g.writeFieldName(claim.getKey());
                        writeValue(g, claim.getValue(), 0);
                    }
                }
                g.writeEndObject();
            }
            g.writeEndObject();
            if (event.type() == RouteEvent.Type.CONNECT) {
                writeStrings(g, "headers", headersOf(h));
                writeStrings(g, "queryStringParameters", queryOf(h.query()));
                writeStrings(g, "pathParameters", h.pathParameters());
            }
            Optional<Message> message = event.type() == RouteEvent.Type.MESSAGE ? event.body() : Optional.empty();
            if (message.isPresent() && message.get() instanceof Message.Binary b) {
                ByteBuffer bytes = b.bytes();
                byte[] raw = new byte[bytes.remaining()];
                bytes.get(raw);
                g.writeStringField("body", Base64.getEncoder().encodeToString(raw));
                g.writeBooleanField("isBase64Encoded", true);
            } else {
                if (message.isPresent()) {
                    g.writeStringField("body", ((Message.Text) message.get()).text());
                }
                g.writeBooleanField("isBase64Encoded", false);
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a byte array", e);
        }
        return out.toByteArray();
    }

    /**
     * Starts reading the answer to an event's call, once its status and content type are known.
     *
     * @param contentType the answer's {@code Content-Type}, or null when it has none
     */
    public static Answer answer(RouteEvent event, int status, String contentType) {
        return new Answer(event.type(), status, contentType);
    }

    /**
     * An answer being read: its body, kept within the limit of its event and status, then its meaning as a
     * {@link Reply}. To a message: a 2xx answer with a body is sent to the client (binary when the content
     * type is {@code application/octet-stream}, else text in the content type's charset, UTF-8 by default),
     * 204 or an empty body sends nothing, and another status fails. To {@code $connect}: 2xx accepts, with
     * the {@code userId}, {@code groups} and {@code subprotocol} of a JSON object body when it has that shape;
     * 400-599 refuses with that status and at most {@link #MAX_REFUSAL_ANSWER} bytes of the body; another
     * status fails (the client gets 502). To {@code $disconnect}: 2xx is {@link Reply#none()}, another
     * status fails, which is only logged. Not thread-safe: one call's listener feeds it.
     */
    public static final class Answer {
        private final RouteEvent.Type type;
        private final int status;
        private final String contentType; // null when the answer has none
        private final int limit;          // the most bytes kept
        private final boolean truncates;  // beyond the limit: true drops the rest, false fails
        private final ByteArrayOutputStream body = new ByteArrayOutputStream(); // the bytes kept so far
        private boolean full;             // the limit was reached and the rest is dropped

        Answer(RouteEvent.Type type, int status, String contentType) {
            this.type = requireNonNull(type, "type");
            this.status = status;
            this.contentType = contentType;
            boolean ok = status >= 200 && status <= 299;
            switch (type) {
                case MESSAGE -> {
                    limit = ok ? MAX_MESSAGE_ANSWER : 0;
                    truncates = !ok;
                }
                case CONNECT -> {
                    limit = ok ? MAX_ACCEPT_ANSWER : refuses(status) ? MAX_REFUSAL_ANSWER : 0;
                    truncates = !ok;
                }
                default -> {
                    limit = 0;
                    truncates = true;
                }
            }
        }

        /**
         * Adds the buffer's remaining bytes to the body; the buffer is consumed.
         *
         * @return false once everything the answer needs has arrived and the rest of the body will be dropped:
         *         the caller may take the {@link #reply()} now and abandon the call
         * @throws IntegrationAnswerException if the body is longer than its limit and may not be cut
         */
        public boolean add(ByteBuffer chunk) {
            int n = chunk.remaining();
            if (full) {
                chunk.position(chunk.limit());
                return false;
            }
            int room = limit - body.size();
            if (n > room) {
                if (!truncates) {
                    throw new IntegrationAnswerException("the integration's answer is longer than " + limit + " bytes");
                }
                byte[] kept = new byte[room];
                chunk.get(kept);
                chunk.position(chunk.limit());
                body.writeBytes(kept);
                full = true;
                return false;
            }
            byte[] bytes = new byte[n];
            chunk.get(bytes);
            body.writeBytes(bytes);
            return true;
        }

        /**
         * What the answer means, from the body received so far.
         *
         * @throws IntegrationAnswerException if it means the call failed
         */
        public Reply reply() {
            boolean ok = status >= 200 && status <= 299;
            switch (type) {
                case MESSAGE:
                    if (!ok) {
                        throw new IntegrationAnswerException("the integration answered " + status, status);
                    }
                    if (status == 204 || body.size() == 0) {
                        return Reply.none();
                    }
                    if (mimeType().equals("application/octet-stream")) {
                        return Reply.send(Message.binary(body.toByteArray()));
                    }
                    return Reply.text(text());
                case CONNECT:
                    if (ok) {
                        return accept(body.toByteArray());
                    }
                    if (refuses(status)) {
                        return Reply.refuse(status, contentType == null ? "application/octet-stream" : contentType, text());
                    }
                    throw new IntegrationAnswerException("the $connect integration answered " + status, status);
                default:
                    if (!ok) {
                        throw new IntegrationAnswerException("the $disconnect integration answered " + status, status);
                    }
                    return Reply.none();
            }
        }

        private static boolean refuses(int status) {
            return status >= 400 && status <= 599;
        }

        /** The content type's media type, lower case, without parameters; empty when there is none. */
        private String mimeType() {
            if (contentType == null) {
                return "";
            }
            int semicolon = contentType.indexOf(';');
            return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
        }

        /** The body as text, in the content type's charset (UTF-8 unless it names a known other one). */
        private String text() {
            Charset charset = StandardCharsets.UTF_8;
            if (contentType != null) {
                for (String parameter : contentType.split(";")) {
                    String p = parameter.trim();
                    if (p.regionMatches(true, 0, "charset=", 0, 8)) {
                        String name = p.substring(8).trim().replace("\"", "");
                        try {
                            charset = Charset.forName(name);
                        } catch (IllegalArgumentException unknown) {
                            // an unknown or malformed charset: keep UTF-8
                        }
                    }
                }
            }
            return body.toString(charset);
        }
    }

    /**
     * An accepting {@code $connect}'s reply: with the user, groups and subprotocol of a body
     * {@code {"userId":"..","groups":[".."],"subprotocol":".."}} (each optional, other members ignored), or
     * plain when the body is empty, not JSON, or shaped otherwise.
     */
    static Reply.Accept accept(byte[] body) {
        if (body.length == 0) {
            return Reply.accept();
        }
        String user = null;
        List<String> groups = new ArrayList<>();
        String subprotocol = null;
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return Reply.accept();
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "userId" -> {
                        if (value == JsonToken.VALUE_STRING) {
                            user = p.getText();
                        } else if (value != JsonToken.VALUE_NULL) {
                            return Reply.accept();
                        }
                    }
                    case "subprotocol" -> {
                        if (value == JsonToken.VALUE_STRING) {
                            subprotocol = p.getText();
                        } else if (value != JsonToken.VALUE_NULL) {
                            return Reply.accept();
                        }
                    }
                    case "groups" -> {
                        if (value == JsonToken.START_ARRAY) {
                            while ((value = p.nextToken()) == JsonToken.VALUE_STRING) {
                                groups.add(p.getText());
                            }
                            if (value != JsonToken.END_ARRAY) {
                                return Reply.accept();
                            }
                        } else if (value != JsonToken.VALUE_NULL) {
                            return Reply.accept();
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                return Reply.accept();
            }
        } catch (IOException e) { // not JSON
            return Reply.accept();
        }
        Reply.Accept accept = Reply.accept();
        groups.removeIf(String::isEmpty);
        try {
            if (user != null && !user.isEmpty()) {
                accept = accept.withUser(user);
            }
            if (!groups.isEmpty()) {
                accept = accept.withGroups(groups.toArray(String[]::new));
            }
        } catch (IllegalArgumentException e) { // a name the management API could not address
            throw new IntegrationAnswerException("the $connect integration's answer has a bad " + e.getMessage());
        }
        if (subprotocol != null && !subprotocol.isEmpty()) {
            accept = accept.withSubprotocol(subprotocol);
        }
        return accept;
    }

    /**
     * The handshake's headers for a {@code CONNECT} event: several values joined ({@code ", "}, cookies
     * {@code "; "}), without {@code Authorization} and {@code Proxy-Authorization}, and with
     * {@code Sec-WebSocket-Protocol} as the subprotocols left after authentication.
     */
    private static Map<String, String> headersOf(Handshake h) {
        Map<String, String> out = new LinkedHashMap<>();
        h.headers().forEach((name, values) -> {
            if (name.equals("authorization") || name.equals("proxy-authorization") || values.isEmpty()) {
                return;
            }
            if (name.equals("sec-websocket-protocol")) {
                if (!h.subprotocols().isEmpty()) {
                    out.put(name, String.join(", ", h.subprotocols()));
                }
                return;
            }
            out.put(name, String.join(name.equals("cookie") ? "; " : ", ", values));
        });
        return out;
    }

    /** The query's parameters, percent-decoded; several values of one name joined with commas. */
    private static Map<String, String> queryOf(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        if (query.isEmpty()) {
            return out;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            out.merge(name, value, (a, b) -> a + "," + b);
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s; // a malformed escape: as sent
        }
    }

    private static void writeStrings(JsonGenerator g, String field, Map<String, String> values) throws IOException {
        g.writeObjectFieldStart(field);
        for (Map.Entry<String, String> e : values.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    /** A claim's value as JSON: strings, numbers, booleans, maps and lists as such, anything else as its text. */
    private static void writeValue(JsonGenerator g, Object value, int depth) throws IOException {
        if (depth > 32) { // claims come from a verified token, but a cycle must not overflow the stack
            g.writeString(String.valueOf(value));
        } else if (value == null) {
            g.writeNull();
        } else if (value instanceof String s) {
            g.writeString(s);
        } else if (value instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            g.writeNumber(((Number) value).longValue());
        } else if (value instanceof BigInteger i) {
            g.writeNumber(i);
        } else if (value instanceof BigDecimal d) {
            g.writeNumber(d);
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isFinite(d)) {
                g.writeNumber(d);
            } else {
                g.writeString(Double.toString(d));
            }
        } else if (value instanceof Map<?, ?> map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                writeValue(g, e.getValue(), depth + 1);
            }
            g.writeEndObject();
        } else if (value instanceof Collection<?> list) {
            g.writeStartArray();
            for (Object element : list) {
                writeValue(g, element, depth + 1);
            }
            g.writeEndArray();
        } else if (value instanceof Object[] array) {
            writeValue(g, Arrays.asList(array), depth);
        } else if (value instanceof java.util.Date date) {
            g.writeNumber(date.getTime() / 1000); // JWT dates are epoch seconds
        } else {
            g.writeString(value.toString());
        }
    }
}
