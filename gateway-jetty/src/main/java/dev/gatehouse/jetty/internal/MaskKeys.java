package dev.gatehouse.jetty.internal;

import java.security.SecureRandom;

/**
 * Masking keys for the frames the gateway itself sends to a server (RFC 6455 §5.3 asks for keys "derived
 * from a strong source of entropy" that the sender's peer cannot predict). The keys come from a
 * {@link SecureRandom}, drawn 64 keys (256 bytes) at a time into a per-thread block so that the cost of
 * {@code SecureRandom}, and its lock, is paid once per 64 keys. Thread-safe. A key is never 0, so a masked
 * payload never goes out as it is.
 */
final class MaskKeys {

    private static final int KEYS_PER_BLOCK = 64;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<Block> BLOCKS = ThreadLocal.withInitial(Block::new);

    /** One thread's unused random bytes. */
    private static final class Block {
        private final byte[] bytes = new byte[KEYS_PER_BLOCK * 4]; // random; bytes before next are spent
        private int next = bytes.length; // index of the next unused byte; bytes.length when all are spent
    }

    private MaskKeys() {
    }

    /** A fresh masking key, never 0, its first wire byte in the most significant 8 bits. */
    static int next() {
        Block block = BLOCKS.get();
        while (true) {
            if (block.next == block.bytes.length) {
                RANDOM.nextBytes(block.bytes);
                block.next = 0;
            }
            byte[] b = block.bytes;
            int i = block.next;
            block.next = i + 4;
            int key = (b[i] << 24) | ((b[i + 1] & 0xFF) << 16) | ((b[i + 2] & 0xFF) << 8) | (b[i + 3] & 0xFF);
            if (key != 0) {
                return key;
            }
        }
    }
}
