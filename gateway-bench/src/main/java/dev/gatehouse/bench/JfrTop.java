package dev.gatehouse.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises the CPU samples ({@code jdk.ExecutionSample}) of a JFR recording: the methods most often on
 * top of the stack (self time), the methods most often anywhere on it (total time), and the self time by
 * code base. Usage: {@code jfr-top FILE [--top N] [--thread PREFIX]}.
 */
final class JfrTop {

    private JfrTop() {
    }

    static void main(String[] args) throws IOException {
        if (args.length == 0) {
            throw new UsageException("jfr-top: FILE is required");
        }
        Path file = Path.of(args[0]);
        int top = 25;
        String thread = "";
        for (int i = 1; i < args.length; i += 2) {
            switch (args[i]) {
                case "--top":
                    top = Args.integer("--top", Args.value(args, i), 1);
                    break;
                case "--thread":
                    thread = Args.value(args, i);
                    break;
                default:
                    throw new UsageException("jfr-top: unknown option " + args[i]);
            }
        }
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> total = new HashMap<>();
        Map<String, Integer> byArea = new HashMap<>();
        Map<String, Integer> byThread = new HashMap<>();
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                continue;
            }
            String threadName = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
            if (threadName == null || !threadName.startsWith(thread)) {
                continue;
            }
            RecordedStackTrace stack = e.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
                continue;
            }
            samples++;
            byThread.merge(threadName.replaceAll("-?\\d+$", ""), 1, Integer::sum);
            List<RecordedFrame> frames = stack.getFrames();
            String topMethod = name(frames.get(0).getMethod());
            self.merge(topMethod, 1, Integer::sum);
            byArea.merge(area(topMethod), 1, Integer::sum);
            Set<String> seen = new HashSet<>();
            for (RecordedFrame f : frames) {
                String m = name(f.getMethod());
                if (seen.add(m)) {
                    total.merge(m, 1, Integer::sum);
                }
            }
        }
        System.out.println(file + ": " + samples + " execution samples" + (thread.isEmpty() ? "" : " on threads " + thread + "*"));
        print("self time by code base", byArea, samples, top, Function.identity());
        print("samples by thread pool", byThread, samples, top, Function.identity());
        print("top methods, self time", self, samples, top, Function.identity());
        print("top methods, total time (on the stack)", total, samples, top, Function.identity());
    }

    private static void print(String title, Map<String, Integer> counts, int samples, int top, Function<String, String> label) {
        System.out.println();
        System.out.println(title + ":");
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .limit(top)
                .forEach(en -> System.out.println(String.format(Locale.ROOT, "  %5.1f%%  %6d  %s",
                        100.0 * en.getValue() / Math.max(1, samples), en.getValue(), label.apply(en.getKey()))));
    }

    private static String name(RecordedMethod m) {
        return m.getType().getName() + "." + m.getName();
    }

    /** The code base a method belongs to, by package. */
    static String area(String method) {
        if (method.startsWith("dev.gatehouse.")) {
            return "gatehouse";
        }
        if (method.startsWith("org.eclipse.jetty.websocket.")) {
            return "jetty websocket";
        }
        if (method.startsWith("org.eclipse.jetty.")) {
            return "jetty (io, http, util, server, client)";
        }
        if (method.startsWith("sun.nio.") || method.startsWith("java.nio.") || method.startsWith("sun.net.")) {
            return "jdk nio";
        }
        if (method.startsWith("java.") || method.startsWith("jdk.") || method.startsWith("sun.")) {
            return "jdk other";
        }
        return "other";
    }
}
