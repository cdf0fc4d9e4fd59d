package dev.gatehouse.policy;

import static java.util.Objects.requireNonNull;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * An IPv4 or IPv6 network in CIDR notation ({@code 10.0.0.0/8}, {@code 2001:db8::/32}), or a single
 * address ({@code 192.0.2.7}, which is {@code /32}; {@code ::1}, which is {@code /128}). IPv4-mapped IPv6
 * addresses ({@code ::ffff:192.0.2.7}) are IPv4 addresses here, both in networks and in the addresses
 * matched against them. Parsing never resolves a host name. Immutable.
 */
public final class Cidr {

    private final String text;
    private final byte[] network; // the address bytes with the host bits cleared; 4 or 16 bytes
    private final int prefix;     // the number of leading bits that must match

    private Cidr(String text, byte[] network, int prefix) {
        this.text = text;
        this.network = network;
        this.prefix = prefix;
    }

    /**
     * Parses {@code address} or {@code address/prefix}.
     *
     * @throws IllegalArgumentException if it is neither, or the prefix is out of range for the address family
     */
    public static Cidr parse(String cidr) {
        requireNonNull(cidr, "cidr");
        String s = cidr.trim();
        int slash = s.indexOf('/');
        String addressPart = slash < 0 ? s : s.substring(0, slash);
        InetAddress address = parseAddress(addressPart).orElseThrow(() -> new IllegalArgumentException(
                "cidr: " + cidr + " (expected: an IPv4 or IPv6 address, optionally with /prefix)"));
        byte[] bytes = address.getAddress();
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("cidr: " + cidr + " (expected: a prefix length after /)");
            }
            prefix = Integer.parseInt(p);
            if (addressPart.contains(":") && bytes.length == 4) {
                // An IPv4-mapped IPv6 network: its prefix counts the 96 bits of the ::ffff: part.
                if (prefix < 96) {
                    throw new IllegalArgumentException("cidr: " + cidr + " (expected: a prefix of 96-128 for ::ffff:a.b.c.d)");
                }
                prefix -= 96;
            }
            if (prefix > max) {
                throw new IllegalArgumentException("cidr: " + cidr + " (expected: a prefix of 0-" + max + ")");
            }
        }
        return new Cidr(s, mask(bytes, prefix), prefix);
    }

    /** Whether the address is in this network; an IPv4 network never contains an IPv6 address, nor the reverse. */
    public boolean contains(InetAddress address) {
        byte[] bytes = normalize(requireNonNull(address, "address")).getAddress();
        if (bytes.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (bytes[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int m = (0xFF << (8 - rest)) & 0xFF;
        return (bytes[full] & m) == (network[full] & 0xFF);
    }

    /** The prefix length. */
    public int prefix() {
        return prefix;
    }

    /** Whether this is an IPv6 network. */
    public boolean isIpv6() {
        return network.length == 16;
    }

    /** Networks are equal when they hold the same addresses, however they were written. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr other && other.prefix == prefix && java.util.Arrays.equals(other.network, network);
    }

    @Override
    public int hashCode() {
        return 31 * prefix + java.util.Arrays.hashCode(network);
    }

    /** The network as it was written. */
    @Override
    public String toString() {
        return text;
    }

    /**
     * Parses an IP literal without any name lookup: a dotted-quad IPv4 address (exactly four decimal parts,
     * each 0-255) or an IPv6 address (hex groups, {@code ::}, an optional trailing dotted quad; no zone).
     * IPv4-mapped IPv6 addresses come back as IPv4 addresses.
     *
     * @return the address, or empty when the text is not such a literal
     */
    public static Optional<InetAddress> parseAddress(String literal) {
        requireNonNull(literal, "literal");
        String s = literal.trim();
        if (s.isEmpty() || s.length() > 45) {
            return Optional.empty();
        }
        if (s.indexOf(':') < 0) {
            byte[] v4 = parseIpv4(s);
            return v4 == null ? Optional.empty() : Optional.of(byAddress(v4));
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (!hex && c != ':' && c != '.') {
                return Optional.empty();
            }
        }
        int dot = s.indexOf('.');
        if (dot >= 0 && parseIpv4(s.substring(s.lastIndexOf(':') + 1)) == null) {
            return Optional.empty(); // only a trailing dotted quad may hold dots
        }
        try {
            // Only hex digits, colons and a valid trailing dotted quad: InetAddress parses it as an IPv6
            // literal (or fails) and never looks a name up.
            return Optional.of(normalize(InetAddress.getByName(s)));
        } catch (UnknownHostException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The address as IPv4 when it is an IPv4-mapped IPv6 address, else itself. */
    public static InetAddress normalize(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            for (int i = 0; i < 10; i++) {
                if (b[i] != 0) {
                    return address;
                }
            }
            if (b[10] == (byte) 0xFF && b[11] == (byte) 0xFF) {
                return byAddress(new byte[] {b[12], b[13], b[14], b[15]});
            }
        }
        return address;
    }

    /**
     * The IP address of a socket address without any lookup: its resolved address, else its host string
     * when that is an IP literal, else {@code 0.0.0.0}.
     */
    public static InetAddress addressOf(InetSocketAddress socketAddress) {
        InetAddress a = socketAddress.getAddress();
        if (a != null) {
            return normalize(a);
        }
        return parseAddress(socketAddress.getHostString()).orElseGet(() -> byAddress(new byte[4]));
    }

    /** The text of an address as used in keys and headers: dotted quad, or IPv6 without brackets. */
    public static String text(InetAddress address) {
        return normalize(address).getHostAddress();
    }

    private static byte[] parseIpv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
                    || (p.length() > 1 && p.charAt(0) == '0')) {
                return null; // leading zeros are octal to some parsers: refuse the ambiguity
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return null;
            }
            out[i] = (byte) v;
        }
        return out;
    }

    static InetAddress byAddress(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("address: " + bytes.length + " bytes (expected: 4 or 16)", e);
        }
    }

    private static byte[] mask(byte[] bytes, int prefix) {
        byte[] out = bytes.clone();
        for (int bit = prefix; bit < out.length * 8; bit++) {
            out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return out;
    }
}
