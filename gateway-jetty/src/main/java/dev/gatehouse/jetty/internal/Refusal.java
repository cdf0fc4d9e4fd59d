package dev.gatehouse.jetty.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import dev.gatehouse.Verdict;
import dev.gatehouse.Handshake;
import dev.gatehouse.Route;
import dev.gatehouse.internal.DefaultGateway;
import jakarta.servlet.http.HttpServletResponse;

/**
 * An HTTP rejection about to be written: the gateway's JSON body, or the backend's own body (capped) when
 * the backend refused the upgrade with a 4xx.
 *
 * @param reject      the status, kind and headers
 * @param body        the body bytes
 * @param contentType the body's content type
 */
record Refusal(Verdict.Reject reject, byte[] body, String contentType) {

    /** The response to a rejection the pipeline already shaped and logged. */
    static Refusal of(DefaultGateway gateway, Route route, Verdict.Reject reject, String requestId) {
        Map.Entry<String, String> body = gateway.rejections().body(route, reject, requestId);
        return new Refusal(reject, body.getValue().getBytes(StandardCharsets.UTF_8), body.getKey());
    }

    /** The response to a rejection decided by the adapter: shaped by the gateway's responses and logged. */
    static Refusal rejected(DefaultGateway gateway, Handshake request, Route route, Verdict.Reject reject) {
        Verdict.Reject shaped = gateway.rejections().customize(route, reject);
        gateway.rejections().log(request, route, shaped);
        return of(gateway, route, shaped, request.requestId());
    }

    void write(HttpServletResponse resp) throws IOException {
        resp.setStatus(reject.status());
        for (Map.Entry<String, String> h : reject.headers().entrySet()) {
            resp.setHeader(h.getKey(), h.getValue());
        }
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentType(contentType);
        resp.setContentLength(body.length);
        try (OutputStream out = resp.getOutputStream()) {
            out.write(body);
        }
    }

    void write(Response resp, Callback callback) {
        resp.setStatus(reject.status());
        reject.headers().forEach((name, value) -> resp.getHeaders().put(name, value));
        resp.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        resp.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        resp.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        resp.write(true, ByteBuffer.wrap(body), callback);
    }
}
