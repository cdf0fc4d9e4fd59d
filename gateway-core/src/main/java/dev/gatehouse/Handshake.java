package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

import dev.gatehouse.policy.Cidr;

/**
 * An immutable view of a client's upgrade request, as the handshake pipeline sees it and as the backend
 * will receive it.
 *
 * <p>Authenticators and policies return a changed copy through {@link Verdict#allow(Handshake)}: a
 * principal attached with {@link #withPrincipal(Principal)}, a credential removed with
 * {@link #withoutHeader(String)} or {@link #withoutQueryParameter(String)}, a header added for the backend
 * with {@link #withHeader(String, String)}. Header names are case-insensitive and kept in lower case.
 */
public final class Handshake {

    private final String requestId;
    private final String method;
    private final boolean secure;
    private final String host;
    private final String path;
    private final String query;
    private final Map<String, List<String>> headers;
    private final InetSocketAddress remoteAddress;
    private final InetAddress clientAddress;
    private final InetAddress explicitClientAddress; // null: clientAddress is the remote address's
    private final List<String> subprotocols;
    private final Map<String, String> pathParameters;
    private final Principal principal; // null when anonymous
    private final String subprotocolFallback; // null: no subprotocol when the backend chooses none
    private final List<X509Certificate> clientCertificates;

    private Handshake(Builder b) {
        this.requestId = b.requestId;
        this.method = b.method;
        this.secure = b.secure;
        this.host = b.host;
        this.path = b.path;
        this.query = b.query;
        // A builder that never changed the headers of the handshake it came from shares them: they are immutable.
        this.headers = b.sharedHeaders != null ? b.sharedHeaders : Collections.unmodifiableMap(copyHeaders(b.headers));
        this.remoteAddress = b.remoteAddress;
        this.explicitClientAddress = b.clientAddress;
        this.clientAddress = b.clientAddress != null ? b.clientAddress : Cidr.addressOf(b.remoteAddress);
        this.subprotocols = List.copyOf(b.subprotocols);
        this.pathParameters = Collections.unmodifiableMap(new LinkedHashMap<>(b.pathParameters));
        this.principal = b.principal;
        this.subprotocolFallback = b.subprotocolFallback;
        this.clientCertificates = List.copyOf(b.clientCertificates);
    }

    /**
     * Starts a handshake for a request id and path.
     *
     * @param requestId the URL-safe id of this request; it becomes the connection id once accepted
     * @param path      the request path, starting with {@code /}, percent-encoded as received
     */
    public static Builder builder(String requestId, String path) {
        return new Builder(requestId, path);
    }

    /** Returns a builder holding this handshake's values. */
    public Builder toBuilder() {
        Builder b = new Builder(requestId, path);
        b.method = method;
        b.secure = secure;
        b.host = host;
        b.query = query;
        b.sharedHeaders = headers; // copied on the builder's first change to them
        b.remoteAddress = remoteAddress;
        b.clientAddress = explicitClientAddress;
        b.subprotocols = new ArrayList<>(subprotocols);
        b.pathParameters = new LinkedHashMap<>(pathParameters);
        b.principal = principal;
        b.subprotocolFallback = subprotocolFallback;
        b.clientCertificates = clientCertificates;
        return b;
    }

    /** The URL-safe id of this request, also the connection's id once accepted; it is in every error body. */
    public String requestId() {
        return requestId;
    }

    /** The HTTP method, {@code GET} for a WebSocket upgrade. */
    public String method() {
        return method;
    }

    /** Whether the client connected over TLS ({@code wss}). */
    public boolean secure() {
        return secure;
    }

    /** The {@code Host} header's value as sent, possibly with a port; empty when absent. */
    public String host() {
        return host;
    }

