package dev.gatehouse.jetty.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The client leg's extension negotiation. The gateway accepts one extension, permessage-deflate, and only
 * a well-formed offer of it: the first one in the client's {@code Sec-WebSocket-Extensions}, which lists
 * its offers in order of preference. Every other offer is declined, as RFC 7692 §5 and §7 ask of a server
 * that does not accept an offer: it is left out of the 101 and the handshake proceeds. Declined are
 * offers of other extensions, offers that do not parse (RFC 6455 §9.1), and permessage-deflate offers
 * with an unknown or repeated parameter or an invalid value. So is {@code server_max_window_bits}: Jetty's
 * deflater always uses a 32 KiB window, and its answer would leave out the parameter, which RFC 7692
 * §7.1.2.2 requires of a server that accepts it.
 */
final class ExtensionOffers {

    static final String PERMESSAGE_DEFLATE = "permessage-deflate";
    private static final Pattern WINDOW_BITS = Pattern.compile("[89]|1[0-5]"); // RFC 7692 §7.1.2: no leading zero

    private ExtensionOffers() {
    }

    /** One offer: the extension's name and its parameters, in order; a parameter's value is null when absent. */
    private record Offer(String name, List<String[]> params) {
    }

    /**
     * The offer the gateway accepts among the values of the client's {@code Sec-WebSocket-Extensions}
     * headers, written out again in a normal form, or empty when it accepts none.
     */
    static Optional<String> accepted(List<String> headerValues) {
        for (String value : headerValues) {
            for (String element : split(value, ',')) {
                Offer offer = parse(element);
                if (offer != null && isWellFormedDeflate(offer)) {
                    StringBuilder b = new StringBuilder(PERMESSAGE_DEFLATE);
                    for (String[] p : offer.params()) {
                        b.append("; ").append(p[0].toLowerCase(Locale.ROOT));
                        if (p[1] != null) {
                            b.append('=').append(p[1]);
                        }
                    }
                    return Optional.of(b.toString());
                }
            }
        }
        return Optional.empty();
    }

    private static boolean isWellFormedDeflate(Offer offer) {
        if (!offer.name().equalsIgnoreCase(PERMESSAGE_DEFLATE)) {
            return false;
        }
        Set<String> seen = new HashSet<>();
        for (String[] p : offer.params()) {
            String name = p[0].toLowerCase(Locale.ROOT);
            if (!seen.add(name)) {
                return false;
            }
            switch (name) {
                case "server_no_context_takeover":
                case "client_no_context_takeover":
                    if (p[1] != null) {
                        return false;
                    }
                    break;
                case "client_max_window_bits":
                    if (p[1] != null && !WINDOW_BITS.matcher(p[1]).matches()) {
                        return false;
                    }
                    break;
                default:
                    return false;
            }
        }
        return true;
    }

    /**
     * Parses {@code token *( OWS ";" OWS token [ OWS "=" OWS ( token / quoted-string ) ] )}, a quoted value
     * unquoted; null when the element is empty (a list may have empty elements) or malformed.
     */
    private static Offer parse(String element) {
        List<String> parts = split(element, ';');
        String name = trim(parts.get(0));
        if (!isToken(name)) {
            return null;
        }
        List<String[]> params = new ArrayList<>();
        for (String part : parts.subList(1, parts.size())) {
            int eq = part.indexOf('=');
            String key = trim(eq < 0 ? part : part.substring(0, eq));
            if (!isToken(key)) {
                return null;
            }
            String value = null;
            if (eq >= 0) {
                value = unquote(trim(part.substring(eq + 1)));
                if (value == null) {
                    return null;
                }
            }
            params.add(new String[] {key, value});
        }
        return new Offer(name, params);
    }

    /** Splits at {@code separator} outside quoted strings; an unterminated quote runs to the end. */
    private static List<String> split(String s, char separator) {
        List<String> parts = new ArrayList<>();
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == separator) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }

    /** A token as it is, a quoted string's content (which must then be a token, RFC 6455 §9.1), else null. */
    private static String unquote(String v) {
        if (v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
            StringBuilder b = new StringBuilder();
            for (int i = 1; i < v.length() - 1; i++) {
                char c = v.charAt(i);
                if (c == '"') {
                    return null;
                }
                if (c == '\\') {
                    if (++i == v.length() - 1) {
                        return null;
                    }
                    c = v.charAt(i);
                }
                b.append(c);
            }
            v = b.toString();
        }
        return isToken(v) ? v : null;
    }

    private static String trim(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
            to--;
        }
        return s.substring(from, to);
    }

    /** RFC 7230 §3.2.6 token: one or more tchar. */
    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }
}
