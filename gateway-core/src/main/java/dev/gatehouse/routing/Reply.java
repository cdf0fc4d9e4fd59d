package dev.gatehouse.routing;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

import dev.gatehouse.Audience;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.Message;

/**
 * An integration's answer to one event. To a message: nothing ({@link #none()}), a message to the client
 * ({@link #send}), or closing the connection ({@link #close}). To {@code $connect}: admit the client
 * ({@link #none()} or {@link #accept()}, which may set its user, groups and subprotocol) or refuse it
 * with an HTTP status and body ({@link #refuse}). An answer that does not fit its event is treated as a
 * failed integration. Immutable.
 */
public sealed interface Reply permits Reply.None, Reply.Send, Reply.Close, Reply.Accept, Reply.Refuse {

    /** No message to the client; to {@code $connect}, admits it as it is. */
    static Reply none() {
        return None.INSTANCE;
    }

    /** Sends the message to the client. */
    static Reply send(Message message) {
        return new Send(message);
    }

    /** Sends a text message to the client. */
    static Reply text(String text) {
        return new Send(Message.text(text));
    }

    /** Closes the connection with this status (the client gets it; {@code $disconnect} runs). */
    static Reply close(CloseStatus status) {
        return new Close(status);
    }

    /** Admits the client of a {@code $connect}, with no user, groups or subprotocol of its own. */
    static Accept accept() {
        return Accept.PLAIN;
    }

    /**
     * Refuses the client of a {@code $connect}: it gets this status and text body, and no 101.
     *
     * @throws IllegalArgumentException if the status is not 400-599
     */
    static Refuse refuse(int status, String body) {
        return new Refuse(status, Refuse.TEXT, body);
    }

    /**
     * Refuses the client of a {@code $connect} with a body of this content type, e.g. {@code application/json}.
     *
     * @throws IllegalArgumentException if the status is not 400-599 or the content type is empty
     */
    static Refuse refuse(int status, String contentType, String body) {
        return new Refuse(status, contentType, body);
    }

    /** Nothing to send. */
    final class None implements Reply {
        private static final None INSTANCE = new None();

        private None() {
        }

        @Override
        public String toString() {
            return "Reply.none()";
        }
    }

    /**
     * A message for the client.
     *
     * @param message the message
     */
    record Send(Message message) implements Reply {
        /** Checks the message is present. */
        public Send {
            requireNonNull(message, "message");
        }
    }

    /**
     * Closes the connection.
     *
     * @param status what the client gets; must be transmittable
     */
    record Close(CloseStatus status) implements Reply {
        /** Checks the status can be sent. */
        public Close {
            requireNonNull(status, "status");
            if (!status.isTransmittable()) {
                throw new IllegalArgumentException("status: " + status.code() + " (expected: a code that can be sent)");
            }
        }
    }

    /**
     * Admits the client of a {@code $connect}.
     *
     * @param user        the connection's user for the management API; empty: the principal's subject
     * @param groups      groups the connection joins
     * @param subprotocol the subprotocol answered; it must be one the client offered
     */
    record Accept(Optional<String> user, List<String> groups, Optional<String> subprotocol) implements Reply {
        private static final Accept PLAIN = new Accept(Optional.empty(), List.of(), Optional.empty());

        /**
         * Checks every part is present, the user and groups are valid names, and copies the groups.
         *
         * @throws IllegalArgumentException if the user or a group is not a valid name ({@link Audience#checkName})
         */
        public Accept {
            requireNonNull(user, "user");
            user.ifPresent(u -> Audience.checkName(u, "user"));
            groups = List.copyOf(groups);
            groups.forEach(g -> Audience.checkName(g, "groups"));
            requireNonNull(subprotocol, "subprotocol");
        }

        /**
         * This answer with the connection's user.
         *
         * @throws IllegalArgumentException if it is not a valid name ({@link Audience#checkName})
         */
        public Accept withUser(String user) {
            return new Accept(Optional.of(requireNonNull(user, "user")), groups, subprotocol);
        }

        /**
         * This answer with the groups the connection joins.
         *
         * @throws IllegalArgumentException if one is not a valid name ({@link Audience#checkName})
         */
        public Accept withGroups(String... groups) {
            return new Accept(user, List.of(groups), subprotocol);
        }

        /** This answer with the subprotocol to answer the client with. */
        public Accept withSubprotocol(String subprotocol) {
            return new Accept(user, groups, Optional.of(requireNonNull(subprotocol, "subprotocol")));
        }
    }

    /**
     * Refuses the client of a {@code $connect}.
     *
     * @param status      the HTTP status the client gets, 400-599
     * @param contentType the body's content type
     * @param body        the body it gets (at most 8 KiB of UTF-8 are sent)
     */
    record Refuse(int status, String contentType, String body) implements Reply {
        /** The content type of {@link Reply#refuse(int, String)}. */
        static final String TEXT = "text/plain;charset=utf-8";

        /** Checks the status is an error and the rest present. */
        public Refuse {
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException("status: " + status + " (expected: 400-599)");
            }
            requireNonNull(contentType, "contentType");
            if (contentType.isBlank()) {
                throw new IllegalArgumentException("contentType: \"\" (expected: a media type)");
            }
            requireNonNull(body, "body");
        }
    }
}
