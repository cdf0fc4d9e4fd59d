package dev.gatehouse.jetty.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The {@code Sec-WebSocket-Accept} of a {@code Sec-WebSocket-Key} (RFC 6455, section 4.2.2): the Base64 of the
 * SHA-1 of the key and the protocol's GUID. Each thread keeps its own digest: looking one up costs more than
 * the hash itself, and every handshake computes two (the client's answer and the check of the backend's).
 */
final class AcceptHash {

    private static final byte[] GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".getBytes(StandardCharsets.ISO_8859_1);
    private static final ThreadLocal<MessageDigest> SHA1 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-1", e);
        }
    });

    private AcceptHash() {
    }

    /** The accept value that answers {@code key}. */
    static String of(String key) {
        MessageDigest sha1 = SHA1.get();
        sha1.reset();
        sha1.update(key.getBytes(StandardCharsets.ISO_8859_1));
        return Base64.getEncoder().encodeToString(sha1.digest(GUID));
    }
}
