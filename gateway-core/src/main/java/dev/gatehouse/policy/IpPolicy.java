package dev.gatehouse.policy;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;


/**
 * Admits or refuses handshakes by the client's address ({@link Handshake#clientAddress()}, which honours
 * {@code X-Forwarded-For} only from the gateway's trusted proxies). Entries are IPv4 or IPv6 networks in
 * CIDR notation ({@code 10.0.0.0/8}, {@code 2001:db8::/32}) or single addresses; an IPv4-mapped IPv6
 * address ({@code ::ffff:192.0.2.7}) is the IPv4 address it maps. Rejections are 403.
 *
 * <pre>{@code
 * Policy office = IpPolicy.allow("192.0.2.0/24", "2001:db8:42::/48");
 * Policy blocked = IpPolicy.deny("198.51.100.0/24");
 * Policy both = IpPolicy.builder().allow("10.0.0.0/8").deny("10.6.6.0/24").build();
 * }</pre>
 *
 * <p>A client in a denied network is refused; otherwise, when there are allowed networks, a client in
 * none of them is refused; anyone else proceeds. So deny entries carve exceptions out of allow entries.
 */
public final class IpPolicy implements Policy {

    private final List<Cidr> allowed;
    private final List<Cidr> denied;

    private IpPolicy(Builder b) {
        this.allowed = List.copyOf(b.allowed);
        this.denied = List.copyOf(b.denied);
    }

    /**
     * Admits clients in these networks only.
     *
     * @throws IllegalArgumentException if an entry is not an address or CIDR
     * @throws IllegalStateException    if there is no entry
     */
    public static IpPolicy allow(String... cidrs) {
        return builder().allow(cidrs).build();
    }

    /**
     * Refuses clients in these networks, and admits everyone else.
     *
     * @throws IllegalArgumentException if an entry is not an address or CIDR
     * @throws IllegalStateException    if there is no entry
     */
    public static IpPolicy deny(String... cidrs) {
        return builder().deny(cidrs).build();
    }

    /** Starts a policy. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Verdict evaluate(Handshake handshake, Chain chain) {
        InetAddress client = handshake.clientAddress();
        if (any(denied, client) || (!allowed.isEmpty() && !any(allowed, client))) {
            return Verdict.reject(Rejection.FORBIDDEN, "client address " + Cidr.text(client) + " is not allowed");
        }
        return chain.proceed(handshake);
    }

    @Override
    public String toString() {
        return "IpPolicy[allow=" + allowed + ", deny=" + denied + "]";
    }

    private static boolean any(List<Cidr> networks, InetAddress address) {
        for (Cidr n : networks) {
            if (n.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** Builds an {@link IpPolicy}. */
    public static final class Builder {
        private final List<Cidr> allowed = new ArrayList<>();
        private final List<Cidr> denied = new ArrayList<>();

        private Builder() {
        }

        /**
         * Adds allowed networks: once there is one, clients outside every allowed network are refused.
         *
         * @throws IllegalArgumentException if an entry is not an address or CIDR
         */
        public Builder allow(String... cidrs) {
            for (String c : cidrs) {
                allowed.add(Cidr.parse(requireNonNull(c, "cidr")));
            }
            return this;
        }

        /**
         * Adds denied networks, which win over allowed ones.
         *
         * @throws IllegalArgumentException if an entry is not an address or CIDR
         */
        public Builder deny(String... cidrs) {
            for (String c : cidrs) {
                denied.add(Cidr.parse(requireNonNull(c, "cidr")));
            }
            return this;
        }

        /**
         * Builds the policy.
         *
         * @throws IllegalStateException if no network was added
         */
        public IpPolicy build() {
            if (allowed.isEmpty() && denied.isEmpty()) {
                throw new IllegalStateException("networks: none (expected: at least one allowed or denied network)");
            }
            return new IpPolicy(this);
        }
    }
}
