package dev.gatehouse.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.gatehouse.Backend;
import dev.gatehouse.Handshake;

/** A {@link Backend} at a {@code ws://} or {@code wss://} URL template with {@code {param}} and {@code {*}}. */
public final class UriTemplateBackend implements Backend {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^}]*)}");

    private final String template;
    private final String base;   // template before '?'
    private final String query;  // template's own query with '?', or ""
    private final Set<String> parameterNames;
    private final boolean usesRest;

    private UriTemplateBackend(String template) {
        this.template = template;
        int q = template.indexOf('?');
        this.base = q < 0 ? template : template.substring(0, q);
        this.query = q < 0 ? "" : template.substring(q);
        Set<String> names = new LinkedHashSet<>();
        boolean rest = false;
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            if (m.group(1).equals(PathTemplate.REST)) {
                rest = true;
            } else {
                names.add(m.group(1));
            }
        }
        this.parameterNames = Collections.unmodifiableSet(names);
        this.usesRest = rest;
    }

    /**
     * Parses and validates a template.
     *
     * @throws IllegalArgumentException if it is not a {@code ws://} or {@code wss://} URL with a host
     */
    public static UriTemplateBackend parse(String template) {
        if (template == null) {
            throw new NullPointerException("urlTemplate");
        }
        String probe = PLACEHOLDER.matcher(template).replaceAll("x");
        URI uri;
        try {
            uri = new URI(probe);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("backend: " + template + " (not a URL: " + e.getReason() + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("ws") && !scheme.equals("wss")) {
            throw new IllegalArgumentException("backend: " + template + " (expected: a ws:// or wss:// URL)");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("backend: " + template + " (expected: a host)");
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException("backend: " + template + " (a WebSocket URL has no fragment)");
        }
        int authorityEnd = template.indexOf('/', scheme.length() + 3);
        int placeholder = template.indexOf('{');
        int queryStart = template.indexOf('?');
        if (placeholder >= 0 && (authorityEnd < 0 || placeholder < authorityEnd
                || (queryStart >= 0 && template.indexOf('{', queryStart) >= 0))) {
            throw new IllegalArgumentException("backend: " + template + " (parameters are allowed in the path only)");
        }
        return new UriTemplateBackend(template);
    }

    /** The {@code {name}} parameters the template uses. */
    Set<String> parameterNames() {
        return parameterNames;
    }

    /** Whether the template uses {@code {*}}. */
    boolean usesRest() {
        return usesRest;
    }

    @Override
    public URI target(Handshake handshake) {
        Map<String, String> params = handshake.pathParameters();
        String rest = params.get(PathTemplate.REST);
        StringBuilder sb = new StringBuilder(base.length() + 32);
        Matcher m = PLACEHOLDER.matcher(base);
        int last = 0;
        while (m.find()) {
            sb.append(base, last, m.start());
            String name = m.group(1);
            if (name.equals(PathTemplate.REST)) {
                sb.append(rest == null ? "" : stripLeadingSlash(rest, sb));
            } else {
                String value = params.get(name);
                sb.append(value == null ? "" : PercentCodec.encodeSegment(value));
            }
            last = m.end();
        }
        sb.append(base, last, base.length());
        if (rest != null && !usesRest && !rest.isEmpty()) {
            sb.append(stripLeadingSlash(rest, sb));
        }
        sb.append(query);
        return URI.create(sb.toString());
    }

    private static String stripLeadingSlash(String rest, StringBuilder before) {
        return before.length() > 0 && before.charAt(before.length() - 1) == '/' && rest.startsWith("/")
                ? rest.substring(1) : rest;
    }

    @Override
    public String toString() {
        return template;
    }
}
