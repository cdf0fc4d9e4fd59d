package dev.gatehouse.jetty.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Handshake;
import dev.gatehouse.internal.Ids;
import dev.gatehouse.internal.ManagementApi;

/**
 * The HTTP management API as a Jetty core handler: authenticates every request, reads a send's body
 * without blocking (at most the API's limit), runs the operation and writes its answer. Handles every request
 * it gets: mount it where only management requests reach it.
 *
 * <p>An answer given without using the body (401, 400, 404, 405, 413) is written only once the body has been
 * read and dropped, up to {@link #DRAIN_LIMIT} bytes: a connection closed with unread bytes is reset, and the
 * reset takes the answer with it, so the client would see a broken connection instead of, say, its 413.
 *
 * <p>Blocking: the authenticator may block (a JWKS fetch, a remote authorizer), and a fan-out visits every
 * member, so Jetty must not call it on a selector thread, where it would stall that selector's connections.
 * Health checks ({@code /healthz}, {@code /readyz}) are answered without a credential.
 */
public final class ManagementHandler extends Handler.Abstract {

    private static final Logger LOG = LoggerFactory.getLogger(ManagementHandler.class);
    /**
     * The most body bytes read and dropped before an answer that does not use them; past it the answer goes
     * at once, and Jetty closes the connection.
     */
    static final long DRAIN_LIMIT = 8L << 20;

    private final ManagementApi api;

    public ManagementHandler(ManagementApi api) {
        this.api = api;
    }

    @Override
    public InvocationType getInvocationType() {
        return InvocationType.BLOCKING;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        ManagementApi.Answer health = api.health(request.getMethod(), Request.getPathInContext(request));
        if (health != null) {
            writeAfterBody(request, response, callback, health);
            return true;
        }
        Handshake h;
        try {
            h = Requests.from(request);
        } catch (IllegalArgumentException e) { // a request target that is no path, such as OPTIONS *
            writeAfterBody(request, response, callback, api.notFound(Ids.next()));
            return true;
        }
        String id = h.requestId();
        ManagementApi.Answer denied = api.authenticate(h);
        if (denied != null) {
            writeAfterBody(request, response, callback, denied);
            return true;
        }
        String query = request.getHttpURI().getQuery();
        ManagementApi.Parsed parsed = api.parse(request.getMethod(), h.path(), query == null ? "" : query, id);
        if (parsed instanceof ManagementApi.Immediate immediate) {
            writeAfterBody(request, response, callback, immediate.answer());
            return true;
        }
        ManagementApi.Operation op = (ManagementApi.Operation) parsed;
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        String contentType = type == null ? "" : type;
        if (!op.needsBody()) {
            run(op, contentType, BufferUtil.EMPTY_BUFFER, id, response, callback);
            return true;
        }
        if (request.getLength() > api.maxBody()) {
            writeAfterBody(request, response, callback, api.tooLarge(id));
            return true;
        }
        new BodyReader(request, api.maxBody(), body -> {
            if (body == null) {
                write(response, callback, api.tooLarge(id));
            } else {
                run(op, contentType, body, id, response, callback);
            }
        }, callback, () -> write(response, callback, api.timedOut(id))).read();
        return true;
    }

    /** Writes an answer that does not use the body once the body is read and dropped (see the class doc). */
    private static void writeAfterBody(Request request, Response response, Callback callback,
            ManagementApi.Answer answer) {
        if (request.getLength() > DRAIN_LIMIT) {
            write(response, callback, answer);
        } else {
            new BodyReader(request, 0, body -> write(response, callback, answer), callback,
                    () -> write(response, callback, answer)).read();
        }
    }

    private static void run(ManagementApi.Operation op, String contentType, ByteBuffer body, String id,
            Response response, Callback callback) {
        try {
            op.action().run(contentType, body).whenComplete((answer, failure) -> {
                if (failure != null) {
                    LOG.error("Management request {} failed", id, failure);
                    callback.failed(failure);
                } else {
                    write(response, callback, answer);
                }
            });
        } catch (RuntimeException e) {
            LOG.error("Management request {} failed", id, e);
            callback.failed(e);
        }
    }

    private static void write(Response response, Callback callback, ManagementApi.Answer answer) {
        response.setStatus(answer.status());
        for (Map.Entry<String, String> header : answer.headers().entrySet()) {
            response.getHeaders().put(header.getKey(), header.getValue());
        }
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        if (answer.body().isEmpty()) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
            response.write(true, BufferUtil.EMPTY_BUFFER, callback);
            return;
        }
        byte[] bytes = answer.bodyBytes();
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    /**
     * Reads a request body without blocking, up to a limit; hands on the body, or null when it is over the
     * limit. A body over the limit is read on and dropped, up to {@link #DRAIN_LIMIT} bytes in all, before it
     * hands on null. A body that stops coming (the connection's idle timeout) runs {@code timedOut}; a broken
     * connection fails the callback, as nothing can be answered.
     */
    private static final class BodyReader {
        private final Request request;
        private final int max;
        private final Consumer<ByteBuffer> then;
        private final Callback callback;
        private final Runnable timedOut;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream(); // the body so far, unless over
        private long read;           // bytes of the body read so far
        private boolean over;        // the body is larger than max: what comes is dropped

        BodyReader(Request request, int max, Consumer<ByteBuffer> then, Callback callback, Runnable timedOut) {
            this.request = request;
            this.max = max;
            this.then = then;
            this.callback = callback;
            this.timedOut = timedOut;
        }

        private void failed(Content.Chunk failure) {
            if (failure.getFailure() instanceof TimeoutException || !failure.isLast()) {
                timedOut.run();
            } else {
                callback.failed(failure.getFailure());
            }
        }

        void read() {
            while (true) {
                Content.Chunk chunk = request.read();
                if (chunk == null) {
                    request.demand(this::read);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    chunk.release();
                    failed(chunk);
                    return;
                }
                ByteBuffer b = chunk.getByteBuffer();
                read += b.remaining();
                if (!over && read > max) {
                    over = true;
                    body.reset();
                }
                if (!over) {
                    byte[] bytes = new byte[b.remaining()];
                    b.get(bytes);
                    body.write(bytes, 0, bytes.length);
                }
                boolean last = chunk.isLast();
                chunk.release();
                if (last || read > DRAIN_LIMIT) {
                    then.accept(over ? null : ByteBuffer.wrap(body.toByteArray()));
                    return;
                }
            }
        }
    }
}