    /** The host name of the {@code Host} header, lower case, without port. */
    public String hostName() {
        String h = host;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return (end > 0 ? h.substring(0, end + 1) : h).toLowerCase(Locale.ROOT);
        }
        int colon = h.lastIndexOf(':');
        return (colon >= 0 ? h.substring(0, colon) : h).toLowerCase(Locale.ROOT);
    }

    /** The request path, percent-encoded as received, e.g. {@code /chat/room%201}. */
    public String path() {
        return path;
    }

    /** The raw query string without {@code ?}; empty when there is none. */
    public String query() {
        return query;
    }

    /** All headers, keyed by lower-case name, values in the order received. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The first value of a header. */
    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** The first value of a query parameter, percent-decoded. */
    public Optional<String> queryParameter(String name) {
        requireNonNull(name, "name");
        if (query.isEmpty()) {
            return Optional.empty();
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (key.equals(name)) {
                return Optional.of(eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        return Optional.empty();
    }

    /** The address and port of the TCP peer: the client, or the last proxy in front of the gateway. */
    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    /**
     * The client's IP address: the TCP peer's, unless the peer is one of the gateway's trusted proxies
     * ({@code Gateway.Builder.trustedProxies}), in which case it is taken from {@code X-Forwarded-For}. The
     * pipeline sets it before authenticators and policies run; IPv4-mapped IPv6 addresses are IPv4 here.
     */
    public InetAddress clientAddress() {
        return clientAddress;
    }

    /** The subprotocols the client offered, in its order of preference. */
    public List<String> subprotocols() {
        return subprotocols;
    }

    /** The values of the route's {@code {params}}, percent-decoded; empty before the route is matched. */
    public Map<String, String> pathParameters() {
        return pathParameters;
    }

    /** The value of one path parameter. */
    public Optional<String> pathParameter(String name) {
        return Optional.ofNullable(pathParameters.get(name));
    }

    /**
     * The certificate chain the client presented in the TLS handshake (mutual TLS), the client's own
     * certificate first; empty when it presented none or did not use TLS.
     */
    public List<X509Certificate> clientCertificates() {
        return clientCertificates;
    }

    /**
     * The subprotocol the client is answered with when the backend chooses none, e.g. {@code bearer} for
     * the browser subprotocol pair; it must be one the client offered.
     */
    public Optional<String> subprotocolFallback() {
        return Optional.ofNullable(subprotocolFallback);
    }

    /** Who the client is; empty until an authenticator identifies it, and for anonymous routes. */
    public Optional<Principal> principal() {
        return Optional.ofNullable(principal);
    }

    /** Returns a copy that carries the principal. */
    public Handshake withPrincipal(Principal principal) {
        Builder b = toBuilder();
        b.principal = requireNonNull(principal, "principal");
        return b.build();
    }

    /** Returns a copy in which the header has this single value. */
    public Handshake withHeader(String name, String value) {
        return toBuilder().header(name, value).build();
    }

    /** Returns a copy without the header, so that the backend does not receive it. */
    public Handshake withoutHeader(String name) {
        Builder b = toBuilder();
        b.ownHeaders().remove(name.toLowerCase(Locale.ROOT));
        return b.build();
    }

    /** Returns a copy whose query string lacks every occurrence of the parameter. */
    public Handshake withoutQueryParameter(String name) {
        requireNonNull(name, "name");
        if (query.isEmpty()) {
            return this;
        }
        StringJoiner kept = new StringJoiner("&");
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (!decode(eq < 0 ? pair : pair.substring(0, eq)).equals(name)) {
                kept.add(pair);
            }
        }
        return toBuilder().query(kept.toString()).build();
    }

    @Override
    public String toString() {
        // The query may carry credentials: never print it.
        return "Handshake[" + requestId + " " + method + " " + host + path + " from " + remoteAddress + "]";
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    private static Map<String, List<String>> copyHeaders(Map<String, List<String>> source) {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        source.forEach((k, v) -> copy.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
        return copy;
    }

    /** Builds a {@link Handshake}; adapters use it to describe an incoming request. */
    public static final class Builder {
        private final String requestId;
        private final String path;
        private String method = "GET";
        private boolean secure;
        private String host = "";
        private String query = "";
        private Map<String, List<String>> headers = new LinkedHashMap<>();
        private Map<String, List<String>> sharedHeaders; // a handshake's immutable headers, until the first change; then null
        private InetSocketAddress remoteAddress = InetSocketAddress.createUnresolved("0.0.0.0", 0);
        private InetAddress clientAddress;
        private List<String> subprotocols = new ArrayList<>();
        private Map<String, String> pathParameters = new LinkedHashMap<>();
        private Principal principal;
        private String subprotocolFallback;
        private List<X509Certificate> clientCertificates = List.of();

        private Builder(String requestId, String path) {
            this.requestId = requireNonNull(requestId, "requestId");
            this.path = requireNonNull(path, "path");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("path: " + path + " (expected: starts with /)");
            }
        }

        /** The headers to change: the shared ones copied first, if this builder still shares them. */
        private Map<String, List<String>> ownHeaders() {
            if (sharedHeaders != null) {
                headers = new LinkedHashMap<>();
                sharedHeaders.forEach((name, values) -> headers.put(name, new ArrayList<>(values)));
                sharedHeaders = null;
            }
            return headers;
        }

        /** The HTTP method; {@code GET} by default. */
        public Builder method(String method) {
            this.method = requireNonNull(method, "method");
            return this;
        }

        /** Whether the client connected over TLS. */
        public Builder secure(boolean secure) {
            this.secure = secure;
            return this;
        }

        /** The {@code Host} header's value. */
        public Builder host(String host) {
            this.host = requireNonNull(host, "host");
            return this;
        }

        /** The raw query string, without {@code ?}. */
        public Builder query(String query) {
            this.query = requireNonNull(query, "query");
            return this;
        }

        /** Adds a header value; names are case-insensitive. */
        public Builder addHeader(String name, String value) {
            ownHeaders().computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(requireNonNull(value, "value"));
            return this;
        }

        /** Sets a header to a single value, replacing earlier values. */
        public Builder header(String name, String value) {
            List<String> values = new ArrayList<>();
            values.add(requireNonNull(value, "value"));
            ownHeaders().put(name.toLowerCase(Locale.ROOT), values);
            return this;
        }

        /** Removes a header. */
        public Builder removeHeader(String name) {
            ownHeaders().remove(name.toLowerCase(Locale.ROOT));
            return this;
        }

        /** The client's address. */
        public Builder remoteAddress(InetSocketAddress remoteAddress) {
            this.remoteAddress = requireNonNull(remoteAddress, "remoteAddress");
            return this;
        }

        /**
         * The client's IP address, when it differs from the remote address's (a proxy's); the pipeline sets
         * it. By default it is the remote address's IP.
         */
        public Builder clientAddress(InetAddress clientAddress) {
            this.clientAddress = Cidr.normalize(requireNonNull(clientAddress, "clientAddress"));
            return this;
        }

        /** The subprotocols the client offered, in order. */
        public Builder subprotocols(List<String> subprotocols) {
            this.subprotocols = new ArrayList<>(requireNonNull(subprotocols, "subprotocols"));
            return this;
        }

        /** The matched route's path parameters. */
        public Builder pathParameters(Map<String, String> pathParameters) {
            this.pathParameters = new LinkedHashMap<>(requireNonNull(pathParameters, "pathParameters"));
            return this;
        }

        /** The client's TLS certificate chain, its own certificate first. */
        public Builder clientCertificates(List<X509Certificate> chain) {
            this.clientCertificates = List.copyOf(requireNonNull(chain, "chain"));
            return this;
        }

        /** See {@link Handshake#subprotocolFallback()}. */
        public Builder subprotocolFallback(String subprotocol) {
            this.subprotocolFallback = requireNonNull(subprotocol, "subprotocol");
            return this;
        }

        /** Builds the handshake. */
        public Handshake build() {
            return new Handshake(this);
        }
    }
}
