package dev.gatehouse.balance;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How a {@link BackendGroup} chooses a target for a new connection.
 *
 * <pre>{@code
 * Balance.leastConnections()                    // the default: the fewest live sessions per unit of weight
 * Balance.roundRobin()                          // smooth weighted round robin
 * Balance.hash(Balance.Key.clientAddress())     // the same client address on the same target
 * Balance.hash(Balance.Key.header("X-Tenant"))  // or principal(), query("room")
 * }</pre>
 *
 * <p>Least connections counts the relayed sessions each target has (a dial in progress counts too), and
 * releases a session exactly once when it ends; it suits long-lived WebSocket sessions, where round robin
 * piles new sessions onto targets that already hold the old ones. Consistent hashing maps each key to a point
 * on a ring of the targets' virtual nodes (100 per unit of weight), so that only about 1/N of the keys move
 * when a target joins or leaves; a handshake without the key (no such header, no principal) is balanced by
 * least connections.
 */
public final class Balance {

    /** The policies. */
    public enum Policy {
        /** {@link #leastConnections()} */
        LEAST_CONNECTIONS,
        /** {@link #roundRobin()} */
        ROUND_ROBIN,
        /** {@link #hash(Key)} */
        HASH
    }

    private static final Balance LEAST_CONNECTIONS = new Balance(Policy.LEAST_CONNECTIONS, null);
    private static final Balance ROUND_ROBIN = new Balance(Policy.ROUND_ROBIN, null);

    private final Policy policy;
    private final Key key; // for HASH only

    private Balance(Policy policy, Key key) {
        this.policy = policy;
        this.key = key;
    }

    /** The fewest live sessions per unit of weight; the default. */
    public static Balance leastConnections() {
        return LEAST_CONNECTIONS;
    }

    /** Smooth weighted round robin: each target in turn, as often as its weight says, never in bursts. */
    public static Balance roundRobin() {
        return ROUND_ROBIN;
    }

    /** Consistent hashing on {@code key}: a key stays on its target while the target is healthy. */
    public static Balance hash(Key key) {
        return new Balance(Policy.HASH, requireNonNull(key, "key"));
    }

    /**
     * Parses the config file's spelling: {@code least-connections}, {@code round-robin}, {@code hash:ip},
     * {@code hash:principal}, {@code hash:header:NAME} or {@code hash:query:NAME}.
     *
     * @throws IllegalArgumentException naming the unknown policy
     */
    public static Balance parse(String text) {
        requireNonNull(text, "text");
        String t = text.trim();
        switch (t.toLowerCase(Locale.ROOT)) {
            case "least-connections":
                return leastConnections();
            case "round-robin":
                return roundRobin();
            case "hash:ip":
                return hash(Key.clientAddress());
            case "hash:principal":
                return hash(Key.principal());
            default:
                break;
        }
        if (t.regionMatches(true, 0, "hash:header:", 0, 12) && t.length() > 12) {
            return hash(Key.header(t.substring(12)));
        }
        if (t.regionMatches(true, 0, "hash:query:", 0, 11) && t.length() > 11) {
            return hash(Key.query(t.substring(11)));
        }
        throw new IllegalArgumentException("unknown policy \"" + text + "\" (least-connections, round-robin, hash:ip, "
                + "hash:principal, hash:header:NAME or hash:query:NAME)");
    }

    /** The policy. */
    public Policy policy() {
        return policy;
    }

    /** The key a {@link Policy#HASH} balance hashes on; empty for the others. */
    public Optional<Key> key() {
        return Optional.ofNullable(key);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Balance b && b.policy == policy && Objects.equals(b.key, key);
    }

    @Override
    public int hashCode() {
        return Objects.hash(policy, key);
    }

    @Override
    public String toString() {
        switch (policy) {
            case LEAST_CONNECTIONS:
                return "least-connections";
            case ROUND_ROBIN:
                return "round-robin";
            default:
                return "hash:" + key;
        }
    }

    /** What a consistent hash is computed on. */
    public static final class Key {
        /** Where the key's value comes from. */
        public enum Source {
            /** {@link #clientAddress()} */
            CLIENT_ADDRESS,
            /** {@link #principal()} */
            PRINCIPAL,
            /** {@link #header(String)} */
            HEADER,
            /** {@link #query(String)} */
            QUERY
        }

        private final Source source;
        private final String name; // header or parameter name; null otherwise

        private Key(Source source, String name) {
            this.source = source;
            this.name = name;
        }

        /** The client's address (through trusted proxies). */
        public static Key clientAddress() {
            return new Key(Source.CLIENT_ADDRESS, null);
        }

        /** The principal's subject; anonymous handshakes are balanced by least connections. */
        public static Key principal() {
            return new Key(Source.PRINCIPAL, null);
        }

        /** A request header's value (its first). */
        public static Key header(String name) {
            return new Key(Source.HEADER, checkName(name, "header").toLowerCase(Locale.ROOT));
        }

        /** A query parameter's value (its first). */
        public static Key query(String name) {
            return new Key(Source.QUERY, checkName(name, "query parameter"));
        }

        private static String checkName(String name, String what) {
            requireNonNull(name, what);
            if (name.isBlank()) {
                throw new IllegalArgumentException("the " + what + " name to hash on is blank");
            }
            return name.trim();
        }

        /** Where the value comes from. */
        public Source source() {
            return source;
        }

        /** The header (lower case) or query parameter name; empty for the others. */
        public Optional<String> name() {
            return Optional.ofNullable(name);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.source == source && Objects.equals(k.name, name);
        }

        @Override
        public int hashCode() {
            return Objects.hash(source, name);
        }

        @Override
        public String toString() {
            switch (source) {
                case CLIENT_ADDRESS:
                    return "ip";
                case PRINCIPAL:
                    return "principal";
                case HEADER:
                    return "header:" + name;
                default:
                    return "query:" + name;
            }
        }
    }
}
