package dev.gatehouse.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;

/**
 * The headers the backend receives: the handshake's end-to-end headers (the client's, without the
 * {@code X-Gatehouse-*} ones it may have sent, as changed by authenticators and policies), minus
 * hop-by-hop, WebSocket handshake and credential headers, plus {@code X-Forwarded-*}, {@code Forwarded}
 * and the identity headers, which replace any of the same name.
 *
 * <p>{@code X-Forwarded-For} and {@code Forwarded} name the TCP peer. When the peer is a trusted proxy,
 * they extend the chain the proxy sent (the peer is appended), so that the backend sees every hop; when
 * it is not, whatever the client sent is dropped, so that a client cannot make up its own address.
 */
final class ForwardedHeaders {

    /** Never copied from the client ({@code Expect}: an upgrade has no body to wait for). */
    private static final Set<String> DROPPED = Set.of(
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
            "transfer-encoding", "upgrade", "host", "content-length", "authorization",
            "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded",
            "user-agent", "expect");

    private ForwardedHeaders() {
    }

    static Map<String, List<String>> of(Handshake h, String connectionId, boolean trustedPeer, boolean withCredentials) {
        Map<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        List<String> connectionTokens = new ArrayList<>();
        for (String value : h.headers().getOrDefault("connection", List.of())) {
            for (String token : value.split(",")) {
                connectionTokens.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        h.headers().forEach((name, values) -> {
            if ((!DROPPED.contains(name) || (withCredentials && name.equals("authorization"))) && !name.startsWith("sec-websocket-")
                    && !connectionTokens.contains(name)) {
                out.put(name, values);
            }
        });
        String ip = address(h.remoteAddress());
        String proto = h.secure() ? "https" : "http";
        List<String> chain = trustedPeer ? TrustedProxies.forwardedFor(h) : List.of();
        set(out, "X-Forwarded-For", List.of(chain.isEmpty() ? ip : String.join(", ", chain) + ", " + ip));
        set(out, "X-Forwarded-Proto", List.of(proto));
        StringBuilder forwarded = new StringBuilder();
        if (trustedPeer) {
            for (String element : h.headers().getOrDefault("forwarded", List.of())) {
                if (!element.isBlank()) {
                    forwarded.append(element.trim()).append(", ");
                }
            }
        }
        forwarded.append("for=");
        if (ip.contains(":")) {
            forwarded.append("\"[").append(ip).append("]\"");
        } else {
            forwarded.append(ip);
        }
        forwarded.append(";proto=").append(proto);
        if (!h.host().isEmpty()) {
            set(out, "X-Forwarded-Host", List.of(h.host()));
            forwarded.append(";host=\"").append(h.host().replace("\"", "")).append('"');
        }
        set(out, "Forwarded", List.of(forwarded.toString()));
        set(out, "X-Gatehouse-Connection-Id", List.of(connectionId));
        if (h.principal().isPresent()) {
            Principal p = h.principal().get();
            set(out, "X-Gatehouse-Subject", List.of(p.subject()));
            p.consumer().ifPresent(c -> set(out, "X-Gatehouse-Consumer", List.of(c)));
        }
        return out;
    }

    /** Sets a gateway header, replacing any spelling of it that came from the handshake. */
    private static void set(Map<String, List<String>> out, String name, List<String> values) {
        out.remove(name);
        out.put(name, values);
    }

    private static String address(InetSocketAddress a) {
        InetAddress ia = a.getAddress();
        return ia != null ? ia.getHostAddress() : a.getHostString();
    }
}
