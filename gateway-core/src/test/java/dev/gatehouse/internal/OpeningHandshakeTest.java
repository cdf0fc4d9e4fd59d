package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;

class OpeningHandshakeTest {

    private static Handshake.Builder upgrade() {
        return Handshake.builder("r", "/").header("Upgrade", "websocket").header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    }

    @Test
    void webSocketUpgradeNeedsGetAndTheUpgradeToken() {
        assertTrue(OpeningHandshake.isUpgrade(Handshake.builder("r", "/").header("Upgrade", "websocket").build()));
        assertTrue(OpeningHandshake.isUpgrade(Handshake.builder("r", "/").header("Upgrade", "foo, WebSocket").build()));
        assertFalse(OpeningHandshake.isUpgrade(Handshake.builder("r", "/").build()));
        assertFalse(OpeningHandshake.isUpgrade(Handshake.builder("r", "/").header("Upgrade", "h2c").build()));
        assertFalse(OpeningHandshake.isUpgrade(Handshake.builder("r", "/").method("POST").header("Upgrade", "websocket").build()));
    }

    @Test
    void validOpeningHandshakePasses() {
        assertNull(OpeningHandshake.check(upgrade().header("Sec-WebSocket-Protocol", "mqtt, chat.v1").build()));
    }

    @Test
    void plainRequestIsAnswered426WithUpgradeHeader() {
        var reject = OpeningHandshake.check(Handshake.builder("r", "/").build());
        assertEquals(Rejection.UPGRADE_REQUIRED, reject.kind());
        assertEquals("websocket", reject.headers().get("Upgrade"));
    }

    @Test
    void wrongVersionIsAnswered426WithTheSupportedVersion() {
        var reject = OpeningHandshake.check(upgrade().header("Sec-WebSocket-Version", "8").build());
        assertEquals(Rejection.UPGRADE_REQUIRED, reject.kind());
        assertEquals("13", reject.headers().get("Sec-WebSocket-Version"));
    }

    @Test
    void badKeyOrSubprotocolIsABadRequest() {
        assertEquals(Rejection.BAD_REQUEST,
                OpeningHandshake.check(upgrade().header("Sec-WebSocket-Key", "c2hvcnQ=").build()).kind());
        assertEquals(Rejection.BAD_REQUEST,
                OpeningHandshake.check(upgrade().header("Sec-WebSocket-Protocol", "a b").build()).kind());
    }
}
