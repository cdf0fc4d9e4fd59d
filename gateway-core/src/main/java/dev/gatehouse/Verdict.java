package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The decision of a handshake step: {@link Allow} lets the upgrade go on with a (possibly changed)
 * handshake, {@link Reject} ends it with an HTTP response before any {@code 101}.
 */
public sealed interface Verdict {

    /** Lets the handshake go on. */
    static Verdict allow(Handshake handshake) {
        return new Allow(handshake);
    }

    /** Rejects the handshake with the kind's default status. */
    static Reject reject(Rejection kind, String message) {
        return new Reject(kind, kind.status(), message, Map.of());
    }

    /**
     * Continues the handshake.
     *
     * @param handshake the handshake as the next step, and finally the backend, will see it
     */
    record Allow(Handshake handshake) implements Verdict {
        /** Checks the handshake is present. */
        public Allow {
            requireNonNull(handshake, "handshake");
        }
    }

    /**
     * Ends the handshake with an HTTP response whose body is
     * {@code {"error":"<kind.error()>","message":"<message>","requestId":"<id>"}}.
     *
     * @param kind    what went wrong
     * @param status  the HTTP status, 400-599
     * @param message human-readable text for the client; never a secret
     * @param headers extra response headers, e.g. {@code WWW-Authenticate} or {@code Retry-After}
     */
    record Reject(Rejection kind, int status, String message, Map<String, String> headers) implements Verdict {
        /** Validates the status and copies the headers. */
        public Reject {
            requireNonNull(kind, "kind");
            requireNonNull(message, "message");
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException("status: " + status + " (expected: 400-599)");
            }
            headers = Map.copyOf(requireNonNull(headers, "headers"));
        }

        /** Returns this rejection with another status. */
        public Reject withStatus(int status) {
            return new Reject(kind, status, message, headers);
        }

        /** Returns this rejection with one more response header. */
        public Reject withHeader(String name, String value) {
            Map<String, String> copy = new LinkedHashMap<>(headers);
            copy.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
            return new Reject(kind, status, message, copy);
        }
    }
}
