package dev.gatehouse.routing;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.Locale;

/**
 * Where a route key's events go: an HTTP endpoint that receives AWS's proxy-integration event as a
 * {@code POST}, or a handler in this JVM. Immutable.
 *
 * <pre>{@code
 * Integration remote = Integration.http(URI.create("http://chat.internal:8000/messages"));
 * Integration local = Integration.of(event -> CompletableFuture.completedFuture(Reply.text("pong")));
 * }</pre>
 */
public sealed interface Integration permits Integration.Http, Integration.InProcess {

    /**
     * An HTTP integration.
     *
     * @throws IllegalArgumentException if the URI is not an absolute {@code http://} or {@code https://} URI
     */
    static Http http(URI uri) {
        return new Http(uri);
    }

    /** An in-process integration. */
    static InProcess of(IntegrationHandler handler) {
        return new InProcess(handler);
    }

    /**
     * Events {@code POST}ed to an HTTP endpoint, by the adapter's HTTP client.
     *
     * @param uri the endpoint
     */
    record Http(URI uri) implements Integration {
        /** Checks the URI is an absolute http or https URI with a host. */
        public Http {
            requireNonNull(uri, "uri");
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                throw new IllegalArgumentException("integration: " + uri + " (expected: an http:// or https:// URL)");
            }
        }
    }

    /**
     * Events handled in this JVM.
     *
     * @param handler the handler
     */
    record InProcess(IntegrationHandler handler) implements Integration {
        /** Checks the handler is present. */
        public InProcess {
            requireNonNull(handler, "handler");
        }

        @Override
        public String toString() {
            return "Integration.of(" + handler + ")";
        }
    }
}
