package dev.gatehouse.internal;

import dev.gatehouse.GatewayException;

/** A broken contract inside the gateway: a policy returning null, a chain proceeded twice. */
final class GatewayStateException extends GatewayException {

    private static final long serialVersionUID = 1L;

    GatewayStateException(String message) {
        super(message);
    }
}
