package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * An HTTP integration on 127.0.0.1, port 0: records every request it gets (method, path, headers, body) and
 * answers each path as the test said, 204 unless told otherwise; a path told to {@link #hang} never answers.
 * A call's answer is chosen before the call can be seen with {@link #next()}.
 */
public final class IntegrationServer implements AutoCloseable {

    /** A request the integration received; header names in lower case. */
    public record Call(String method, String path, Map<String, List<String>> headers, String body) {
        /** The only value of a header; fails when there is none or several. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            assertNotNull(values, () -> "no header " + name + " in " + headers);
            if (values.size() != 1) {
                throw new AssertionError("header " + name + " has " + values.size() + " values: " + values);
            }
            return values.get(0);
        }
    }

    /** What a path answers. */
    public record Answer(int status, String contentType, byte[] body) {
        static final Answer HANG = new Answer(0, null, new byte[0]);
    }

    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);
    private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();

    public IntegrationServer() throws Exception {
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String body = Content.Source.asString(request, StandardCharsets.UTF_8);
                Map<String, List<String>> headers = new TreeMap<>();
                for (HttpField f : request.getHeaders()) {
                    headers.computeIfAbsent(f.getLowerCaseName(), k -> new ArrayList<>()).add(f.getValue());
                }
                String path = request.getHttpURI().getPath();
                // Chosen before the call is recorded: a test that saw the call may change the next answer.
                Answer answer = answers.getOrDefault(path, new Answer(204, null, new byte[0]));
                calls.add(new Call(request.getMethod(), path, headers, body));
                if (answer == Answer.HANG) {
                    return true; // never completed: the server's stop ends it
                }
                response.setStatus(answer.status());
                if (answer.contentType() != null) {
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, answer.contentType());
                }
                response.write(true, ByteBuffer.wrap(answer.body()), callback);
                return true;
            }
        });
        server.start();
    }

    /** The URL of a path. */
    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + path);
    }

    /** Answers the path with this status, content type (or none) and body from now on. */
    public void answer(String path, int status, String contentType, String body) {
        answer(path, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Answers the path with this status, content type (or none) and body from now on. */
    public void answer(String path, int status, String contentType, byte[] body) {
        answers.put(path, new Answer(status, contentType, body));
    }

    /** Never answers requests to the path from now on. */
    public void hang(String path) {
        answers.put(path, Answer.HANG);
    }

    /** The next request received, waiting up to 5 s. */
    public Call next() throws InterruptedException {
        Call c = calls.poll(5, TimeUnit.SECONDS);
        assertNotNull(c, "no integration call within 5 s");
        return c;
    }

    /** The next request received, which must be to this path. */
    public Call next(String path) throws InterruptedException {
        Call c = next();
        if (!c.path().equals(path)) {
            throw new AssertionError("expected a call to " + path + ", got one to " + c.path() + ": " + c.body());
        }
        return c;
    }

    /** Checks that no request is waiting to be looked at. */
    public void assertNoMoreCalls() {
        assertNull(calls.poll(), "unexpected integration call");
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
