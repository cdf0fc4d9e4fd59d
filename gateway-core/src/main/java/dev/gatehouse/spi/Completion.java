package dev.gatehouse.spi;

/**
 * The outcome of an asynchronous operation: exactly one of the two methods is called, exactly once, on
 * any thread.
 */
public interface Completion {

    /** The operation completed. */
    void succeeded();

    /** The operation failed. */
    void failed(Throwable cause);
}
