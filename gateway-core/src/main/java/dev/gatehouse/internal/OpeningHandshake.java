package dev.gatehouse.internal;

import java.util.Base64;
import java.util.List;

import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/**
 * The one place that decides whether a request is a WebSocket opening handshake the gateway can answer
 * (RFC 6455, section 4.2.1): a {@code GET} with {@code Upgrade: websocket}, {@code Connection: Upgrade},
 * version 13, exactly one {@code Sec-WebSocket-Key} that is the base64 of 16 bytes, and subprotocol offers
 * that are tokens. Checked before anything else runs for a route, so that the backend is never dialled for
 * a request Jetty would not upgrade.
 */
final class OpeningHandshake {

    private OpeningHandshake() {
    }

    /** The rejection of a request that is not a valid opening handshake (426 or 400), or null when it is one. */
    static Verdict.Reject check(Handshake request) {
        if (!isUpgrade(request)) {
            return Verdict.reject(Rejection.UPGRADE_REQUIRED, "this path accepts WebSocket upgrades only")
                    .withHeader("Upgrade", "websocket");
        }
        String malformed = malformedUpgrade(request);
        if (malformed != null) {
            return Verdict.reject(Rejection.UPGRADE_REQUIRED, malformed)
                    .withHeader("Upgrade", "websocket")
                    .withHeader("Sec-WebSocket-Version", "13");
        }
        String bad = malformedKey(request);
        if (bad == null) {
            bad = malformedSubprotocols(request);
        }
        return bad == null ? null : Verdict.reject(Rejection.BAD_REQUEST, bad);
    }

    /** Whether the request asks for a WebSocket upgrade at all: a {@code GET} with {@code Upgrade: websocket}. */
    static boolean isUpgrade(Handshake request) {
        return "GET".equalsIgnoreCase(request.method()) && hasToken(request, "upgrade", "websocket");
    }

    /**
     * What makes an upgrade request an invalid opening handshake, or null when it is valid: {@code Connection}
     * must include {@code upgrade}, {@code Sec-WebSocket-Version} must be 13 and {@code Sec-WebSocket-Key}
     * must be present.
     */
    private static String malformedUpgrade(Handshake request) {
        if (!hasToken(request, "connection", "upgrade")) {
            return "the upgrade request has no Connection: Upgrade";
        }
        if (!request.header("Sec-WebSocket-Version").map(v -> v.trim().equals("13")).orElse(false)) {
            return "only WebSocket version 13 is supported";
        }
        if (request.header("Sec-WebSocket-Key").map(String::isBlank).orElse(true)) {
            return "the upgrade request has no Sec-WebSocket-Key";
        }
        return null;
    }

    /** Why the present {@code Sec-WebSocket-Key} is invalid, or null: exactly one, the base64 of 16 bytes. */
    private static String malformedKey(Handshake request) {
        List<String> keys = request.headers().getOrDefault("sec-websocket-key", List.of());
        if (keys.size() > 1) {
            return "the upgrade request has more than one Sec-WebSocket-Key";
        }
        String key = keys.get(0).trim();
        try {
            if (key.length() == 24 && Base64.getDecoder().decode(key).length == 16) {
                return null;
            }
        } catch (IllegalArgumentException e) {
            // not base64: reported below
        }
        return "the Sec-WebSocket-Key is not the base64 encoding of 16 bytes";
    }

    /**
     * Why the {@code Sec-WebSocket-Protocol} offers are invalid, or null: each must be an RFC 7230 token
     * (RFC 6455, section 4.1), which Jetty's handshakers otherwise refuse only after the backend was dialled.
     */
    private static String malformedSubprotocols(Handshake request) {
        for (String value : request.headers().getOrDefault("sec-websocket-protocol", List.of())) {
            for (String offer : value.split(",", -1)) {
                String token = offer.trim();
                for (int i = 0; i < token.length(); i++) {
                    if (!isTokenChar(token.charAt(i))) {
                        return "a Sec-WebSocket-Protocol offer is not a token";
                    }
                }
            }
        }
        return null;
    }

    /** Whether a comma-separated header (lower-case name) holds the token, ignoring case. */
    private static boolean hasToken(Handshake request, String header, String token) {
        for (String value : request.headers().getOrDefault(header, List.of())) {
            for (String t : value.split(",")) {
                if (t.trim().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isTokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
}
