package dev.gatehouse.internal;

import dev.gatehouse.GatewayException;

/**
 * An integration answered, but with something the gateway cannot use: a status other than 2xx to a
 * message, a redirect to {@code $connect}, a body over its limit. A message's client gets the
 * "Internal server error" frame; a {@code $connect}'s client gets 502.
 */
public final class IntegrationAnswerException extends GatewayException {

    private static final long serialVersionUID = 1L;

    private final int status; // the integration's HTTP status when it answered one the gateway cannot use, else 0

    /** Creates the exception; the message must not quote the integration's URL, which may hold a secret. */
    public IntegrationAnswerException(String message) {
        this(message, 0);
    }

    /** Creates the exception for an answer with an unusable HTTP status. */
    public IntegrationAnswerException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The integration's HTTP status when it answered one the gateway cannot use, else 0. */
    public int status() {
        return status;
    }
}
