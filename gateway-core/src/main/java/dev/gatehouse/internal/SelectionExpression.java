package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

/**
 * A WebSocket API route's selection expression: where in a text message's JSON body the route key is.
 *
 * <pre>{@code
 * SelectionExpression expression = SelectionExpression.parse("$request.body.action");
 * expression.evaluate("{\"action\":\"join\",\"room\":7}");                  // Optional[join]
 * SelectionExpression.parse("${request.body.service}/${request.body.action}")
 *         .evaluate("{\"service\":\"chat\",\"action\":\"join\"}");         // Optional[chat/join]
 * }</pre>
 *
 * <p><b>Syntax.</b> Either {@code $request.body.<path>} as the whole expression, or a template of literal
 * text and {@code ${request.body.<path>}} parts, with at least one part; in a template's literal text
 * {@code \$} stands for {@code $} and {@code \\} for {@code \}, and any other backslash or a {@code $} that
 * does not open <code>${</code> is refused. A {@code <path>} is a name followed by any number of {@code .name}
 * and {@code [n]} steps ({@code message.meta.type}, {@code items[0].kind}, {@code a.b[2][1].c}). A name is
 * one or more ASCII letters, digits, {@code _} and {@code -}; a key holding any other character cannot be
 * addressed. An index is a decimal {@code int} of 0 or more. Paths must be compatible: one may not lie inside
 * another ({@code a} and {@code a.b}), nor may a value be read both as an object and as an array ({@code a.b}
 * and {@code a[0]}), since such an expression could never have a value.
 *
 * <p><b>Values.</b> A string value is itself (unescaped); a number or a boolean is its JSON text as written
 * ({@code 1.50} stays {@code 1.50}, {@code 1e3} stays {@code 1e3}). {@code null}, an object, an array and a
 * missing path give no value. A template has a value only when each of its parts has one. When a key appears
 * more than once in an object, its first occurrence wins, even when a later one would have had the value.
 * Text that is not JSON, or whose top level is not an object, has no value; so has text that starts with a
 * byte order mark, which RFC 8259 does not allow.
 *
 * <p><b>Work.</b> Evaluation streams the message through Jackson's {@link JsonParser}: it skips the
 * subtrees that cannot hold a wanted value and stops as soon as it has every wanted value, or knows it will
 * not get one, so the rest of the message is never read (and may even be malformed). Malformed JSON before
 * that point gives no value. The parser is bounded to 128 levels of nesting, 64 KiB per name and 1 MiB per
 * string value read (strings that are skipped are not materialized); text that breaks a bound before the
 * values are found has no value.
 *
 * <p><b>Threading.</b> Immutable: one instance serves every connection of a route, from any thread.
 */
public final class SelectionExpression {

