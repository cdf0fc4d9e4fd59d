package dev.gatehouse.internal;

import dev.gatehouse.GatewayException;

/**
 * An integration answered, but with something the gateway cannot use: a status other than 2xx to a
 * message, a redirect to {@code $connect}, a body over its limit. A message's client gets the
 * "Internal server error" frame; a {@code $connect}'s client gets 502.
 */
public final class IntegrationAnswerException extends GatewayException {

    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message must not quote the integration's URL, which may hold a secret. */
    public IntegrationAnswerException(String message) {
        super(message);
    }
}
