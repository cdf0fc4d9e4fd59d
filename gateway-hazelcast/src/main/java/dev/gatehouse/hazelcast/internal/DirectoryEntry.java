package dev.gatehouse.hazelcast.internal;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A connection in the directory map, keyed by its id: the member that holds it, its user and its groups.
 * Immutable. Its getters are what the directory's queries read ({@code node}, {@code user},
 * {@code groups[any]}).
 */
public final class DirectoryEntry implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String node;
    private final String user; // null when anonymous
    private final String[] groups;

    /** An entry of a connection held by member {@code node}; {@code user} is null when anonymous. */
    public DirectoryEntry(String node, String user, Set<String> groups) {
        this.node = node;
        this.user = user;
        this.groups = groups.toArray(new String[0]);
    }

    /** The member's UUID. */
    public String getNode() {
        return node;
    }

    /** The connection's user, or null when anonymous. */
    public String getUser() {
        return user;
    }

    /** The connection's groups. */
    public String[] getGroups() {
        return groups.clone();
    }

    /** This entry with a group added or removed. */
    DirectoryEntry withGroup(String group, boolean member) {
        Set<String> set = new LinkedHashSet<>(Arrays.asList(groups));
        if (member) {
            set.add(group);
        } else {
            set.remove(group);
        }
        return new DirectoryEntry(node, user, set);
    }

    @Override
    public String toString() {
        return "DirectoryEntry[node=" + node + ", groups=" + groups.length + "]";
    }
}
