package dev.gatehouse.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.Invocable;

/**
 * The backend's HTTP integration: {@code POST /integration} with AWS's proxy-integration event answers 200
 * with the event's message, so that the gateway's reply is the echo. A text message ({@code body} with
 * {@code isBase64Encoded: false}) comes back as {@code text/plain; charset=utf-8}; a binary one (base64 with
 * {@code isBase64Encoded: true}) decoded, as {@code application/octet-stream}, which the gateway sends on as
 * binary. An event without a string {@code body} gets 400, anything else 404. The request is read
 * asynchronously; the event is parsed with jackson-core's streaming parser.
 */
final class HttpEcho extends Handler.Abstract {

    /** The path the gateway's HTTP integration calls. */
    static final String PATH = "/integration";
    /** The largest event read; the gateway's events for 64 B messages are under 1 KiB. */
    static final int MAX_EVENT = 1 << 20;

    private static final JsonFactory JSON = JsonFactory.builder().build();
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String BINARY = "application/octet-stream";

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        if (!HttpMethod.POST.is(request.getMethod()) || !PATH.equals(Request.getPathInContext(request))) {
            return false;
        }
        // Parsing and an asynchronous write: nothing here blocks.
        Content.Source.asByteArrayAsync(request, MAX_EVENT, Promise.Invocable.from(Invocable.InvocationType.NON_BLOCKING,
                (event, failure) -> answer(request, response, callback, event, failure)));
        return true;
    }

    private static void answer(Request request, Response response, Callback callback, byte[] event, Throwable failure) {
        if (failure != null) {
            Response.writeError(request, response, callback, failure);
            return;
        }
        Echo echo = parse(event);
        if (echo == null) {
            Response.writeError(request, response, callback, HttpStatus.BAD_REQUEST_400, "no string body in the event");
            return;
        }
        response.setStatus(HttpStatus.OK_200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, echo.contentType());
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, echo.bytes().length);
        response.write(true, ByteBuffer.wrap(echo.bytes()), callback);
    }

    /** An answer: its bytes and their content type. */
    record Echo(byte[] bytes, String contentType) {
    }

    /**
     * The answer to an event: its top-level {@code body}, decoded from base64 when {@code isBase64Encoded} is
     * true; {@code null} when the event is not a JSON object with a string {@code body}.
     */
    static Echo parse(byte[] event) {
        String body = null;
        boolean base64 = false;
        try (JsonParser p = JSON.createParser(event)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("body") && value == JsonToken.VALUE_STRING) {
                    body = p.getText();
                } else if (name.equals("isBase64Encoded")) {
                    base64 = value == JsonToken.VALUE_TRUE;
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            return null;
        }
        if (body == null) {
            return null;
        }
        if (base64) {
            try {
                return new Echo(Base64.getDecoder().decode(body), BINARY);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return new Echo(body.getBytes(StandardCharsets.UTF_8), TEXT);
    }
}