    /** Deeper JSON (before the wanted values) has no value; client messages that route are far flatter. */
    static final int MAX_NESTING_DEPTH = 128;
    /** A longer key (at a level the parser reads names on) makes the message have no value. */
    static final int MAX_NAME_LENGTH = 64 * 1024;
    /** A longer wanted string has no value: no route key is that long. Skipped strings are not bound. */
    static final int MAX_STRING_LENGTH = 1024 * 1024;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_NESTING_DEPTH)
                    .maxNameLength(MAX_NAME_LENGTH)
                    .maxStringLength(MAX_STRING_LENGTH)
                    .build())
            // keys come from clients: canonicalize them (bounded by Jackson) but keep them out of the JVM's pool
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    private static final String SETTING = "selection";
    private static final String ROOT = "request.body.";

    private final String source;
    // The result, in order: literal text (partSlots[i] == -1) or the value of slot partSlots[i].
    private final String[] partLiterals;
    private final int[] partSlots;
    private final int literalLength;
    // With exactly one distinct path (the common case), its steps: a name, or null and an index.
    private final String[] stepNames;
    private final int[] stepIndexes;
    // With two or more distinct paths, their tree; null otherwise.
    private final Node root;
    private final int slots;

    private SelectionExpression(String source, List<Object> parts, List<List<Object>> paths, Node root) {
        this.source = source;
        int n = parts.size();
        this.partLiterals = new String[n];
        this.partSlots = new int[n];
        int length = 0;
        for (int i = 0; i < n; i++) {
            Object part = parts.get(i);
            if (part instanceof String) {
                partLiterals[i] = (String) part;
                partSlots[i] = -1;
                length += ((String) part).length();
            } else {
                partSlots[i] = (Integer) part;
            }
        }
        this.literalLength = length;
        this.slots = paths.size();
        if (slots == 1) {
            List<Object> steps = paths.get(0);
            this.stepNames = new String[steps.size()];
            this.stepIndexes = new int[steps.size()];
            for (int i = 0; i < steps.size(); i++) {
                Object step = steps.get(i);
                if (step instanceof String) {
                    stepNames[i] = (String) step;
                } else {
                    stepIndexes[i] = (Integer) step;
                }
            }
            this.root = null;
        } else {
            this.stepNames = null;
            this.stepIndexes = null;
            this.root = root;
        }
    }

    /**
     * Parses an expression such as {@code $request.body.action} or
     * {@code ${request.body.service}/${request.body.action}}, as described in the class documentation.
     *
     * @throws IllegalArgumentException naming the setting, the expression and the problem, with the
     *         problem's 0-based position where there is one, e.g.
     *         {@code selection: "${request.body.action" (expected: a closing } at 21)}
     */
    public static SelectionExpression parse(String expression) {
        requireNonNull(expression, SETTING);
        return new Syntax(expression).parse();
    }

    /**
     * Evaluates the expression against a text message: {@code length} bytes of UTF-8 from {@code offset},
     * which the call only reads, and only during the call.
     *
     * @return the route key, or empty if the message has none (see the class documentation); never throws
     *         for any content
     * @throws IndexOutOfBoundsException if {@code offset} and {@code length} do not lie within {@code utf8}
     */
    public Optional<String> evaluate(byte[] utf8, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, utf8.length);
        int i = offset;
        int end = offset + length;
        while (i < end && isJsonSpace(utf8[i])) {
            i++;
        }
        // only an object can have a value: spare the parser plain text
        if (i == end || utf8[i] != '{') {
            return Optional.empty();
        }
        try (JsonParser p = FACTORY.createParser(utf8, offset, length)) {
            return Optional.ofNullable(evaluate(p));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Evaluates the expression against a text message.
     *
     * @return the route key, or empty if the message has none (see the class documentation); never throws
     */
    public Optional<String> evaluate(String text) {
        int i = 0;
        int end = text.length();
        while (i < end && isJsonSpace(text.charAt(i))) {
            i++;
        }
        if (i == end || text.charAt(i) != '{') {
            return Optional.empty();
        }
        try (JsonParser p = FACTORY.createParser(text)) {
            return Optional.ofNullable(evaluate(p));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean isJsonSpace(int c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }

    /** The route key, or {@code null}. */
    private String evaluate(JsonParser p) throws IOException {
        if (root == null) {
            String value = single(p);
            return value == null ? null : assemble(value);
        }
        String[] values = new String[slots];
        return visit(p, p.nextToken(), root, values) ? assemble(values) : null;
    }

    /** Walks the one path: the fast case, which allocates nothing itself but the value. */
    private String single(JsonParser p) throws IOException {
        JsonToken t = p.nextToken();
        for (int i = 0; i < stepNames.length; i++) {
            String name = stepNames[i];
            if (name != null) {
                if (t != JsonToken.START_OBJECT) {
                    return null;
                }
                String field;
                while (!name.equals(field = p.nextFieldName())) {
                    if (field == null) {
                        return null; // the object ended without the key
                    }
                    p.nextToken();
                    p.skipChildren();
                }
            } else {
                if (t != JsonToken.START_ARRAY) {
                    return null;
                }
                for (int k = stepIndexes[i]; k > 0; k--) {
                    t = p.nextToken();
                    if (t == null || t == JsonToken.END_ARRAY) {
                        return null;
                    }
                    p.skipChildren();
                }
            }
            t = p.nextToken();
            if (t == null || t == JsonToken.END_ARRAY) {
                return null;
            }
        }
        return scalar(p, t);
    }

    /**
     * Reads the value of {@code node}, whose first token {@code t} is current, into {@code values}.
     *
     * @return whether every value below the node was found; if so, the parser is at the node value's last
     *         token or inside it, past the last value found; if not, the evaluation is over
     */
    private static boolean visit(JsonParser p, JsonToken t, Node node, String[] values) throws IOException {
        if (node.slot >= 0) {
            String value = scalar(p, t);
            values[node.slot] = value;
            return value != null;
        }
        int remaining;
        if (node.names != null) {
            if (t != JsonToken.START_OBJECT) {
                return false;
            }
            int depth = p.getParsingContext().getNestingDepth();
            remaining = node.names.length;
            String field;
            while ((field = p.nextFieldName()) != null) {
                JsonToken value = p.nextToken();
                Node child = node.field(field);
                if (child == null || values[child.anySlot] != null) { // unwanted, or a duplicate key
                    p.skipChildren();
                    continue;
                }
                if (!visit(p, value, child, values)) {
                    return false;
                }
                if (--remaining == 0) {
                    return true;
                }
                closeTo(p, depth);
            }
            return false;
        }
        if (t != JsonToken.START_ARRAY) {
            return false;
        }
        int depth = p.getParsingContext().getNestingDepth();
        int next = 0;
        for (int k = 0; ; k++) {
            JsonToken value = p.nextToken();
            if (value == null || value == JsonToken.END_ARRAY) {
                return false;
            }
            Node child = node.items[next];
            if (child.index != k) {
                p.skipChildren();
                continue;
            }
            if (!visit(p, value, child, values)) {
                return false;
            }
            if (++next == node.items.length) {
                return true;
            }
            closeTo(p, depth);
        }
    }

    /** Reads on until the parser is back in the container at {@code depth}, past the value it was inside. */
    private static void closeTo(JsonParser p, int depth) throws IOException {
        while (p.getParsingContext().getNestingDepth() > depth) {
            if (p.nextToken() == null) {
                return;
            }
            p.skipChildren();
        }
    }

    /** A string's text, a number's or a boolean's JSON text; {@code null} for anything else. */
    private static String scalar(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT
                || t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
            return p.getText();
        }
        return null;
    }

    private String assemble(String value) {
        if (partSlots.length == 1) {
            return value;
        }
        StringBuilder sb = new StringBuilder(literalLength + value.length() * (partSlots.length - 1));
        for (int i = 0; i < partSlots.length; i++) {
            sb.append(partSlots[i] < 0 ? partLiterals[i] : value);
        }
        return sb.toString();
    }

    private String assemble(String[] values) {
        int length = literalLength;
        for (int slot : partSlots) {
            if (slot >= 0) {
                length += values[slot].length();
            }
        }
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < partSlots.length; i++) {
            sb.append(partSlots[i] < 0 ? partLiterals[i] : values[partSlots[i]]);
        }
        return sb.toString();
    }

    /** The expression as written. */
    @Override
    public String toString() {
        return source;
    }

    /** Equal when written the same. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SelectionExpression && ((SelectionExpression) o).source.equals(source);
    }

    @Override
    public int hashCode() {
        return source.hashCode();
    }

    /** A position in the wanted paths, reached by a key or an index; its children are keys or indexes. */
    private static final class Node {
        final int index;       // the index that reaches this node from an array; -1 under an object
        final int slot;        // the value's slot if a path ends here (then there are no children), else -1
        final int anySlot;     // a slot at or below this node: filled once the node's values were all found
        final String[] names;  // the keys of the children, when this is an object; else null
        final Node[] fields;   // the children, in the order of names
        final Node[] items;    // the children by ascending index, when this is an array; else null

        Node(Draft draft, int index) {
            this.index = index;
            this.slot = draft.slot;
            if (!draft.fields.isEmpty()) {
                this.names = draft.fields.keySet().toArray(new String[0]);
                this.fields = new Node[names.length];
                for (int i = 0; i < names.length; i++) {
                    fields[i] = new Node(draft.fields.get(names[i]), -1);
                }
                this.items = null;
                this.anySlot = fields[0].anySlot;
            } else if (!draft.items.isEmpty()) {
                this.names = null;
                this.fields = null;
                this.items = new Node[draft.items.size()];
                int i = 0;
                for (Map.Entry<Integer, Draft> e : draft.items.entrySet()) {
                    items[i++] = new Node(e.getValue(), e.getKey());
                }
                this.anySlot = items[0].anySlot;
            } else {
                this.names = null;
                this.fields = null;
                this.items = null;
                this.anySlot = slot;
            }
        }

        /** The child reached by the key, or {@code null}. */
        Node field(String name) {
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals(name)) {
                    return fields[i];
                }
            }
            return null;
        }
    }

    /** A node of the wanted paths while they are parsed. */
    private static final class Draft {
        final String path;                                      // the first path through here, for messages
        final Map<String, Draft> fields = new LinkedHashMap<>(); // grows while paths are added
        final TreeMap<Integer, Draft> items = new TreeMap<>();  // grows while paths are added
        int slot = -1;                                          // set once, when a path ends here

        Draft(String path) {
            this.path = path;
        }
    }

    /** The parser of the expression's text. */
    private static final class Syntax {
        private final String text;
        private final List<Object> parts = new ArrayList<>();   // literal Strings and Integer slots, in order
        private final List<List<Object>> paths = new ArrayList<>(); // distinct paths, by slot: names and indexes
        private final Draft root = new Draft("");
        private int pos; // the next character to read

        Syntax(String text) {
            this.text = text;
        }

        SelectionExpression parse() {
            if (text.isEmpty()) {
                throw fail("expected: $request.body.<path> or a template with ${request.body.<path>}");
            }
            if (text.length() > 1 && text.charAt(0) == '$' && isLetter(text.charAt(1))) {
                if (!text.startsWith(ROOT, 1)) {
                    throw fail("expected: $" + ROOT + "<path> at 0");
                }
                pos = 1 + ROOT.length();
                path();
                if (pos < text.length()) {
                    throw fail("expected: ., [ or the end at " + pos);
                }
            } else {
                template();
            }
            Node tree = paths.size() > 1 ? new Node(root, -1) : null;
            return new SelectionExpression(text, parts, paths, tree);
        }

        private void template() {
            StringBuilder literal = new StringBuilder();
            int n = text.length();
            while (pos < n) {
                char c = text.charAt(pos);
                if (c == '\\') {
                    char next = pos + 1 < n ? text.charAt(pos + 1) : 0;
                    if (next != '$' && next != '\\') {
                        throw fail("expected: \\$ or \\\\ at " + pos);
                    }
                    literal.append(next);
                    pos += 2;
                } else if (c == '$') {
                    if (pos + 1 >= n || text.charAt(pos + 1) != '{') {
                        throw fail("expected: ${ or \\$ at " + pos);
                    }
                    if (!text.startsWith(ROOT, pos + 2)) {
                        throw fail("expected: ${" + ROOT + "<path>} at " + pos);
                    }
                    if (literal.length() > 0) {
                        parts.add(literal.toString());
                        literal.setLength(0);
                    }
                    pos += 2 + ROOT.length();
                    path();
                    if (pos >= n || text.charAt(pos) != '}') {
                        throw fail("expected: a closing } at " + pos);
                    }
                    pos++;
                } else {
                    literal.append(c);
                    pos++;
                }
            }
            if (paths.isEmpty()) {
                throw fail("expected: at least one ${" + ROOT + "<path>}");
            }
            if (literal.length() > 0) {
                parts.add(literal.toString());
            }
        }

        /** Reads a path from {@code pos}, adds it to the tree and its slot to the parts. */
        private void path() {
            int start = pos;
            List<Object> steps = new ArrayList<>();
            while (true) {
                int nameStart = pos;
                while (pos < text.length() && isNameChar(text.charAt(pos))) {
                    pos++;
                }
                if (pos == nameStart) {
                    throw fail("expected: a name at " + pos);
                }
                steps.add(text.substring(nameStart, pos));
                while (pos < text.length() && text.charAt(pos) == '[') {
                    steps.add(index());
                }
                if (pos < text.length() && text.charAt(pos) == '.') {
                    pos++;
                } else {
                    break;
                }
            }
            parts.add(add(text.substring(start, pos), steps));
        }

        /** Reads {@code [n]} from {@code pos}. */
        private Integer index() {
            pos++;
            int digits = pos;
            long value = 0;
            while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
                value = Math.min(value * 10 + (text.charAt(pos) - '0'), Integer.MAX_VALUE + 1L);
                pos++;
            }
            if (pos == digits) {
                throw fail("expected: an index of 0 or more at " + pos);
            }
            if (value > Integer.MAX_VALUE) {
                throw fail("expected: an index up to " + Integer.MAX_VALUE + " at " + digits);
            }
            if (pos >= text.length() || text.charAt(pos) != ']') {
                throw fail("expected: a closing ] at " + pos);
            }
            pos++;
            return (int) value;
        }

        /** Adds a path to the tree; returns its slot, shared with an equal path added before. */
        private Integer add(String path, List<Object> steps) {
            Draft node = root;
            for (Object step : steps) {
                if (node.slot >= 0) {
                    throw fail("path " + path + " lies inside path " + node.path + ", so they never both have a value");
                }
                boolean isName = step instanceof String;
                if (isName ? !node.items.isEmpty() : !node.fields.isEmpty()) {
                    throw fail("paths " + node.path + " and " + path
                            + " need one value to be both an object and an array");
                }
                node = isName
                        ? node.fields.computeIfAbsent((String) step, k -> new Draft(path))
                        : node.items.computeIfAbsent((Integer) step, k -> new Draft(path));
            }
            if (node.slot >= 0) {
                return node.slot;
            }
            if (!node.fields.isEmpty() || !node.items.isEmpty()) {
                throw fail("path " + node.path + " lies inside path " + path + ", so they never both have a value");
            }
            node.slot = paths.size();
            paths.add(steps);
            return node.slot;
        }

        private IllegalArgumentException fail(String problem) {
            return new IllegalArgumentException(SETTING + ": \"" + text + "\" (" + problem + ")");
        }

        private static boolean isLetter(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        }

        private static boolean isNameChar(char c) {
            return isLetter(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
        }
    }
}
