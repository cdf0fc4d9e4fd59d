package dev.gatehouse.jetty.internal;

import static java.util.Objects.requireNonNull;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.GatewayException;

/**
 * A frame that breaks RFC 6455 or the limits a {@link FrameParser} was given. It carries the close status
 * to send to the peer that sent the frame: 1002 for a protocol error, 1007 for a CLOSE reason that is not
 * UTF-8, 1009 for a payload over the limit, each with a short reason that fits a CLOSE frame.
 *
 * <p>It is the peer's fault, not the gateway's, so it records no stack trace: a peer can cause one per
 * connection, and the trace would always be the parser's.
 */
final class FrameException extends GatewayException {

    private static final long serialVersionUID = 1L;

    /** The status to close the offending connection with; never changes after construction. */
    private final CloseStatus status;

    FrameException(CloseStatus status) {
        super(requireNonNull(status, "status").toString());
        this.status = status;
    }

    /** A 1002 protocol error with the given reason. */
    static FrameException protocol(String reason) {
        return new FrameException(CloseStatus.of(1002, reason));
    }

    /** The close status for the peer that sent the frame: the code and a reason of at most 123 bytes. */
    CloseStatus status() {
        return status;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // see the class comment
    }
}
