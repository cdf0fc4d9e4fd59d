package dev.gatehouse.internal;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import dev.gatehouse.Verdict;

/** The gateway's JSON error bodies, written with Jackson's streaming generator. */
public final class Json {

    private static final JsonFactory FACTORY = JsonFactory.builder().build();

    private Json() {
    }

    /**
     * The gateway's own message to a WebSocket API client, AWS's shape:
     * {@code {"message":"<text>","connectionId":"<id>","requestId":"<id>"}}.
     */
    public static String apiMessage(String message, String connectionId, String requestId) {
        StringWriter out = new StringWriter(96);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("message", message);
            g.writeStringField("connectionId", connectionId);
            g.writeStringField("requestId", requestId);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a StringWriter", e);
        }
        return out.toString();
    }

    /** {@code {"error":"<kind>","message":"<text>","requestId":"<id>"}}. */
    public static String errorBody(Verdict.Reject reject, String requestId) {
        StringWriter out = new StringWriter(96);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("error", reject.kind().error());
            g.writeStringField("message", reject.message());
            g.writeStringField("requestId", requestId);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a StringWriter", e);
        }
        return out.toString();
    }
}
