package dev.gatehouse.examples;

/**
 * A command-line mistake of the standalone runner. Its message is one line that names the flag, e.g.
 * {@code --idle-timeout: bad duration "abc" (expected e.g. 500ms, 30s, 5m)}; the runner prints it after
 * {@code error: } and exits with status 2.
 */
final class UsageException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private UsageException(String message) {
        super(oneLine(message));
    }

    /** A problem with one flag's value or use. */
    static UsageException of(String flag, String problem) {
        return new UsageException(flag + ": " + problem);
    }

    /** A problem with one flag, reported by a Gatehouse builder that validated its value. */
    static UsageException of(String flag, RuntimeException rejected) {
        String message = rejected.getMessage();
        return of(flag, message == null || message.isBlank() ? rejected.getClass().getSimpleName() : message);
    }

    /** A problem that concerns no single flag. */
    static UsageException general(String problem) {
        return new UsageException(problem);
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
