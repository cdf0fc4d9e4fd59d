package dev.gatehouse.jetty.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The tests' slf4j binding: prints every line to standard error (which Surefire keeps per test class) and
 * records it, formatted with its stack trace, so that tests can check what was logged. Gatehouse logs at
 * DEBUG, everything else at INFO. The thread's MDC, when it has one, is written before the message:
 * {@code ... logger {key=value, ...} - message}.
 */
public final class RecordingLogProvider implements SLF4JServiceProvider {

    private static final int KEPT = 100_000;
    private static final ConcurrentLinkedDeque<String> LINES = new ConcurrentLinkedDeque<>();

    private final ILoggerFactory loggers = new ILoggerFactory() {
        private final ConcurrentHashMap<String, Logger> byName = new ConcurrentHashMap<>();

        @Override
        public Logger getLogger(String name) {
            return byName.computeIfAbsent(name, RecordingLogger::new);
        }
    };
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private static final MDCAdapter MDC = new BasicMDCAdapter();

    /** Every line logged since the last {@link #clear()}, oldest first. */
    public static List<String> lines() {
        return new ArrayList<>(LINES);
    }

    /**
     * The first line recorded since the last {@link #clear()} that {@code matches}, waiting for it up to 5 s.
     *
     * @throws AssertionError if none is logged in time
     */
    public static String awaitLine(Predicate<String> matches) throws InterruptedException {
        Duration timeout = Duration.ofSeconds(5);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (LINES) {
            while (true) {
                for (String line : LINES) {
                    if (matches.test(line)) {
                        return line;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no such log line within " + timeout);
                }
                TimeUnit.NANOSECONDS.timedWait(LINES, left);
            }
        }
    }

    /** Forgets the recorded lines. */
    public static void clear() {
        LINES.clear();
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return loggers;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return MDC;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {
    }

    private static final class RecordingLogger extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;
        private final int threshold;

        RecordingLogger(String name) {
            this.name = name;
            this.threshold = (name.startsWith("dev.gatehouse") ? Level.DEBUG : Level.INFO).toInt();
        }

        @Override
        public boolean isTraceEnabled() {
            return Level.TRACE.toInt() >= threshold;
        }

        @Override
        public boolean isDebugEnabled() {
            return Level.DEBUG.toInt() >= threshold;
        }

        @Override
        public boolean isInfoEnabled() {
            return Level.INFO.toInt() >= threshold;
        }

        @Override
        public boolean isWarnEnabled() {
            return true;
        }

        @Override
        public boolean isErrorEnabled() {
            return true;
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                Throwable throwable) {
            StringBuilder line = new StringBuilder(128).append(LocalTime.now()).append(' ').append(level)
                    .append(" [").append(Thread.currentThread().getName()).append("] ").append(name);
            java.util.Map<String, String> context = MDC.getCopyOfContextMap();
            if (context != null && !context.isEmpty()) {
                line.append(' ').append(new java.util.TreeMap<>(context));
            }
            line.append(" - ")
                    .append(MessageFormatter.basicArrayFormat(pattern, args));
            if (throwable != null) {
                StringWriter trace = new StringWriter();
                throwable.printStackTrace(new PrintWriter(trace));
                line.append(System.lineSeparator()).append(trace);
            }
            String text = line.toString();
            LINES.add(text);
            while (LINES.size() > KEPT) {
                LINES.pollFirst();
            }
            synchronized (LINES) {
                LINES.notifyAll();
            }
            System.err.println(text);
        }
    }
}
