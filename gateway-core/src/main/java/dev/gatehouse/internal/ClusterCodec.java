package dev.gatehouse.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import dev.gatehouse.Audience;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Message;
import dev.gatehouse.Principal;

/**
 * The bytes of the requests one node sends another through {@link dev.gatehouse.spi.Cluster}, and of their
 * answers: a version byte, an operation byte, then its fields (strings as length-prefixed UTF-8). Nodes of one
 * cluster run the same version; a request of another version is refused.
 */
final class ClusterCodec {

    static final byte VERSION = 2;

    /** The operations a node runs for another. */
    enum Op {
        INFO, SEND, CLOSE, JOIN, LEAVE, SEND_AUDIENCE, CLOSE_AUDIENCE, REVOKE
    }

    private ClusterCodec() {
    }

    /** A request as read: its operation and the stream of its fields. */
    record Request(Op op, DataInputStream in) {
    }

    /** Writes fields; {@link #bytes()} ends it. */
    static final class Writer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        private final DataOutputStream out = new DataOutputStream(bytes);

        Writer string(String s) {
            return blob(s.getBytes(StandardCharsets.UTF_8));
        }

        Writer optional(Optional<String> s) {
            bool(s.isPresent());
            s.ifPresent(this::string);
            return this;
        }

        Writer blob(byte[] b) {
            try {
                out.writeInt(b.length);
                out.write(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Writer bool(boolean b) {
            return number(b ? 1 : 0);
        }

        Writer number(long n) {
            try {
                out.writeLong(n);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Writer strings(Iterable<String> all) {
            List<String> list = new ArrayList<>();
            all.forEach(list::add);
            number(list.size());
            list.forEach(this::string);
            return this;
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }
    }

    static Writer request(Op op) {
        Writer w = new Writer();
        w.bytes.write(VERSION);
        w.bytes.write(op.ordinal());
        return w;
    }

    static Writer answer() {
        Writer w = new Writer();
        w.bytes.write(VERSION);
        return w;
    }

    static Request readRequest(byte[] bytes) {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            checkVersion(in.readByte());
            int op = in.readByte();
            if (op < 0 || op >= Op.values().length) {
                throw new IllegalArgumentException("cluster request: operation " + op + " (expected: 0 to "
                        + (Op.values().length - 1) + ")");
            }
            return new Request(Op.values()[op], in);
        } catch (IOException e) {
            throw new IllegalArgumentException("cluster request: truncated", e);
        }
    }

    static DataInputStream readAnswer(byte[] bytes) {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            checkVersion(in.readByte());
        } catch (IOException e) {
            throw new IllegalArgumentException("cluster answer: empty", e);
        }
        return in;
    }

    private static void checkVersion(byte version) {
        if (version != VERSION) {
            throw new IllegalArgumentException("cluster message: version " + version + " (expected: " + VERSION
                    + "; every node of a cluster must run the same Gatehouse version)");
        }
    }

    static String string(DataInputStream in) throws IOException {
        return new String(blob(in), StandardCharsets.UTF_8);
    }

    static byte[] blob(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IOException("a field of " + n + " bytes, with " + in.available() + " left");
        }
        return in.readNBytes(n);
    }

    static Optional<String> optional(DataInputStream in) throws IOException {
        return bool(in) ? Optional.of(string(in)) : Optional.empty();
    }

    static boolean bool(DataInputStream in) throws IOException {
        return in.readLong() != 0;
    }

    static List<String> strings(DataInputStream in) throws IOException {
        long n = in.readLong();
        if (n < 0 || n > in.available()) {
            throw new IOException("a list of " + n + " strings, with " + in.available() + " bytes left");
        }
        List<String> out = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            out.add(string(in));
        }
        return out;
    }

    // ---- values ----

    static Writer message(Writer w, Message message) {
        if (message instanceof Message.Text t) {
            return w.bool(true).string(t.text());
        }
        ByteBuffer b = ((Message.Binary) message).bytes();
        byte[] copy = new byte[b.remaining()];
        b.duplicate().get(copy);
        return w.bool(false).blob(copy);
    }

    static Message message(DataInputStream in) throws IOException {
        return bool(in) ? Message.text(string(in)) : Message.binary(blob(in));
    }

    static Writer status(Writer w, CloseStatus status) {
        return w.number(status.code()).string(status.reason());
    }

    static CloseStatus status(DataInputStream in) throws IOException {
        return CloseStatus.of((int) in.readLong(), string(in));
    }

    static Writer audience(Writer w, Audience audience) {
        return w.number(audience.kind().ordinal()).optional(audience.name()).strings(audience.excluded());
    }

    static Audience audience(DataInputStream in) throws IOException {
        long kind = in.readLong();
        Optional<String> name = optional(in);
        Set<String> excluded = new HashSet<>(strings(in));
        Audience a;
        if (kind == Audience.Kind.USER.ordinal()) {
            a = Audience.user(name.orElseThrow());
        } else if (kind == Audience.Kind.GROUP.ordinal()) {
            a = Audience.group(name.orElseThrow());
        } else {
            a = Audience.all();
        }
        return excluded.isEmpty() ? a : a.excluding(excluded);
    }

    /**
     * A connection's info. Its principal travels as its subject only: on another node, {@link
     * ConnectionInfo#principal()} holds neither claims nor expiry.
     */
    static Writer info(Writer w, ConnectionInfo c) {
        w.string(c.id()).string(c.route());
        InetAddress address = c.remoteAddress().getAddress();
        w.bool(address != null).string(address != null ? address.getHostAddress() : c.remoteAddress().getHostString())
                .number(c.remoteAddress().getPort());
        w.optional(c.userAgent()).optional(c.principal().map(Principal::subject)).optional(c.user())
                .strings(c.groups()).optional(c.subprotocol())
                .number(c.connectedAt().getEpochSecond()).number(c.connectedAt().getNano())
                .number(c.lastActiveAt().getEpochSecond()).number(c.lastActiveAt().getNano())
                .number(c.messagesIn()).number(c.bytesIn()).number(c.messagesOut()).number(c.bytesOut())
                .number(c.pendingBytes()).number(c.peakPendingBytes()).optional(c.target());
        return w;
    }

    static ConnectionInfo info(DataInputStream in) throws IOException {
        String id = string(in);
        String route = string(in);
        boolean resolved = bool(in);
        String host = string(in);
        int port = (int) in.readLong();
        // An IP literal: no name lookup happens.
        InetSocketAddress remote = resolved ? new InetSocketAddress(InetAddress.getByName(host), port)
                : InetSocketAddress.createUnresolved(host, port);
        Optional<String> userAgent = optional(in);
        Optional<Principal> principal = optional(in).map(Principal::of);
        Optional<String> user = optional(in);
        List<String> groups = strings(in);
        Optional<String> subprotocol = optional(in);
        Instant connectedAt = Instant.ofEpochSecond(in.readLong(), in.readLong());
        Instant lastActiveAt = Instant.ofEpochSecond(in.readLong(), in.readLong());
        return new ConnectionInfo(id, route, remote, userAgent, principal, user, groups, subprotocol, connectedAt,
                lastActiveAt, in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
                optional(in));
    }
}
