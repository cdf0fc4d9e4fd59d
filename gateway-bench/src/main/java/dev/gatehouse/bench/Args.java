package dev.gatehouse.bench;

import java.time.Duration;
import java.util.Locale;

/** Parsing helpers shared by the orchestrator's and the roles' command lines. */
final class Args {

    private Args() {
    }

    /** The value after an option at {@code i}; throws naming the option if there is none. */
    static String value(String[] args, int i) {
        if (i + 1 >= args.length) {
            throw new UsageException(args[i] + ": missing value");
        }
        return args[i + 1];
    }

    /** A positive-or-zero integer option value. */
    static int integer(String option, String value, int min) {
        try {
            int n = Integer.parseInt(value);
            if (n < min) {
                throw new UsageException(option + ": " + value + " (expected: >= " + min + ")");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(option + ": " + value + " (expected: an integer)");
        }
    }

    /**
     * A duration such as {@code 500ms}, {@code 5s}, {@code 2m}, or a bare number of seconds.
     *
     * @throws UsageException naming the option
     */
    static Duration duration(String option, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            Duration d;
            if (v.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            } else if (v.endsWith("s")) {
                d = Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
            } else if (v.endsWith("m")) {
                d = Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 60_000));
            } else {
                d = Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
            }
            if (d.isNegative()) {
                throw new UsageException(option + ": " + value + " (expected: >= 0)");
            }
            return d;
        } catch (NumberFormatException e) {
            throw new UsageException(option + ": " + value + " (expected: a duration such as 500ms, 5s or 2m)");
        }
    }
}
