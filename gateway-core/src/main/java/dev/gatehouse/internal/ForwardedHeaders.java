package dev.gatehouse.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;

/**
 * The headers the backend receives: the client's end-to-end headers, minus hop-by-hop, WebSocket
 * handshake, credential and spoofable gateway headers, plus {@code X-Forwarded-*}, {@code Forwarded} and
 * the identity headers.
 */
final class ForwardedHeaders {

    /** Never copied from the client. */
    private static final Set<String> DROPPED = Set.of(
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
            "transfer-encoding", "upgrade", "host", "content-length", "authorization",
            "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded",
            "user-agent");

    private ForwardedHeaders() {
    }

    static Map<String, List<String>> of(Handshake h, String connectionId) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        List<String> connectionTokens = new ArrayList<>();
        for (String value : h.headers().getOrDefault("connection", List.of())) {
            for (String token : value.split(",")) {
                connectionTokens.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        h.headers().forEach((name, values) -> {
            if (!DROPPED.contains(name) && !name.startsWith("sec-websocket-") && !name.startsWith("x-gatehouse-")
                    && !connectionTokens.contains(name)) {
                out.put(name, values);
            }
        });
        String ip = address(h.remoteAddress());
        String proto = h.secure() ? "https" : "http";
        out.put("X-Forwarded-For", List.of(ip));
        out.put("X-Forwarded-Proto", List.of(proto));
        StringBuilder forwarded = new StringBuilder("for=");
        if (ip.contains(":")) {
            forwarded.append("\"[").append(ip).append("]\"");
        } else {
            forwarded.append(ip);
        }
        forwarded.append(";proto=").append(proto);
        if (!h.host().isEmpty()) {
            out.put("X-Forwarded-Host", List.of(h.host()));
            forwarded.append(";host=\"").append(h.host().replace("\"", "")).append('"');
        }
        out.put("Forwarded", List.of(forwarded.toString()));
        out.put("X-Gatehouse-Connection-Id", List.of(connectionId));
        if (h.principal().isPresent()) {
            Principal p = h.principal().get();
            out.put("X-Gatehouse-Subject", List.of(p.subject()));
            p.consumer().ifPresent(c -> out.put("X-Gatehouse-Consumer", List.of(c)));
        }
        return out;
    }

    private static String address(InetSocketAddress a) {
        InetAddress ia = a.getAddress();
        return ia != null ? ia.getHostAddress() : a.getHostString();
    }
}
