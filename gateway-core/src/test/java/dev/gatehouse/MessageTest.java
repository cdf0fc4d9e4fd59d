package dev.gatehouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;

import org.junit.jupiter.api.Test;

class MessageTest {

    @Test
    void textSizeIsItsUtf8Length() {
        assertEquals(3, Message.text("é!").size());
    }

    @Test
    void binaryKeepsACopyAndHandsOutReadOnlyViews() {
        byte[] bytes = {1, 2, 3};
        Message.Binary m = Message.binary(bytes);
        bytes[0] = 9;

        ByteBuffer view = m.bytes();
        assertEquals(1, view.get(0));
        assertTrue(view.isReadOnly());
        assertThrows(ReadOnlyBufferException.class, () -> view.put(0, (byte) 7));
        view.position(3);
        assertEquals(3, m.bytes().remaining(), "each view starts at 0");
        assertEquals(3, m.size());
    }

    @Test
    void binaryFromABufferCopiesItsRemainingBytesWithoutMovingIt() {
        ByteBuffer source = ByteBuffer.wrap(new byte[] {0, 1, 2});
        source.position(1);

        assertEquals(Message.binary(new byte[] {1, 2}), Message.binary(source));
        assertEquals(1, source.position());
    }

    @Test
    void messagesOfTheSameKindAndContentAreEqual() {
        assertEquals(Message.text("a"), Message.text("a"));
        assertFalse(Message.text("a").equals(Message.binary(new byte[] {'a'})));
    }

    @Test
    void toStringNeverShowsThePayload() {
        assertEquals("Message.Text[6 bytes]", Message.text("s3cret").toString());
        assertEquals("Message.Binary[2 bytes]", Message.binary(new byte[] {1, 2}).toString());
    }

    @Test
    void nullPayloadsAreRefused() {
        assertThrows(NullPointerException.class, () -> Message.text(null));
        assertThrows(NullPointerException.class, () -> Message.binary((byte[]) null));
    }
}
