package dev.gatehouse.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The result table, printed as Markdown so that it can go into the README as it is. */
final class Table {

    static final List<String> HEADER = List.of("scenario", "metric", "direct", "gateway", "ratio", "target", "verdict");

    /** One line of the table. */
    record Row(String scenario, String metric, String direct, String gateway, String ratio, String target,
            String verdict) {

        List<String> cells() {
            return List.of(scenario, metric, direct, gateway, ratio, target, verdict);
        }
    }

    private Table() {
    }

    /** The rows as a Markdown table with aligned columns; numeric columns are right-aligned. */
    static String markdown(List<Row> rows) {
        List<List<String>> lines = new ArrayList<>();
        lines.add(HEADER);
        for (Row r : rows) {
            lines.add(r.cells());
        }
        int[] width = new int[HEADER.size()];
        for (List<String> line : lines) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], line.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int n = 0; n < lines.size(); n++) {
            List<String> line = lines.get(n);
            sb.append('|');
            for (int i = 0; i < width.length; i++) {
                boolean right = n > 0 && i >= 2 && i <= 4;
                sb.append(' ').append(pad(line.get(i), width[i], right)).append(" |");
            }
            sb.append('\n');
            if (n == 0) {
                sb.append('|');
                for (int i = 0; i < width.length; i++) {
                    boolean right = i >= 2 && i <= 4;
                    sb.append(right ? "-".repeat(width[i] + 1) + ":|" : "-".repeat(width[i] + 2) + "|");
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    /** A count or rate with thousands separators, e.g. {@code 45,120}. */
    static String count(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,d", Math.round(v));
    }

    /** A figure with one decimal, e.g. {@code 12.3}. */
    static String decimal(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,.1f", v);
    }

    /** gateway / direct with two decimals. */
    static String ratio(double direct, double gateway) {
        if (Double.isNaN(direct) || Double.isNaN(gateway) || direct == 0) {
            return "-";
        }
        return Goal.ratio(gateway / direct);
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(Math.max(0, width - s.length()));
        return right ? fill + s : s + fill;
    }
}
