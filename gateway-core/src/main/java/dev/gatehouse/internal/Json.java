package dev.gatehouse.internal;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import dev.gatehouse.Verdict;

/** The gateway's JSON texts (error bodies, access-log lines, management answers), written with Jackson's streaming generator. */
public final class Json {

    private static final JsonFactory FACTORY = JsonFactory.builder().build();

    private Json() {
    }

    /** Writes the fields of one JSON object. */
    @FunctionalInterface
    interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    /** One JSON object, its fields written by {@code fields} with Jackson's streaming generator. */
    static String object(Fields fields) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a StringWriter", e);
        }
        return out.toString();
    }

    /**
     * The gateway's own message to a WebSocket API client, AWS's shape:
     * {@code {"message":"<text>","connectionId":"<id>","requestId":"<id>"}}.
     */
    public static String apiMessage(String message, String connectionId, String requestId) {
        return object(g -> {
            g.writeStringField("message", message);
            g.writeStringField("connectionId", connectionId);
            g.writeStringField("requestId", requestId);
        });
    }

    /** {@code {"error":"<kind>","message":"<text>","requestId":"<id>"}}. */
    public static String errorBody(Verdict.Reject reject, String requestId) {
        return object(g -> {
            g.writeStringField("error", reject.kind().error());
            g.writeStringField("message", reject.message());
            g.writeStringField("requestId", requestId);
        });
    }
}
