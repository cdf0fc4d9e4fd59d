package dev.gatehouse.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parsing and streaming evaluation of route selection expressions. In the tables, JSON is written with
 * {@code '} for {@code "} (and {@code `} for {@code '}), and a {@code null} expectation means no route key.
 */
class SelectionExpressionTest {

    /** The route key of a message, checked to be the same from its UTF-8 bytes (at an offset) and its text. */
    private static Optional<String> evaluate(String expression, String message) {
        SelectionExpression e = SelectionExpression.parse(expression);
        byte[] utf8 = message.getBytes(UTF_8);
        byte[] framed = new byte[utf8.length + 6];
        framed[0] = '{';
        framed[1] = '"';
        framed[2] = '"';
        System.arraycopy(utf8, 0, framed, 3, utf8.length);
        framed[framed.length - 3] = '"';
        framed[framed.length - 2] = '}';
        framed[framed.length - 1] = ']';
        Optional<String> fromBytes = e.evaluate(framed, 3, utf8.length);
        assertEquals(fromBytes, e.evaluate(message), "from bytes and from text");
        return fromBytes;
    }

    private static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"').replace('`', '\'');
    }

    private static void assertKey(String expected, String expression, String singleQuotedJson) {
        assertEquals(Optional.ofNullable(expected), evaluate(expression, json(singleQuotedJson)),
                expression + " on " + singleQuotedJson);
    }

    static Stream<Arguments> selections() {
        return Stream.of(
                // the common case
                arguments("$request.body.action", "{'action':'sendmessage','data':'hi'}", "sendmessage"),
                arguments("$request.body.action", "{'data':{'action':'no'},'list':[1,{'action':'no'}],'action':'join'}",
                        "join"),
                arguments("$request.body.action", " \r\n\t{ 'action' : 'spaced' } ", "spaced"),
                arguments("$request.body.action", "{'action':'caf\\u00e9 \\\"q\\\" \\n ✓'}", "café \"q\" \n ✓"),
                arguments("$request.body.action", "{'action':''}", ""),
                arguments("$request.body.Action", "{'action':'lower'}", null),
                arguments("$request.body.action", "{'actions':'x','Action':'y','act':'z'}", null),
                arguments("${request.body.action}", "{'action':'same as the whole form'}", "same as the whole form"),
                // nested paths
                arguments("$request.body.message.meta.type", "{'message':{'meta':{'type':'ping'}}}", "ping"),
                arguments("$request.body.message.meta.type",
                        "{'x':{'meta':{'type':'no'}},'message':{'type':'no','meta':{'kind':1,'type':'yes'}}}", "yes"),
                arguments("$request.body.message.meta.type", "{'message':{'meta':{}}}", null),
                arguments("$request.body.message.meta.type", "{'message':{'meta':'flat'}}", null),
                arguments("$request.body.message.meta.type", "{'message':['meta']}", null),
                arguments("$request.body.a_b.c-d.E9", "{'a_b':{'c-d':{'E9':'named'}}}", "named"),
                arguments("$request.body.0", "{'0':'digit key'}", "digit key"),
                // arrays and indexes
                arguments("$request.body.items[0].kind", "{'items':[{'kind':'first'},{'kind':'second'}]}", "first"),
                arguments("$request.body.items[1].kind", "{'items':[{'kind':'first'},{'kind':'second'}]}", "second"),
                arguments("$request.body.items[2].kind", "{'items':[{'kind':'first'},{'kind':'second'}]}", null),
                arguments("$request.body.items[1]", "{'items':[[1,[2]],{'a':{}},'third']}", null),
                arguments("$request.body.items[2]", "{'items':[[1,[2]],{'a':{}},'third']}", "third"),
                arguments("$request.body.a.b[2][1].c",
                        "{'a':{'b':[0,[1],[{'c':'no'},{'c':'deep'}]]}}", "deep"),
                arguments("$request.body.items[0]", "{'items':{'0':'not an array'}}", null),
                arguments("$request.body.items.kind", "{'items':[{'kind':'not an object'}]}", null),
                arguments("$request.body.items[00]", "{'items':['zero']}", "zero"));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("selections")
    void selectsTheValueAtThePath(String expression, String message, String expected) {
        assertKey(expected, expression, message);
    }

    static Stream<Arguments> templates() {
        return Stream.of(
                arguments("${request.body.service}/${request.body.action}",
                        "{'action':'join','service':'chat'}", "chat/join"),
                arguments("v1:${request.body.service}/${request.body.action}!",
                        "{'service':'chat','action':'join'}", "v1:chat/join!"),
                arguments("${request.body.service}/${request.body.action}", "{'service':'chat'}", null),
                arguments("${request.body.service}/${request.body.action}", "{'service':'chat','action':null}", null),
                arguments("${request.body.service}/${request.body.action}", "{'service':{},'action':'join'}", null),
                arguments("${request.body.a}${request.body.b}", "{'b':2,'a':1}", "12"),
                arguments("${request.body.a}-${request.body.a}", "{'a':'x'}", "x-x"),
                arguments("${request.body.m.t}.${request.body.m.s}.${request.body.n[1]}",
                        "{'m':{'s':'S','x':[1,2],'t':'T'},'n':[0,1]}", "T.S.1"),
                arguments("${request.body.m.t}.${request.body.n[1]}", "{'m':{'t':'T'},'n':[0]}", null),
                arguments("${request.body.list[3].k}${request.body.list[1].k}",
                        "{'list':[{'k':'a'},{'k':'b','z':{'k':'no'}},[{'k':'no'}],{'k':'d'}]}", "db"),
                arguments("${request.body.list[3].k}${request.body.list[1].k}",
                        "{'list':[{'k':'a'},{'j':'b'},{'k':'c'},{'k':'d'}]}", null),
                arguments("${request.body.a.b.c}|${request.body.a.d}",
                        "{'a':{'b':{'c':'C','z':[1,{'y':2}]},'x':3,'d':'D'}}", "C|D"),
                arguments("${request.body.a.b.c}|${request.body.a.d}",
                        "{'a':{'d':'D','b':{'x':[{}],'c':'C'}}}", "C|D"),
                arguments("prefix ${request.body.a} suffix", "{'a':true}", "prefix true suffix"),
                // escapes in the literal text
                arguments("\\$${request.body.a}", "{'a':'5'}", "$5"),
                arguments("\\\\${request.body.a}\\\\", "{'a':'x'}", "\\x\\"),
                arguments("\\${request.body.a}${request.body.b}", "{'a':'1','b':'2'}", "${request.body.a}2"),
                arguments("{${request.body.a}}", "{'a':'braces'}", "{braces}"));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("templates")
    void templateJoinsLiteralTextAndValues(String expression, String message, String expected) {
        assertKey(expected, expression, message);
    }

    static Stream<Arguments> values() {
        return Stream.of(
                arguments("'text'", "text"),
                arguments("1", "1"),
                arguments("-0", "-0"),
                arguments("1.50", "1.50"),
                arguments("1e3", "1e3"),
                arguments("-2.5E+10", "-2.5E+10"),
                arguments("123456789012345678901234567890", "123456789012345678901234567890"),
                arguments("true", "true"),
                arguments("false", "false"),
                arguments("null", null),
                arguments("{}", null),
                arguments("{'a':'b'}", null),
                arguments("[]", null),
                arguments("['a']", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("values")
    void scalarGivesItsTextAndNullObjectOrArrayGiveNoKey(String value, String expected) {
        assertKey(expected, "$request.body.v", "{'v':" + value + "}");
        assertKey(expected == null ? null : "<" + expected + "|x>", "<${request.body.v}|${request.body.w}>",
                "{'v':" + value + ",'w':'x'}");
    }

    static Stream<Arguments> messagesWithoutKey() {
        return Stream.of(
                arguments("empty", ""),
                arguments("whitespace", "  \n "),
                arguments("plain text", "hello"),
                arguments("text starting with a brace", "{hello}"),
                arguments("byte order mark", "\uFEFF{'action':'join'}"),
                arguments("top-level array", "[{'action':'join'}]"),
                arguments("top-level string", "'action'"),
                arguments("top-level number", "42"),
                arguments("top-level null", "null"),
                arguments("empty object", "{}"),
                arguments("missing key", "{'other':'join'}"),
                arguments("truncated before the value", "{'action':"),
                arguments("truncated in the value", "{'action':'jo"),
                arguments("malformed before the value", "{'x':tru,'action':'join'}"),
                arguments("unquoted key", "{action:'join'}"),
                arguments("single-quoted JSON", "{`action`:`join`}"),
                arguments("comment", "{/*c*/'action':'join'}"),
                arguments("NaN before the value", "{'x':NaN,'action':'join'}"),
                arguments("bad escape in the value", "{'action':'\\q'}"),
                arguments("control character in the value", "{'action':'a\u0001'}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("messagesWithoutKey")
    void messageThatIsNotAnObjectWithTheKeyHasNoKey(String what, String message) {
        assertKey(null, "$request.body.action", message);
        assertKey(null, "${request.body.action}:${request.body.x}", message);
    }

    @Test
    void invalidUtf8BeforeTheValueGivesNoKey() {
        byte[] utf8 = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', ',', '"', 'a', '"', ':', '"', 'b', '"', '}'};

        assertEquals(Optional.empty(), SelectionExpression.parse("$request.body.a").evaluate(utf8, 0, utf8.length));
    }

    static Stream<Arguments> duplicates() {
        return Stream.of(
                arguments("$request.body.action", "{'action':'first','action':'second'}", "first"),
                arguments("$request.body.action", "{'action':null,'action':'second'}", null),
                arguments("$request.body.m.t", "{'m':{'x':1},'m':{'t':'second'}}", null),
                arguments("$request.body.m.t", "{'m':{'t':'first','t':'second'}}", "first"),
                arguments("${request.body.a}${request.body.b}", "{'a':'1','a':'2','b':'3','b':'4'}", "13"),
                arguments("${request.body.m.t}${request.body.z}", "{'m':{'t':'1'},'m':{'t':'2'},'z':'3'}", "13"),
                arguments("${request.body.m.t}${request.body.z}", "{'m':{'u':'1'},'m':{'t':'2'},'z':'3'}", null));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("duplicates")
    void firstOccurrenceOfADuplicateKeyWins(String expression, String message, String expected) {
        assertKey(expected, expression, message);
    }

    @Test
    void valueBeforeDeepNestingIsFoundAndDeepNestingBeforeTheValueGivesNoKey() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);

        assertKey("found", "$request.body.action", "{'action':'found','deep':" + deep + "}");
        assertKey("found", "$request.body.action", "{'action':'found','deep':" + "{'a':".repeat(100_000));
        assertKey("1/2", "${request.body.a}/${request.body.b}", "{'a':1,'b':2,'deep':" + deep + "}");
        assertKey(null, "$request.body.action", "{'deep':" + deep + ",'action':'late'}");
        assertKey(null, "${request.body.a}/${request.body.b}", "{'a':1,'deep':" + deep + ",'b':2}");
    }

    @Test
    void nestingUpToTheBoundIsRead() {
        int levels = SelectionExpression.MAX_NESTING_DEPTH;
        String path = "$request.body" + ".a".repeat(levels);
        String open = "{'a':".repeat(levels - 1);
        String close = "}".repeat(levels);

        assertKey("bottom", path, open + "{'b':1,'a':'bottom'" + close);
        assertKey(null, path, open + "{'b':[],'a':'bottom'" + close);
    }

    @Test
    void readingStopsOnceEveryValueIsFound() {
        String garbage = "@".repeat(8 << 20); // not JSON, and never closed: reading it would fail

        assertKey("join", "$request.body.action", "{'action':'join','rest':" + garbage);
        assertKey("chat/join", "${request.body.service}/${request.body.action}",
                "{'action':'join','service':'chat',  " + garbage);
        assertKey("C|D", "${request.body.a.b.c}|${request.body.a.d}", "{'a':{'d':'D','b':{'c':'C'," + garbage);
        assertKey("x", "$request.body.items[1]", "{'items':[{'a':[]},'x'," + garbage);
    }

    @Test
    void readingStopsOnceAValueIsKnownMissing() {
        String garbage = "@".repeat(1 << 20);

        assertKey(null, "${request.body.a}${request.body.b}", "{'a':{}," + garbage);
        assertKey(null, "$request.body.m.t", "{'m':{'x':1},'m':{'t':'y'}," + garbage);
    }

    @Test
    void arbitraryBytesNeverThrow() {
        SelectionExpression single = SelectionExpression.parse("$request.body.a[1].b");
        SelectionExpression template = SelectionExpression.parse("${request.body.a[1].b}${request.body.c}");
        byte[] alphabet = json("{}[]:,'abc01-.e\\ntrufalsn \u00e9").getBytes(UTF_8);
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] message = new byte[1 + random.nextInt(40)];
            message[0] = '{';
            for (int j = 1; j < message.length; j++) {
                message[j] = random.nextInt(8) == 0 ? (byte) random.nextInt(256)
                        : alphabet[random.nextInt(alphabet.length)];
            }
            single.evaluate(message, 0, message.length);
            template.evaluate(message, 0, message.length);
        }
    }

    @Test
    void outOfRangeSliceIsRejected() {
        SelectionExpression e = SelectionExpression.parse("$request.body.a");
        byte[] utf8 = new byte[4];

        assertThrows(IndexOutOfBoundsException.class, () -> e.evaluate(utf8, 3, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> e.evaluate(utf8, -1, 1));
    }

    static Stream<Arguments> badExpressions() {
        return Stream.of(
                arguments("", "expected: $request.body.<path> or a template with ${request.body.<path>}"),
                arguments("chat", "expected: at least one ${request.body.<path>}"),
                arguments("\\$request.body.a", "expected: at least one ${request.body.<path>}"),
                arguments("${request.body.action", "expected: a closing } at 21"),
                arguments("${request.body.a/b}", "expected: a closing } at 16"),
                arguments("x${request.body.a[0]", "expected: a closing } at 20"),
                arguments("$request.header.x", "expected: $request.body.<path> at 0"),
                arguments("$context.x", "expected: $request.body.<path> at 0"),
                arguments("$request.body", "expected: $request.body.<path> at 0"),
                arguments("${request.header.x}", "expected: ${request.body.<path>} at 0"),
                arguments("a/${context.x}", "expected: ${request.body.<path>} at 2"),
                arguments("${request.body}", "expected: ${request.body.<path>} at 0"),
                arguments("$request.body.", "expected: a name at 14"),
                arguments("${request.body.}", "expected: a name at 15"),
                arguments("$request.body.a..b", "expected: a name at 16"),
                arguments("$request.body.[0]", "expected: a name at 14"),
                arguments("$request.body.a.", "expected: a name at 16"),
                arguments("${request.body.a.}", "expected: a name at 17"),
                arguments("$request.body.a b", "expected: ., [ or the end at 15"),
                arguments("$request.body.a}", "expected: ., [ or the end at 15"),
                arguments("$request.body.é", "expected: a name at 14"),
                arguments("$request.body.items[x]", "expected: an index of 0 or more at 20"),
                arguments("$request.body.items[-1]", "expected: an index of 0 or more at 20"),
                arguments("$request.body.items[]", "expected: an index of 0 or more at 20"),
                arguments("$request.body.items[1x]", "expected: a closing ] at 21"),
                arguments("$request.body.items[1", "expected: a closing ] at 21"),
                arguments("$request.body.items[2147483648]", "expected: an index up to 2147483647 at 20"),
                arguments("$request.body.items[99999999999999999999]", "expected: an index up to 2147483647 at 20"),
                arguments("$", "expected: ${ or \\$ at 0"),
                arguments("$1", "expected: ${ or \\$ at 0"),
                arguments("a$", "expected: ${ or \\$ at 1"),
                arguments("${request.body.a}$b", "expected: ${ or \\$ at 17"),
                arguments("${request.body.a}/$request.body.b", "expected: ${ or \\$ at 18"),
                arguments("$$request.body.a", "expected: ${ or \\$ at 0"),
                arguments("\\", "expected: \\$ or \\\\ at 0"),
                arguments("a\\b${request.body.a}", "expected: \\$ or \\\\ at 1"),
                arguments("${request.body.a}\\", "expected: \\$ or \\\\ at 17"),
                arguments("${request.body.a}${request.body.a.b}",
                        "path a.b lies inside path a, so they never both have a value"),
                arguments("${request.body.a.b}${request.body.a}",
                        "path a.b lies inside path a, so they never both have a value"),
                arguments("${request.body.a[0]}${request.body.a[0][1]}",
                        "path a[0][1] lies inside path a[0], so they never both have a value"),
                arguments("${request.body.a.b}${request.body.a[0]}",
                        "paths a.b and a[0] need one value to be both an object and an array"),
                arguments("${request.body.a[0]}${request.body.a.b}",
                        "paths a[0] and a.b need one value to be both an object and an array"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("badExpressions")
    void badExpressionIsRejectedWithItsProblem(String expression, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SelectionExpression.parse(expression));

        assertEquals("selection: \"" + expression + "\" (" + problem + ")", e.getMessage());
    }

    @Test
    void nullExpressionIsRejected() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> SelectionExpression.parse(null));

        assertEquals("selection", e.getMessage());
    }

    @Test
    void expressionIsItsTextAndEqualsTheSameText() {
        String text = "${request.body.service}/${request.body.action}";
        SelectionExpression e = SelectionExpression.parse(text);

        assertEquals(text, e.toString());
        assertEquals(SelectionExpression.parse(text), e);
        assertEquals(SelectionExpression.parse(text).hashCode(), e.hashCode());
        assertNotEquals(SelectionExpression.parse("$request.body.action"), SelectionExpression.parse("${request.body.action}"));
        assertNotEquals(SelectionExpression.parse("$request.body.action"), (Object) "$request.body.action");
    }
}
