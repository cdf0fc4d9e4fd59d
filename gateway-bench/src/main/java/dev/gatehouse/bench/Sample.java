package dev.gatehouse.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The figures one run measured, by name (see each load's class for its names), with its errors: failed
 * connections, lost messages, wrong echoes. A run that errs still reports its figures.
 */
final class Sample {

    private final Scenario scenario;
    private final Side side;
    private final int round;
    private final Map<String, Double> values = new LinkedHashMap<>(); // figures in the order recorded
    private final List<String> errors = new ArrayList<>();

    Sample(Scenario scenario, Side side, int round) {
        this.scenario = scenario;
        this.side = side;
        this.round = round;
    }

    Scenario scenario() {
        return scenario;
    }

    Side side() {
        return side;
    }

    int round() {
        return round;
    }

    void put(String name, double value) {
        values.put(name, value);
    }

    /** A figure, or {@code NaN} if this run did not measure it. */
    double get(String name) {
        Double v = values.get(name);
        return v == null ? Double.NaN : v;
    }

    /** Records an error; the run's verdicts become FAILED. */
    void error(String message) {
        errors.add(message);
    }

    List<String> errors() {
        return List.copyOf(errors);
    }

    /** One line with every figure and error, for the details section. */
    String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(scenario.flag()).append(" round ").append(round).append(' ').append(side).append(':');
        values.forEach((k, v) -> sb.append(' ').append(k).append('=').append(format(v)));
        for (String e : errors) {
            sb.append(" ERROR: ").append(e);
        }
        return sb.toString();
    }

    private static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.1f" : "%.3f", v);
    }
}
