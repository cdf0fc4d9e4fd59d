package dev.gatehouse.bench.jmh;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.gatehouse.internal.SelectionExpression;

/**
 * A WebSocket API route's selection expression evaluated on one text message's UTF-8 bytes, as the engine
 * does for every message. {@code expression} is the common {@code $request.body.action} or a two-part
 * template; {@code message} is a small object with the key first, the same with the key after a 2 KiB
 * payload, or plain text that is not JSON.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SelectionExpressionBenchmark {

    /** The expression. */
    @Param({"$request.body.action", "${request.body.service}/${request.body.action}"})
    public String expression;

    /** The message's shape. */
    @Param({"small", "late", "text"})
    public String message;

    private SelectionExpression selection;
    private byte[] utf8;

    /** Parses the expression and builds the message. */
    @Setup
    public void setUp() {
        selection = SelectionExpression.parse(expression);
        String text;
        switch (message) {
            case "small":
                text = "{\"action\":\"sendmessage\",\"service\":\"chat\",\"data\":\"hello\"}";
                break;
            case "late":
                text = "{\"data\":{\"text\":\"" + "x".repeat(2048) + "\",\"tags\":[1,2,3]},"
                        + "\"service\":\"chat\",\"action\":\"sendmessage\"}";
                break;
            default:
                text = "hello, this is not JSON";
        }
        utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (!message.equals("text") && selection.evaluate(utf8, 0, utf8.length).isEmpty()) {
            throw new IllegalStateException("no route key in " + text);
        }
    }

    /** One evaluation. */
    @Benchmark
    public Optional<String> evaluate() {
        return selection.evaluate(utf8, 0, utf8.length);
    }
}
