package dev.gatehouse.bench;

/** A bad command line: the message names the option and what was expected. */
final class UsageException extends RuntimeException {

    UsageException(String message) {
        super(message);
    }
}
