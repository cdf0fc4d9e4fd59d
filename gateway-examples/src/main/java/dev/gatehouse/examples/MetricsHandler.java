package dev.gatehouse.examples;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Verdict;

/**
 * {@code GET /metrics} on the management port: the registry's meters in Prometheus' text format, behind the
 * management API's own credential ({@code X-API-Key}), as every management request is. Other requests go on
 * to the next handler.
 */
final class MetricsHandler extends Handler.Abstract {

    /** Prometheus' text exposition format, version 0.0.4. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    private final Authenticator authenticator;

    MetricsHandler(PrometheusMeterRegistry registry, Authenticator authenticator) {
        super(InvocationType.BLOCKING);
        this.registry = registry;
        this.authenticator = authenticator;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        if (!"/metrics".equals(Request.getPathInContext(request))) {
            return false;
        }
        if (!request.getMethod().equals("GET") && !request.getMethod().equals("HEAD")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            return answer(response, callback, 405, "application/json",
                    "{\"error\":\"method_not_allowed\",\"message\":\"use GET\"}");
        }
        Handshake.Builder h = Handshake.builder(UUID.randomUUID().toString(), "/metrics").method(request.getMethod());
        for (HttpField f : request.getHeaders()) {
            h.addHeader(f.getName(), f.getValue());
        }
        String query = request.getHttpURI().getQuery();
        if (query != null) {
            h.query(query);
        }
        Verdict verdict;
        try {
            verdict = authenticator.authenticate(h.build());
        } catch (RuntimeException e) {
            verdict = null;
        }
        if (!(verdict instanceof Verdict.Allow)) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "X-API-Key");
            return answer(response, callback, 401, "application/json",
                    "{\"error\":\"unauthorized\",\"message\":\"an API key is required in X-API-Key\"}");
        }
        return answer(response, callback, 200, CONTENT_TYPE, request.getMethod().equals("HEAD") ? "" : registry.scrape());
    }

    private static boolean answer(Response response, Callback callback, int status, String type, String body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
        return true;
    }
}
