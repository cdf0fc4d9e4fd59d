package dev.gatehouse.bench;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.ProtocolHandlers;
import org.eclipse.jetty.client.ProxyAuthenticationProtocolHandler;
import org.eclipse.jetty.client.RedirectProtocolHandler;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.WWWAuthenticationProtocolHandler;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The load generator's client of the gateway's HTTP management API: Jetty's {@link HttpClient} on a thread pool
 * of its own, fully asynchronous, with as many connections as the caller keeps requests in flight (HTTP/1.1
 * sends one request at a time on a connection), no cookie store, no redirect or authentication handling. Every
 * request carries the API's key in {@code X-API-Key}.
 */
final class ManagementClient implements AutoCloseable {

    /** The header the gateway's {@code ApiKeyAuthenticator} reads the key from. */
    static final String KEY_HEADER = "X-API-Key";
    /** How long any one request may take. */
    static final long TIMEOUT_MS = 10_000;
    /** The largest answer body {@link #exchange} buffers. */
    private static final int MAX_ANSWER = 4 << 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Where a gateway's management API listens, and the key it wants. {@link #toString()} never shows the key.
     *
     * @param base {@code http://127.0.0.1:PORT}
     * @param key  the API key
     */
    record Access(URI base, String key) {
        /** Checks both are present. */
        Access {
            requireNonNull(base, "base");
            requireNonNull(key, "key");
        }

        /** The URI of a path of the API, e.g. {@code /@connections/ID}. */
        URI uri(String path) {
            return base.resolve(path);
        }

        @Override
        public String toString() {
            return "Access[" + base + ", key hidden]";
        }
    }

    /** A fresh key: 32 random bytes, base64url without padding. */
    static String newKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(key);
    }

    private final Access access;
    private final HttpClient http;

    /**
     * Starts a client.
     *
     * @param inFlight how many requests the caller keeps in flight at most: the client's connections
     */
    ManagementClient(Access access, int inFlight) {
        this.access = requireNonNull(access, "access");
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("management-load");
        threads.setDaemon(true);
        http = new HttpClient();
        http.setExecutor(threads);
        http.setConnectTimeout(10_000);
        http.setMaxConnectionsPerDestination(inFlight);
        http.setMaxRequestsQueuedPerDestination(Math.max(1024, 4 * inFlight));
        http.setHttpCookieStore(new HttpCookieStore.Empty());
        http.setFollowRedirects(false);
        try {
            http.start();
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot start the management client", e);
        }
        ProtocolHandlers handlers = http.getProtocolHandlers();
        handlers.remove(RedirectProtocolHandler.NAME);
        handlers.remove(WWWAuthenticationProtocolHandler.NAME);
        handlers.remove(ProxyAuthenticationProtocolHandler.NAME);
    }

    /** The URI of a path of the API. */
    URI uri(String path) {
        return access.uri(path);
    }

    /**
     * Sends a request whose answer is read whole: for setting a run up, not for its measured loop.
     *
     * @param body the body, or {@code null} for none
     * @return the answer; fails if the exchange did
     */
    CompletableFuture<ContentResponse> exchange(HttpMethod method, String path, String contentType, byte[] body) {
        Request request = request(uri(path)).method(method);
        if (body != null) {
            request.body(new BytesRequestContent(contentType, body));
        }
        return new CompletableResponseListener(request, MAX_ANSWER).send();
    }

    /** POSTs a body, fully asynchronously; Jetty calls {@code listener} for the one exchange. */
    void post(URI uri, String contentType, byte[] body, Response.Listener listener) {
        request(uri).method(HttpMethod.POST).body(new BytesRequestContent(contentType, body)).send(listener);
    }

    private Request request(URI uri) {
        return http.newRequest(uri)
                .followRedirects(false)
                .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .headers(h -> h.put(KEY_HEADER, access.key()));
    }

    /** Stops the client, failing the requests still in flight. */
    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception e) {
            // stopped anyway
        }
    }
}
