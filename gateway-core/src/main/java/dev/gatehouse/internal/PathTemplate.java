package dev.gatehouse.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import dev.gatehouse.Backend;
import dev.gatehouse.balance.BackendGroup;

/** A parsed route path template: literal segments, {@code {name}} parameters and an optional trailing {@code /*}. */
public final class PathTemplate {

    /** The key under which the rest matched by a trailing {@code /*} appears among the path parameters. */
    public static final String REST = "*";

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String source;
    private final String[] literals; // per segment: the literal, or null for a parameter
    private final String[] names;    // per segment: the parameter name, or null for a literal
    private final boolean wildcard;

    private PathTemplate(String source, List<String> literals, List<String> names, boolean wildcard) {
        this.source = source;
        this.literals = literals.toArray(new String[0]);
        this.names = names.toArray(new String[0]);
        this.wildcard = wildcard;
    }

    /**
     * Parses a template such as {@code /chat/{room}} or {@code /api/*}.
     *
     * @throws IllegalArgumentException naming the problem
     */
    public static PathTemplate parse(String template) {
        if (!template.startsWith("/")) {
            throw new IllegalArgumentException("path: " + template + " (expected: starts with /)");
        }
        String body = template.substring(1);
        boolean wildcard = false;
        if (body.equals("*")) {
            wildcard = true;
            body = null;
        } else if (body.endsWith("/*")) {
            wildcard = true;
            body = body.substring(0, body.length() - 2);
        }
        List<String> literals = new ArrayList<>();
        List<String> names = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        if (body != null) {
            for (String segment : body.split("/", -1)) {
                if (segment.startsWith("{") && segment.endsWith("}")) {
                    String name = segment.substring(1, segment.length() - 1);
                    if (!NAME.matcher(name).matches()) {
                        throw new IllegalArgumentException("path: " + template + " (bad parameter name {" + name + "})");
                    }
                    if (!seen.add(name)) {
                        throw new IllegalArgumentException("path: " + template + " (parameter {" + name + "} appears twice)");
                    }
                    literals.add(null);
                    names.add(name);
                } else if (segment.contains("{") || segment.contains("}") || segment.contains("*")) {
                    throw new IllegalArgumentException("path: " + template
                            + " (expected: literal segments, {name} segments and an optional trailing /*)");
                } else {
                    if (segment.isEmpty() && (wildcard || names.size() + literals.size() > 0) && !template.equals("/")) {
                        throw new IllegalArgumentException("path: " + template + " (empty segment)");
                    }
                    literals.add(PercentCodec.decode(segment));
                    names.add(null);
                }
            }
        }
        return new PathTemplate(template, literals, names, wildcard);
    }

    /** The template as written. */
    public String source() {
        return source;
    }

    /** The parameter names, in order. */
    public Set<String> parameterNames() {
        Set<String> result = new LinkedHashSet<>();
        for (String n : names) {
            if (n != null) {
                result.add(n);
            }
        }
        return result;
    }

    /** Whether the template ends in {@code /*}. */
    public boolean hasWildcard() {
        return wildcard;
    }

    /**
     * Matches a request path split into segments (the path without its leading slash, split on {@code /}).
     *
     * @return the parameters (decoded; the wildcard's rest under {@link #REST}, raw), or {@code null}
     */
    public Map<String, String> match(String[] segments) {
        int n = literals.length;
        if (segments.length < n || (!wildcard && segments.length != n)) {
            return null;
        }
        Map<String, String> params = null;
        for (int i = 0; i < n; i++) {
            String literal = literals[i];
            if (literal != null) {
                if (!literal.equals(segments[i]) && !literal.equals(PercentCodec.decode(segments[i]))) {
                    return null;
                }
            } else {
                if (segments[i].isEmpty()) {
                    return null;
                }
                if (params == null) {
                    params = new LinkedHashMap<>();
                }
                params.put(names[i], PercentCodec.decode(segments[i]));
            }
        }
        if (wildcard) {
            if (params == null) {
                params = new LinkedHashMap<>();
            }
            StringBuilder rest = new StringBuilder();
            for (int i = n; i < segments.length; i++) {
                rest.append('/').append(segments[i]);
            }
            params.put(REST, rest.toString());
        }
        return params == null ? Map.of() : params;
    }

    /** The shape that two conflicting templates share: parameters and names erased. */
    public String shape() {
        StringBuilder sb = new StringBuilder();
        for (String literal : literals) {
            sb.append('/').append(literal == null ? "{}" : literal);
        }
        return wildcard ? sb.append("/*").toString() : sb.toString();
    }

    /** Negative when this template is more specific than the other. */
    public int compareSpecificity(PathTemplate other) {
        int n = Math.max(literals.length, other.literals.length) + 1;
        for (int i = 0; i < n; i++) {
            int c = Integer.compare(rank(i), other.rank(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private int rank(int i) {
        if (i < literals.length) {
            return literals[i] != null ? 0 : 1;
        }
        return wildcard ? 3 : 2;
    }

    /** Checks that a template backend, or each target of a backend group, uses only parameters this path defines. */
    public void checkBackend(Backend backend, String routePath) {
        if (backend instanceof BackendGroup group) {
            for (BackendGroup.Target target : group.targets()) {
                checkBackend(UriTemplateBackend.parse(target.url()), routePath);
            }
        } else if (backend instanceof UriTemplateBackend) {
            UriTemplateBackend t = (UriTemplateBackend) backend;
            Set<String> defined = parameterNames();
            for (String used : t.parameterNames()) {
                if (!defined.contains(used)) {
                    throw new IllegalStateException("backend: " + t + " uses {" + used + "}, which route " + routePath
                            + " does not define");
                }
            }
            if (t.usesRest() && !wildcard) {
                throw new IllegalStateException("backend: " + t + " uses {*}, but route " + routePath
                        + " does not end in /*");
            }
        }
    }

    @Override
    public String toString() {
        return source;
    }
}
