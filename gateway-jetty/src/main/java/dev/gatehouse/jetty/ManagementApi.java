package dev.gatehouse.jetty;

import static java.util.Objects.requireNonNull;

import org.eclipse.jetty.server.Handler;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Gateway;
import dev.gatehouse.jetty.internal.ManagementHandler;

/**
 * The HTTP management API of a {@link Gateway} as a Jetty core {@link Handler}: AWS's {@code @connections}
 * API, with users and groups. Mount it where only operators reach it, e.g. on a connector of its own that
 * listens on loopback; every request must pass its {@link Authenticator}.
 *
 * <pre>{@code
 * ServerConnector admin = new ServerConnector(server);
 * admin.setHost("127.0.0.1");
 * admin.setPort(9090);
 * admin.setName("admin");
 * server.addConnector(admin);
 * ContextHandler management = new ContextHandler(ManagementApi.handler(gateway, ApiKeyAuthenticator.of(key, "ops")));
 * management.setVirtualHosts(List.of("@admin"));   // only requests that came in on that connector
 * }</pre>
 *
 * <p>Requests and answers (paths inside the mount; JSON bodies; errors are {@code {"error","message","requestId"}}):
 * <ul>
 *   <li>{@code POST /@connections/{id}}: sends the body to that connection's client, as text when its
 *       {@code Content-Type} is {@code text/*} or {@code application/json}, else as binary: 200 once the
 *       connection holds it, 410 unknown or closed id, 413 over the body limit, 429 the connection's outbound
 *       queue is full</li>
 *   <li>{@code GET /@connections/{id}}: 200 with its info, 410</li>
 *   <li>{@code DELETE /@connections/{id}[?code=&reason=]}: 204 (the client gets that code, 1000 by default), 410</li>
 *   <li>{@code POST /users/{userId}/:send}, {@code POST /groups/{group}/:send}, {@code POST /:send}
 *       {@code [?excluded=id,id]}: 202 with {@code X-Gatehouse-Recipients: N} (and {@code X-Gatehouse-Refused:
 *       M}, the recipients whose queue was full)</li>
 *   <li>{@code PUT} / {@code DELETE /groups/{group}/connections/{id}}: 204, 410</li>
 *   <li>{@code POST /users/{userId}/:closeConnections}, {@code POST /groups/{group}/:closeConnections}
 *       {@code [?code=&reason=]}: 204</li>
 *   <li>{@code GET /users/{userId}}, {@code GET /groups/{group}}: 200 {@code {"connections":[ids]}}, 404 when none</li>
 * </ul>
 * A request the authenticator rejects gets its status (401 for a missing or wrong credential); an unknown path
 * 404; a wrong method 405; a bad id, group, close code or reason, an unknown query parameter or a bad
 * {@code excluded} list 400.
 */
public final class ManagementApi {

    /** The largest body of a send by default: 128 KiB, AWS's limit. */
    public static final int DEFAULT_MAX_BODY = 128 * 1024;

    private ManagementApi() {
    }

    /** The management API of the gateway, open to the requests that the authenticator lets in. */
    public static Handler handler(Gateway gateway, Authenticator authenticator) {
        return builder(gateway).authenticator(authenticator).build();
    }

    /** A builder for the gateway's management API. */
    public static Builder builder(Gateway gateway) {
        return new Builder(requireNonNull(gateway, "gateway"));
    }

    /** Builds the management API's handler. */
    public static final class Builder {
        private final Gateway gateway;
        private Authenticator authenticator;
        private int maxBody = DEFAULT_MAX_BODY;

        private Builder(Gateway gateway) {
            this.gateway = gateway;
        }

        /** Who may call the API (required): e.g. {@code ApiKeyAuthenticator.of(key, "ops")}. */
        public Builder authenticator(Authenticator authenticator) {
            this.authenticator = requireNonNull(authenticator, "authenticator");
            return this;
        }

        /** The largest body of a send, in bytes; a larger one gets 413. {@link #DEFAULT_MAX_BODY} by default. */
        public Builder maxBodySize(int maxBody) {
            if (maxBody <= 0) {
                throw new IllegalArgumentException("maxBodySize: " + maxBody + " (expected: > 0)");
            }
            this.maxBody = maxBody;
            return this;
        }

        /**
         * Builds the handler.
         *
         * @throws IllegalStateException if no authenticator was set: the management API is never open to all
         */
        public Handler build() {
            if (authenticator == null) {
                throw new IllegalStateException("authenticator: not set (expected: the Authenticator that management "
                        + "requests must pass, e.g. ApiKeyAuthenticator.of(key, \"ops\"))");
            }
            return new ManagementHandler(new dev.gatehouse.internal.ManagementApi(gateway, authenticator,
                    maxBody));
        }
    }
}
