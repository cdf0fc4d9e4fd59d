package dev.gatehouse.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
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
        return new String(bytes(s, false), StandardCharsets.UTF_8);
    }

    /**
     * The bytes a percent-encoded string stands for: escapes decoded, other characters as UTF-8. A malformed
     * escape is kept as its characters, or, when {@code strict}, makes the answer null.
     */
    private static byte[] bytes(String s, boolean strict) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
                out.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
                i += 2;
            } else if (c == '%' && strict) {
                return null;
            } else {
                byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(bytes, 0, bytes.length);
            }
        }
        return out.toByteArray();
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

    /**
     * Why a path or query cannot be percent-decoded as UTF-8, or null when it can: a {@code %} that is not
     * followed by two hex digits, or escapes whose bytes are not UTF-8.
     */
    static String malformed(String s) {
        if (s.indexOf('%') < 0) {
            return null;
        }
        byte[] bytes = bytes(s, true);
        if (bytes == null) {
            return "a malformed percent-escape";
        }
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return null;
        } catch (CharacterCodingException e) {
            return "percent-escapes that are not UTF-8";
        }
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
