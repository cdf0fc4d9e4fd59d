package dev.gatehouse.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.gatehouse.Handshake;
import dev.gatehouse.policy.Cidr;

/**
 * The proxies whose {@code X-Forwarded-For} the gateway believes, and the client address that follows from
 * it. Immutable.
 *
 * <p>When the TCP peer is not a trusted proxy, it is the client, whatever {@code X-Forwarded-For} says.
 * When it is, the {@code X-Forwarded-For} chain (every header line, in order, comma-separated) is walked
 * from the right, skipping trusted proxies; the first untrusted entry is the client. If every entry is
 * trusted, the left-most one is. An entry that is not an IP literal (say {@code unknown}) stops the walk:
 * the client is then the last trusted hop seen, since nothing further left can be believed.
 */
final class TrustedProxies {

    /** Trusts no proxy: the client is always the TCP peer. */
    public static final TrustedProxies NONE = new TrustedProxies(List.of());

    private final List<Cidr> networks;

    private TrustedProxies(List<Cidr> networks) {
        this.networks = List.copyOf(networks);
    }

    /** The proxies in these networks. */
    public static TrustedProxies of(List<Cidr> networks) {
        return networks.isEmpty() ? NONE : new TrustedProxies(networks);
    }

    /** Whether the address is a trusted proxy. */
    public boolean trusts(InetAddress address) {
        for (Cidr n : networks) {
            if (n.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any proxy is trusted. */
    public boolean isEmpty() {
        return networks.isEmpty();
    }

    @Override
    public String toString() {
        return networks.toString();
    }

    /** Whether the handshake's TCP peer is a trusted proxy. */
    boolean trustsPeer(Handshake h) {
        return !networks.isEmpty() && trusts(Cidr.addressOf(h.remoteAddress()));
    }

    /** The client address of a handshake, as described in the class documentation. */
    InetAddress clientAddress(Handshake h) {
        InetAddress peer = Cidr.addressOf(h.remoteAddress());
        if (networks.isEmpty() || !trusts(peer)) {
            return peer;
        }
        List<String> chain = forwardedFor(h);
        InetAddress client = peer;
        for (int i = chain.size() - 1; i >= 0; i--) {
            Optional<InetAddress> hop = parseHop(chain.get(i));
            if (hop.isEmpty()) {
                return client;
            }
            client = hop.get();
            if (!trusts(client)) {
                return client;
            }
        }
        return client;
    }

    /** The entries of every {@code X-Forwarded-For} line, left to right. */
    static List<String> forwardedFor(Handshake h) {
        List<String> entries = new ArrayList<>();
        for (String line : h.headers().getOrDefault("x-forwarded-for", List.of())) {
            for (String entry : line.split(",")) {
                String e = entry.trim();
                if (!e.isEmpty()) {
                    entries.add(e);
                }
            }
        }
        return entries;
    }

    /** An entry as proxies write it: {@code 192.0.2.7}, {@code 192.0.2.7:4711}, {@code 2001:db8::1}, {@code [2001:db8::1]:4711}. */
    private static Optional<InetAddress> parseHop(String entry) {
        String e = entry;
        if (e.startsWith("[")) {
            int end = e.indexOf(']');
            if (end < 0) {
                return Optional.empty();
            }
            e = e.substring(1, end);
        } else if (e.indexOf(':') >= 0 && e.indexOf(':') == e.lastIndexOf(':') && e.indexOf('.') >= 0) {
            e = e.substring(0, e.indexOf(':')); // IPv4 with a port
        }
        return Cidr.parseAddress(e);
    }
}
