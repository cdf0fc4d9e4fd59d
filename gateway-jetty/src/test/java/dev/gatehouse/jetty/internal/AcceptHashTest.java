package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

import org.eclipse.jetty.websocket.core.util.WebSocketUtils;
import org.junit.jupiter.api.Test;

class AcceptHashTest {

    @Test
    void answersRfc6455sExample() {
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", AcceptHash.of("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    @Test
    void agreesWithJettyOnRandomKeysOnOneThread() {
        for (int i = 0; i < 200; i++) {
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            assertEquals(WebSocketUtils.hashKey(key), AcceptHash.of(key), key);
        }
    }
}
