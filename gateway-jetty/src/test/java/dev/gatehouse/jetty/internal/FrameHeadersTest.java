package dev.gatehouse.jetty.internal;

import static dev.gatehouse.jetty.internal.FrameHeaders.BINARY;
import static dev.gatehouse.jetty.internal.FrameHeaders.CONTINUATION;
import static dev.gatehouse.jetty.internal.FrameHeaders.FIN;
import static dev.gatehouse.jetty.internal.FrameHeaders.PING;
import static dev.gatehouse.jetty.internal.FrameHeaders.RSV1;
import static dev.gatehouse.jetty.internal.FrameHeaders.TEXT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;

import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.internal.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link FrameHeaders}: headers of every length form, as Jetty writes them and as the parser reads them. */
class FrameHeadersTest {

    private static String written(int firstByte, long length, boolean masked, int key) {
        ByteBuffer out = ByteBuffer.allocate(FrameHeaders.MAX_HEADER_LENGTH);
        if (masked) {
            FrameHeaders.write(out, firstByte, length, key);
        } else {
            FrameHeaders.write(out, firstByte, length);
        }
        assertEquals(FrameHeaders.length(length, masked), out.position(), "length() matches what is written");
        byte[] bytes = new byte[out.flip().remaining()];
        out.get(bytes);
        return Wire.hex(bytes);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 125, 126, 127, 65_535, 65_536, 1 << 20, Integer.MAX_VALUE})
    void writesEveryLengthFormAsJettysGeneratorDoes(int length) {
        Generator generator = new Generator();
        for (int firstByte : new int[] {FIN | TEXT, BINARY, FIN | RSV1 | BINARY, CONTINUATION, FIN | PING}) {
            for (boolean masked : new boolean[] {false, true}) {
                Frame frame = new Frame((byte) (firstByte & 0x0F), (firstByte & FIN) != 0, (ByteBuffer) null) {
                    @Override
                    public int getPayloadLength() {
                        return length; // a header needs no payload
                    }
                };
                frame.setRsv1((firstByte & RSV1) != 0);
                if (masked) {
                    frame.setMask(new byte[] {0x37, (byte) 0xFA, 0x21, 0x3D});
                }
                ByteBuffer jetty = BufferUtil.allocate(Generator.MAX_HEADER_LENGTH);
                generator.generateHeader(frame, jetty);
                assertEquals(Wire.hex(BufferUtil.toArray(jetty)), written(firstByte, length, masked, Wire.KEY),
                        "first byte " + firstByte + ", masked " + masked);
                assertEquals(Wire.hex(Wire.header(firstByte, length, masked, Wire.KEY, Wire.Form.SHORTEST)),
                        written(firstByte, length, masked, Wire.KEY));
            }
        }
    }

    @Test
    void writesLengthsBeyondAnIntInTheSixtyFourBitForm() {
        assertEquals("827f0000010000000000", written(FIN | BINARY, 1L << 40, false, 0));
        assertEquals("82ff7fffffffffffffff01020304", written(FIN | BINARY, Long.MAX_VALUE, true, 0x01020304));
    }

    @Test
    void givesTheLengthOfEachForm() {
        assertEquals(2, FrameHeaders.length(0, false));
        assertEquals(6, FrameHeaders.length(125, true));
        assertEquals(4, FrameHeaders.length(126, false));
        assertEquals(8, FrameHeaders.length(65_535, true));
        assertEquals(10, FrameHeaders.length(65_536, false));
        assertEquals(14, FrameHeaders.length(Long.MAX_VALUE, true));
    }

    @Test
    void writesHeadersTheParserReadsBack() {
        for (long length : new long[] {0, 125, 126, 65_535, 65_536, 1L << 40}) {
            for (boolean masked : new boolean[] {false, true}) {
                ByteBuffer out = ByteBuffer.allocate(FrameHeaders.MAX_HEADER_LENGTH);
                if (masked) {
                    FrameHeaders.write(out, RSV1 | TEXT, length, 0xCAFEBABE);
                } else {
                    FrameHeaders.write(out, RSV1 | TEXT, length);
                }
                out.flip();
                ByteBuffer expected = out.duplicate();
                FrameParser.Header[] seen = new FrameParser.Header[1];
                FrameParser parser = FrameParser.of(masked ? FrameParser.Sender.CLIENT : FrameParser.Sender.SERVER, RSV1,
                        FrameParser.NO_LIMIT, new FrameParser.Listener() {
                            @Override
                            public FrameParser.Flow onFrameStart(FrameParser.Header header) {
                                seen[0] = header;
                                assertFalse(header.fin());
                                assertEquals(RSV1, header.rsv());
                                assertEquals(TEXT, header.opcode());
                                assertEquals(length, header.payloadLength());
                                assertEquals(masked ? 0xCAFEBABE : 0, header.maskKey());
                                assertEquals(expected, header.bytes());
                                return FrameParser.Flow.PAUSE;
                            }

                            @Override
                            public FrameParser.Flow onPayload(FrameParser.Header header, ByteBuffer payload, long offset) {
                                return FrameParser.Flow.CONTINUE;
                            }

                            @Override
                            public FrameParser.Flow onFrameEnd(FrameParser.Header header) {
                                return FrameParser.Flow.CONTINUE;
                            }
                        });
                assertEquals(FrameParser.Flow.PAUSE, parser.parse(out));
                assertNotNull(seen[0], "length " + length);
            }
        }
    }

    @Test
    void writesNothingWhenTheHeaderDoesNotFit() {
        ByteBuffer out = ByteBuffer.allocate(9);
        assertThrows(BufferOverflowException.class, () -> FrameHeaders.write(out, FIN | BINARY, 65_536));
        assertThrows(BufferOverflowException.class, () -> FrameHeaders.write(out.position(4), FIN | BINARY, 126, 1));
        assertEquals(4, out.position());
        assertEquals(Wire.hex(new byte[9]), Wire.hex(out.array()));
    }

    @Test
    void refusesANegativeLengthOrAFirstByteThatIsNotAByte() {
        ByteBuffer out = ByteBuffer.allocate(14);
        assertEquals("payloadLength: -1 (expected: >= 0)",
                assertThrows(IllegalArgumentException.class, () -> FrameHeaders.write(out, FIN | TEXT, -1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> FrameHeaders.write(out, 0x100, 1));
        assertThrows(IllegalArgumentException.class, () -> FrameHeaders.write(out, -1, 1, 7));
        assertEquals(0, out.position());
    }
}
