package dev.gatehouse.bench;

import java.util.Locale;

/** A target from issue 3: a bound on the gateway's figure or on its ratio to the direct one. */
final class Goal {

    /** How a goal compares. */
    private enum Kind { NONE, RATIO_AT_LEAST, RATIO_AT_MOST, GATEWAY_AT_MOST }

    private static final Goal NONE = new Goal(Kind.NONE, 0, "");

    private final Kind kind;
    private final double bound;
    private final String unit;

    private Goal(Kind kind, double bound, String unit) {
        this.kind = kind;
        this.bound = bound;
        this.unit = unit;
    }

    /** No target: the row is informative. */
    static Goal none() {
        return NONE;
    }

    /** gateway / direct ≥ bound (throughput-like figures). */
    static Goal ratioAtLeast(double bound) {
        return new Goal(Kind.RATIO_AT_LEAST, bound, "");
    }

    /** gateway / direct ≤ bound (latency-like figures). */
    static Goal ratioAtMost(double bound) {
        return new Goal(Kind.RATIO_AT_MOST, bound, "");
    }

    /** The gateway's figure ≤ bound, in {@code unit}. */
    static Goal gatewayAtMost(double bound, String unit) {
        return new Goal(Kind.GATEWAY_AT_MOST, bound, unit);
    }

    /** How the table shows the goal, e.g. {@code ≥ 0.60×} or {@code ≤ 14 µs}. */
    String label() {
        switch (kind) {
            case RATIO_AT_LEAST:
                return "≥ " + ratio(bound) + "×";
            case RATIO_AT_MOST:
                return "≤ " + ratio(bound) + "×";
            case GATEWAY_AT_MOST:
                return "≤ " + number(bound) + unit;
            default:
                return "-";
        }
    }

    /** {@code met}, {@code MISSED}, {@code -} without a goal, or {@code n/a} when a figure is missing. */
    String verdict(double direct, double gateway) {
        if (kind == Kind.NONE) {
            return "-";
        }
        boolean needsDirect = kind == Kind.RATIO_AT_LEAST || kind == Kind.RATIO_AT_MOST;
        if (Double.isNaN(gateway) || (needsDirect && (Double.isNaN(direct) || direct == 0))) {
            return "n/a";
        }
        double r = gateway / direct;
        boolean met;
        switch (kind) {
            case RATIO_AT_LEAST:
                met = r >= bound;
                break;
            case RATIO_AT_MOST:
                met = r <= bound;
                break;
            default:
                met = gateway <= bound; // GATEWAY_AT_MOST
        }
        return met ? "met" : "MISSED";
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2f", r);
    }

    private static String number(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) + " " : String.format(Locale.ROOT, "%.1f ", v);
    }
}
