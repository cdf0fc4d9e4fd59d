package dev.gatehouse;

import static java.util.Objects.requireNonNull;

/**
 * A WebSocket close code and reason, as sent or received in a CLOSE frame.
 *
 * <p>Codes 1005 ({@link #NO_STATUS}) and 1006 ({@link #ABNORMAL}) describe events, not frames: 1005
 * stands for a CLOSE frame without a status, 1006 for a connection lost without a CLOSE frame. The
 * gateway never puts 1004, 1006 or 1015 on the wire; {@link #isTransmittable()} tells which codes may be
 * sent.
 *
 * @param code   the close code: 1000-4999
 * @param reason the reason, possibly empty; at most 123 UTF-8 bytes are sent
 */
public record CloseStatus(int code, String reason) {

    /** 1000: the purpose of the connection has been fulfilled. */
    public static final CloseStatus NORMAL = new CloseStatus(1000, "");
    /** 1001: an endpoint is going away. */
    public static final CloseStatus GOING_AWAY = new CloseStatus(1001, "");
    /** 1005: a CLOSE frame that carried no status code. Sent as an empty CLOSE frame. */
    public static final CloseStatus NO_STATUS = new CloseStatus(1005, "");
    /** 1006: the connection was lost without a CLOSE frame. Never sent. */
    public static final CloseStatus ABNORMAL = new CloseStatus(1006, "");
    /** 1008: a policy was violated. */
    public static final CloseStatus POLICY_VIOLATION = new CloseStatus(1008, "");
    /** 1009: a message was too big to process. */
    public static final CloseStatus MESSAGE_TOO_BIG = new CloseStatus(1009, "message too big");
    /** 1011: the server met an unexpected condition. */
    public static final CloseStatus INTERNAL_ERROR = new CloseStatus(1011, "");
    /** 1012: the service is restarting; the gateway's drain status. */
    public static final CloseStatus SERVICE_RESTART = new CloseStatus(1012, "service restart");
    /** 1013: try again later; the overload status. */
    public static final CloseStatus TRY_AGAIN_LATER = new CloseStatus(1013, "try again later");
    /** 1014: the gateway received an invalid response from, or lost, the backend. */
    public static final CloseStatus BACKEND_UNAVAILABLE = new CloseStatus(1014, "backend unavailable");

    /**
     * Validates the code range and the reason.
     *
     * @throws IllegalArgumentException if {@code code} is outside 1000-4999
     */
    public CloseStatus {
        requireNonNull(reason, "reason");
        if (code < 1000 || code > 4999) {
            throw new IllegalArgumentException("code: " + code + " (expected: 1000-4999)");
        }
    }

    /** Returns a status with the given code and reason. */
    public static CloseStatus of(int code, String reason) {
        return new CloseStatus(code, reason);
    }

    /** Returns a status with the given code and an empty reason. */
    public static CloseStatus of(int code) {
        return new CloseStatus(code, "");
    }

    /** Returns this code with another reason. */
    public CloseStatus withReason(String reason) {
        return new CloseStatus(code, reason);
    }

    /**
     * Whether this code may be sent in a CLOSE frame: 1000-1003, 1007-1014 and 3000-4999. 1005 is not
     * transmittable as a code, but the gateway expresses it as a CLOSE frame without status.
     */
    public boolean isTransmittable() {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }

    @Override
    public String toString() {
        return reason.isEmpty() ? Integer.toString(code) : code + " \"" + reason + "\"";
    }
}
