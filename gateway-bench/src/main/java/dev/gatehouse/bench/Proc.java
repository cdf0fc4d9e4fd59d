package dev.gatehouse.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Reads what Linux's {@code /proc} says about a process: CPU time ({@code stat}), resident memory
 * ({@code status}) and the open-file limit ({@code limits}). The parsers take the files' text so that
 * they can be tested on samples.
 */
final class Proc {

    private static final long CLOCK_TICKS = clockTicks();

    private Proc() {
    }

    /** The CPU time, user plus system, of every thread of a live process, in nanoseconds. */
    static long cpuNanos(long pid) {
        return cpuTicks(read(Path.of("/proc", Long.toString(pid), "stat"))) * (TimeUnit.SECONDS.toNanos(1) / CLOCK_TICKS);
    }

    /** The system (kernel) part of {@link #cpuNanos(long)}. */
    static long systemCpuNanos(long pid) {
        return systemTicks(read(Path.of("/proc", Long.toString(pid), "stat"))) * (TimeUnit.SECONDS.toNanos(1) / CLOCK_TICKS);
    }

    /** The resident set size of a live process, in bytes. */
    static long rssBytes(long pid) {
        return rssKiB(read(Path.of("/proc", Long.toString(pid), "status"))) * 1024;
    }

    /** The number of threads of a live process. */
    static long threads(long pid) {
        return statusField(read(Path.of("/proc", Long.toString(pid), "status")), "Threads:");
    }

    /** The soft limit on open files of a live process. */
    static long maxOpenFiles(long pid) {
        return maxOpenFiles(read(Path.of("/proc", Long.toString(pid), "limits")));
    }

    /** The clock ticks per second that {@code /proc/<pid>/stat} counts in. */
    static long clockTicksPerSecond() {
        return CLOCK_TICKS;
    }

    /**
     * {@code utime + stime} from the text of {@code /proc/<pid>/stat}. The command name (field 2) may hold
     * spaces and parentheses, so fields are counted from the last {@code ')'}.
     *
     * @throws IllegalArgumentException if the text is not a stat line
     */
    static long cpuTicks(String stat) {
        String[] fields = statFields(stat);
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** {@code stime} alone from the text of {@code /proc/<pid>/stat}; see {@link #cpuTicks(String)}. */
    static long systemTicks(String stat) {
        return Long.parseLong(statFields(stat)[12]);
    }

    /** The fields after the command name: [0] is field 3 (state), utime and stime (14, 15) are [11] and [12]. */
    private static String[] statFields(String stat) {
        int end = stat.lastIndexOf(')');
        if (end < 0) {
            throw new IllegalArgumentException("stat: no command name in " + abbreviate(stat));
        }
        String[] fields = stat.substring(end + 1).trim().split("\\s+");
        if (fields.length < 13) {
            throw new IllegalArgumentException("stat: " + fields.length + " fields after the command name (expected: >= 13)");
        }
        return fields;
    }

    /**
     * {@code VmRSS} from the text of {@code /proc/<pid>/status}, in KiB.
     *
     * @throws IllegalArgumentException if there is no VmRSS line
     */
    static long rssKiB(String status) {
        return statusField(status, "VmRSS:");
    }

    /** The number at the start of a {@code /proc/<pid>/status} field, such as {@code VmRSS:} (in kB) or {@code Threads:}. */
    static long statusField(String status, String name) {
        for (String line : status.split("\n")) {
            if (line.startsWith(name)) {
                String[] parts = line.substring(name.length()).trim().split("\\s+");
                try {
                    return Long.parseLong(parts[0]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("status: unexpected line \"" + line + "\"", e);
                }
            }
        }
        throw new IllegalArgumentException("status: no " + name + " line");
    }

    /**
     * The soft {@code Max open files} limit from the text of {@code /proc/<pid>/limits};
     * {@link Long#MAX_VALUE} for {@code unlimited}.
     *
     * @throws IllegalArgumentException if there is no such line
     */
    static long maxOpenFiles(String limits) {
        for (String line : limits.split("\n")) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        throw new IllegalArgumentException("limits: no \"Max open files\" line");
    }

    /** A line of {@code /proc/meminfo} or {@code /proc/cpuinfo}, such as {@code MemTotal}; empty if absent. */
    static String field(Path file, String name) {
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
        } catch (IOException e) {
            // not on Linux: nothing to report
        }
        return "";
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " (the benchmark needs Linux's /proc)", e);
        }
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
                long ticks = Long.parseLong(out);
                if (ticks > 0 && TimeUnit.SECONDS.toNanos(1) % ticks == 0) {
                    return ticks;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to Linux's USER_HZ
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }
}
