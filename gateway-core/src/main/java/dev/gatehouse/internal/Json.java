package dev.gatehouse.internal;

import dev.gatehouse.Verdict;

/** The gateway's JSON error bodies. */
public final class Json {

    private Json() {
    }

    /** {@code {"error":"<kind>","message":"<text>","requestId":"<id>"}}. */
    public static String errorBody(Verdict.Reject reject, String requestId) {
        StringBuilder sb = new StringBuilder(96);
        sb.append("{\"error\":");
        quote(sb, reject.kind().error());
        sb.append(",\"message\":");
        quote(sb, reject.message());
        sb.append(",\"requestId\":");
        quote(sb, requestId);
        return sb.append('}').toString();
    }

    /** Appends {@code s} as a JSON string literal. */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
