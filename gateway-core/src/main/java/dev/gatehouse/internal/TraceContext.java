package dev.gatehouse.internal;

import java.util.concurrent.ThreadLocalRandom;

import dev.gatehouse.Handshake;

/**
 * W3C Trace Context ({@code traceparent}): the gateway continues the trace a client's upgrade carries, or
 * starts one when it carries none or an invalid one, and sends the backend and the integrations a
 * {@code traceparent} with the same trace id and a parent id (span) of its own.
 */
final class TraceContext {

    /** The header's name, lower case as the handshake keeps it. */
    static final String HEADER = "traceparent";

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private TraceContext() {
    }

    /**
     * The gateway's own {@code traceparent} for a request: version 00, the client's trace id and flags when
     * its {@code traceparent} is valid, else a new random trace id and flags {@code 01}; a new parent id.
     */
    static String next(Handshake request) {
        String incoming = request.header(HEADER).orElse(null);
        ThreadLocalRandom random = ThreadLocalRandom.current();
        StringBuilder out = new StringBuilder(55).append("00-");
        String flags;
        if (incoming != null && isValid(incoming)) {
            out.append(incoming, 3, 35);
            flags = incoming.substring(53, 55);
        } else {
            hex(out, random, 32);
            flags = "01";
        }
        out.append('-');
        hex(out, random, 16);
        return out.append('-').append(flags).toString();
    }

    /** Whether a {@code traceparent} is valid version 00: lower-case hex, and neither id all zeros. */
    static boolean isValid(String value) {
        if (value.length() != 55 || value.charAt(2) != '-' || value.charAt(35) != '-' || value.charAt(52) != '-'
                || !value.startsWith("00")) {
            return false;
        }
        return isHex(value, 3, 35) && isHex(value, 36, 52) && isHex(value, 53, 55)
                && !isZeros(value, 3, 35) && !isZeros(value, 36, 52);
    }

    /** The trace id of a valid {@code traceparent}. */
    static String traceId(String traceparent) {
        return traceparent.substring(3, 35);
    }

    private static void hex(StringBuilder out, ThreadLocalRandom random, int digits) {
        int start = out.length();
        for (int i = 0; i < digits; i++) {
            out.append(HEX[random.nextInt(16)]);
        }
        if (isZeros(out, start, start + digits)) {
            out.setCharAt(start + digits - 1, '1'); // all zeros is invalid
        }
    }

    private static boolean isHex(CharSequence s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isZeros(CharSequence s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }
}
