package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.util.Collection;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Whom a message or a close is addressed to: every connection, a user's connections or a group's members,
 * less some connections by id. Immutable.
 *
 * <pre>{@code
 * gateway.connections().send(Audience.group("room-42").excluding(List.of(senderId)), Message.text(json));
 * }</pre>
 */
public final class Audience {

    /** What an audience is made of. */
    public enum Kind {
        /** Every open connection. */
        ALL,
        /** The connections of one user (see {@link ConnectionInfo#user()}). */
        USER,
        /** The members of one group (see {@link ConnectionInfo#groups()}). */
        GROUP
    }

    /** The longest user id or group name, in characters. */
    public static final int MAX_NAME_LENGTH = 256;

    private static final Audience ALL = new Audience(Kind.ALL, null, Set.of());

    private final Kind kind;
    private final String name;
    private final Set<String> excluded;

    private Audience(Kind kind, String name, Set<String> excluded) {
        this.kind = kind;
        this.name = name;
        this.excluded = excluded;
    }

    /** Every open connection. */
    public static Audience all() {
        return ALL;
    }

    /**
     * The connections of a user.
     *
     * @throws IllegalArgumentException if the id is empty, longer than {@value #MAX_NAME_LENGTH} characters or
     *                                  holds a control character
     */
    public static Audience user(String userId) {
        return new Audience(Kind.USER, checkName(userId, "userId"), Set.of());
    }

    /**
     * The members of a group.
     *
     * @throws IllegalArgumentException if the name is empty, longer than {@value #MAX_NAME_LENGTH} characters
     *                                  or holds a control character
     */
    public static Audience group(String group) {
        return new Audience(Kind.GROUP, checkName(group, "group"), Set.of());
    }

    /** This audience less the connections with these ids (replacing any exclusions it had). */
    public Audience excluding(Collection<String> connectionIds) {
        return new Audience(kind, name, Set.copyOf(requireNonNull(connectionIds, "connectionIds")));
    }

    /** What the audience is made of. */
    public Kind kind() {
        return kind;
    }

    /** The user id or group name; empty for {@link Kind#ALL}. */
    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    /** The ids of the connections left out. */
    public Set<String> excluded() {
        return excluded;
    }

    /**
     * Checks a user id or group name: 1 to {@value #MAX_NAME_LENGTH} characters, none of them a control
     * character.
     *
     * @param what the parameter's name, for the message
     * @return the name
     * @throws IllegalArgumentException if it is not a valid name
     */
    public static String checkName(String name, String what) {
        requireNonNull(name, what);
        if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException(what + ": " + name.length() + " characters (expected: 1 to "
                    + MAX_NAME_LENGTH + ")");
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isISOControl(name.charAt(i))) {
                throw new IllegalArgumentException(what + ": holds a control character at " + i
                        + " (expected: printable text)");
            }
        }
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Audience a && a.kind == kind && Objects.equals(a.name, name)
                && a.excluded.equals(excluded);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, name, excluded);
    }

    @Override
    public String toString() {
        String who = kind == Kind.ALL ? "all" : kind.name().toLowerCase(Locale.ROOT) + " " + name;
        return "Audience[" + who + (excluded.isEmpty() ? "" : ", excluding " + excluded.size()) + "]";
    }
}
