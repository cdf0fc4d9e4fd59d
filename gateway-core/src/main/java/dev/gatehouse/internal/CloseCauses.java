package dev.gatehouse.internal;

/**
 * The few words that name why a connection ended, for metrics' {@code cause} tag: the close decisions' own
 * descriptions ("client closed", "idle timeout", "client protocol error: …") hold free text, which a tag
 * must never carry.
 */
final class CloseCauses {

    private CloseCauses() {
    }

    /** The cause's word for a close decision's description. */
    static String of(String why) {
        if (why == null) {
            return "other";
        }
        if (why.equals("client closed")) {
            return "client_closed";
        }
        if (why.equals("backend closed")) {
            return "backend_closed";
        }
        if (why.equals("client connection lost")) {
            return "client_lost";
        }
        if (why.equals("backend connection lost")) {
            return "backend_lost";
        }
        if (why.equals("idle timeout")) {
            return "idle_timeout";
        }
        if (why.startsWith("keepalive timeout")) {
            return "keepalive_timeout";
        }
        if (why.equals("credential expired")) {
            return "credential_expired";
        }
        if (why.startsWith("revoked")) {
            return "revoked";
        }
        if (why.equals("drain")) {
            return "drain";
        }
        if (why.equals("max lifetime")) {
            return "max_lifetime";
        }
        if (why.startsWith("overload")) {
            return "overload";
        }
        if (why.equals("target down")) {
            return "target_down";
        }
        if (why.startsWith("message too big")) {
            return "message_too_big";
        }
        if (why.startsWith("message rate limit") || why.startsWith("byte rate limit")) {
            return "rate_limited";
        }
        if (why.startsWith("invalid UTF-8")) {
            return "invalid_payload";
        }
        if (why.startsWith("client ") || why.startsWith("backend ")) {
            // the adapter's protocol violations: "client protocol error: …", "backend frame too big", …
            return "protocol_error";
        }
        if (why.startsWith("closed by a message filter") || why.startsWith("message filter failed")) {
            return "filter";
        }
        if (why.startsWith("closed by the registry")) {
            return "management";
        }
        if (why.equals("aborted")) {
            return "aborted";
        }
        return "other";
    }
}
