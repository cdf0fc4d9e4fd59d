package dev.gatehouse.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Percent-decoding of path segments (no {@code +} rule) and encoding of path-segment values. */
final class PercentCodec {

    private static final String HEX = "0123456789ABCDEF";

    private PercentCodec() {
    }

    /** Decodes {@code %XX} escapes as UTF-8; a malformed escape is kept as is. */
    static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
                out.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
                i += 2;
            } else {
                byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(bytes, 0, bytes.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Encodes a value as one path segment: everything but unreserved characters is escaped. */
    static String encodeSegment(String value) {
        StringBuilder sb = new StringBuilder(value.length());
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX.charAt(c >> 4)).append(HEX.charAt(c & 0xF));
            }
        }
        return sb.toString();
    }

    /**
     * Escapes the characters a URI query may not contain (space, {@code "<>\\^`{|}}, controls and
     * non-ASCII) and keeps everything else, existing escapes included.
     */
    static String encodeIllegalQueryCharacters(String query) {
        StringBuilder sb = null;
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            boolean legal = c > 0x20 && c < 0x7F && "\"<>\\^`{|}".indexOf(c) < 0
                    && (c != '%' || (i + 2 < query.length() && hex(query.charAt(i + 1)) >= 0 && hex(query.charAt(i + 2)) >= 0));
            if (legal) {
                if (sb != null) {
                    sb.append(c);
                }
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(query.length() + 16).append(query, 0, i);
            }
            int end = Character.isHighSurrogate(c) && i + 1 < query.length() ? i + 2 : i + 1;
            for (byte b : query.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                sb.append('%').append(HEX.charAt((b >> 4) & 0xF)).append(HEX.charAt(b & 0xF));
            }
            i = end - 1;
        }
        return sb == null ? query : sb.toString();
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
