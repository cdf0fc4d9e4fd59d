package dev.gatehouse;

/**
 * The root of every exception that Gatehouse throws at run time. Configuration mistakes are reported as
 * {@link IllegalArgumentException} or {@link IllegalStateException} when a builder's {@code build()} runs.
 */
public class GatewayException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Creates an exception with a message. */
    public GatewayException(String message) {
        super(message);
    }

    /** Creates an exception with a message and a cause. */
    public GatewayException(String message, Throwable cause) {
        super(message, cause);
    }
}
