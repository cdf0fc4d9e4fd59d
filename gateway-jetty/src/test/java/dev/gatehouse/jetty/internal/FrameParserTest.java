package dev.gatehouse.jetty.internal;

import static dev.gatehouse.jetty.internal.FrameHeaders.BINARY;
import static dev.gatehouse.jetty.internal.FrameHeaders.CLOSE;
import static dev.gatehouse.jetty.internal.FrameHeaders.CONTINUATION;
import static dev.gatehouse.jetty.internal.FrameHeaders.FIN;
import static dev.gatehouse.jetty.internal.FrameHeaders.PING;
import static dev.gatehouse.jetty.internal.FrameHeaders.PONG;
import static dev.gatehouse.jetty.internal.FrameHeaders.RSV1;
import static dev.gatehouse.jetty.internal.FrameHeaders.RSV2;
import static dev.gatehouse.jetty.internal.FrameHeaders.RSV3;
import static dev.gatehouse.jetty.internal.FrameHeaders.TEXT;
import static dev.gatehouse.jetty.internal.FrameParser.NO_LIMIT;
import static dev.gatehouse.jetty.internal.FrameParser.Sender.CLIENT;
import static dev.gatehouse.jetty.internal.FrameParser.Sender.SERVER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gatehouse.jetty.internal.FrameParser.Flow;
import dev.gatehouse.jetty.internal.FrameParser.Sender;
import dev.gatehouse.jetty.internal.Wire.Form;

/** {@link FrameParser}: header fields, payload views, control frames, splits, pauses and every violation. */
class FrameParserTest {

    private static final byte[] NONE = {};

    private static FrameParser parser(Sender sender, FrameRecorder recorder) {
        return FrameParser.of(sender, 0, NO_LIMIT, recorder);
    }

    /** The frames of {@code bytes} parsed in one read. */
    private static List<FrameRecorder.Frame> parseWhole(Sender sender, int rsv, byte[] bytes) {
        FrameRecorder recorder = new FrameRecorder();
        FrameRecorder.feed(FrameParser.of(sender, rsv, NO_LIMIT, recorder), recorder, bytes);
        return recorder.frames;
    }

    // ---- length forms and header fields ----

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 125, 126, 127, 65535, 65536, 70_000})
    void reportsEveryLengthFormMaskedAndUnmasked(int length) {
        for (boolean masked : new boolean[] {false, true}) {
            byte[] payload = Wire.bytes(length, length);
            byte[] bytes = Wire.frame(FIN | BINARY, payload, masked, Wire.KEY, Form.SHORTEST);
            int headerLength = (length <= 125 ? 2 : length <= 65535 ? 4 : 10) + (masked ? 4 : 0);
            FrameRecorder recorder = new FrameRecorder();
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            List<FrameParser.Header> starts = new ArrayList<>();
            FrameParser parser = FrameParser.of(masked ? CLIENT : SERVER, 0, NO_LIMIT, new FrameParser.Listener() {
                @Override
                public Flow onFrameStart(FrameParser.Header header) {
                    assertTrue(header.fin());
                    assertEquals(0, header.rsv());
                    assertEquals(BINARY, header.opcode());
                    assertEquals(masked, header.masked());
                    assertEquals(masked ? Wire.KEY : 0, header.maskKey());
                    assertEquals(length, header.payloadLength());
                    assertEquals(headerLength, header.headerLength());
                    assertEquals(headerLength, buffer.position(), "position after the header");
                    starts.add(header);
                    return recorder.onFrameStart(header);
                }

                @Override
                public Flow onPayload(FrameParser.Header header, ByteBuffer view, long frameOffset) {
                    assertEquals(headerLength, view.position(), "the view indexes the read buffer");
                    return recorder.onPayload(header, view, frameOffset);
                }

                @Override
                public Flow onFrameEnd(FrameParser.Header header) {
                    return recorder.onFrameEnd(header);
                }
            });
            recorder.reading(buffer);
            assertEquals(Flow.CONTINUE, parser.parse(buffer));

            assertEquals(1, starts.size());
            FrameRecorder.Frame frame = recorder.frames.get(0);
            byte[] header = new byte[headerLength];
            System.arraycopy(bytes, 0, header, 0, headerLength);
            assertEquals(Wire.hex(header), frame.header(), "header bytes as on the wire");
            assertEquals(Wire.hex(payload), frame.plain());
            assertEquals(length == 0 ? List.of("start 82 0", "end") : List.of("start 82 " + length, "payload 0+" + length,
                    "end"), recorder.events);
            assertEquals(bytes.length, buffer.position());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {65_536, 1L << 32, 1L << 40, Long.MAX_VALUE})
    void reportsAHugeFrameFromItsHeaderAndFollowsItsPayloadOffsets(long length) {
        FrameRecorder recorder = new FrameRecorder();
        FrameParser parser = FrameParser.of(CLIENT, 0, NO_LIMIT, recorder);
        byte[] header = Wire.header(BINARY, length, true, Wire.KEY, Form.SHORTEST);
        FrameRecorder.feed(parser, recorder, Wire.join(header, Wire.bytes(1000, 1)), 3, 500);
        FrameRecorder.feed(parser, recorder, Wire.bytes(2000, 2));
        assertEquals(List.of("start 2 " + length, "payload 0+486", "payload 486+514", "payload 1000+2000"),
                recorder.events);
        assertTrue(recorder.frames.isEmpty(), "not ended");
    }

    @Test
    void acceptsLengthsInALongerFormThanNeeded() {
        byte[] bytes = Wire.join(
                Wire.frame(FIN | TEXT, Wire.bytes(5, 1), false, 0, Form.SIXTEEN),
                Wire.frame(FIN | TEXT, Wire.bytes(5, 2), false, 0, Form.SIXTY_FOUR),
                Wire.frame(FIN | PING, Wire.bytes(3, 3), false, 0, Form.SIXTY_FOUR),
                Wire.frame(FIN | CLOSE, Wire.closePayload(1000), false, 0, Form.SIXTEEN));
        List<FrameRecorder.Frame> frames = parseWhole(SERVER, 0, bytes);
        assertEquals(List.of(5L, 5L, 3L, 2L), frames.stream().map(FrameRecorder.Frame::payloadLength).toList());
        assertEquals(List.of(4, 10, 10, 4), frames.stream().map(f -> f.header().length() / 2).toList());
    }

    @Test
    void reportsFinRsvAndOpcodeAsTheyAre() {
        byte[] bytes = Wire.join(Wire.unmasked(RSV1 | TEXT, NONE), Wire.unmasked(CONTINUATION, NONE),
                Wire.unmasked(FIN | CONTINUATION, NONE), Wire.unmasked(FIN | RSV1 | RSV2 | RSV3 | BINARY, NONE));
        List<FrameRecorder.Frame> frames = parseWhole(SERVER, RSV1 | RSV2 | RSV3, bytes);
        assertEquals(List.of(RSV1 | TEXT, CONTINUATION, FIN | CONTINUATION, FIN | RSV1 | RSV2 | RSV3 | BINARY),
                frames.stream().map(FrameRecorder.Frame::firstByte).toList());
    }

    @Test
    void leavesThePayloadMaskedAndTheReadBufferUntouched() {
        byte[] payload = "Hello".getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = Wire.masked(FIN | TEXT, payload);
        // RFC 6455 §5.7: a masked "Hello" with key 37 fa 21 3d
        assertEquals("8185" + "37fa213d" + "7f9f4d5158", Wire.hex(bytes));
        byte[] before = bytes.clone();
        List<FrameRecorder.Frame> frames = parseWhole(CLIENT, 0, bytes);
        assertEquals("7f9f4d5158", frames.get(0).wire());
        assertEquals(Wire.hex(payload), frames.get(0).plain());
        assertArrayEquals(before, bytes);
    }

    @Test
    void viewsADirectReadBufferWithoutCopying() {
        byte[] bytes = Wire.join(Wire.unmasked(FIN | BINARY, Wire.bytes(300, 9)), Wire.unmasked(FIN | TEXT, Wire.bytes(7, 3)));
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 20);
        direct.position(20);
        direct.put(bytes).flip().position(20);
        List<ByteBuffer> views = new ArrayList<>();
        FrameRecorder recorder = new FrameRecorder().reading(direct);
        FrameParser parser = FrameParser.of(SERVER, 0, NO_LIMIT, new FrameParser.Listener() {
            @Override
            public Flow onFrameStart(FrameParser.Header header) {
                return recorder.onFrameStart(header);
            }

            @Override
            public Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
                assertTrue(payload.isDirect());
                views.add(payload);
                return recorder.onPayload(header, payload, frameOffset);
            }

            @Override
            public Flow onFrameEnd(FrameParser.Header header) {
                return recorder.onFrameEnd(header);
            }
        });
        parser.parse(direct);
        assertEquals(2, recorder.frames.size());
        assertSame(views.get(0), views.get(1), "one reused view per read buffer");
    }

    // ---- control frames ----

    @Test
    void reportsControlFramesBetweenTheFragmentsOfAMessage() {
        byte[] bytes = Wire.join(
                Wire.unmasked(TEXT, Wire.bytes(3, 1)),
                Wire.unmasked(FIN | PING, Wire.bytes(4, 2)),
                Wire.unmasked(CONTINUATION, Wire.bytes(2, 3)),
                Wire.unmasked(FIN | PONG, NONE),
                Wire.unmasked(FIN | CONTINUATION, Wire.bytes(1, 4)),
                Wire.unmasked(FIN | BINARY, Wire.bytes(2, 5)),
                Wire.unmasked(FIN | CLOSE, Wire.closePayload(1000)));
        FrameRecorder recorder = new FrameRecorder();
        FrameRecorder.feed(parser(SERVER, recorder), recorder, bytes);
        assertEquals(List.of(TEXT, FIN | PING, CONTINUATION, FIN | PONG, FIN | CONTINUATION, FIN | BINARY, FIN | CLOSE),
                recorder.frames.stream().map(FrameRecorder.Frame::firstByte).toList());
    }

    @Test
    void reportsAControlFrameOnlyOnceAllOfItHasArrived() {
        byte[] ping = Wire.masked(FIN | PING, Wire.bytes(10, 1));
        byte[] bytes = Wire.join(ping, Wire.masked(FIN | BINARY, Wire.bytes(3, 1)));
        FrameRecorder recorder = new FrameRecorder();
        List<Integer> startPositions = new ArrayList<>();
        ByteBuffer[] reading = new ByteBuffer[1];
        FrameParser parser = FrameParser.of(CLIENT, 0, NO_LIMIT, new FrameParser.Listener() {
            @Override
            public Flow onFrameStart(FrameParser.Header header) {
                startPositions.add(reading[0].position());
                return recorder.onFrameStart(header);
            }

            @Override
            public Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
                return recorder.onPayload(header, payload, frameOffset);
            }

            @Override
            public Flow onFrameEnd(FrameParser.Header header) {
                return recorder.onFrameEnd(header);
            }
        });
        for (int[] read : new int[][] {{0, 1}, {1, 7}, {7, 9}, {9, bytes.length}}) {
            reading[0] = ByteBuffer.wrap(bytes, read[0], read[1] - read[0]);
            parser.parse(reading[0]);
            if (read[1] < ping.length) {
                assertEquals(List.of(), recorder.events, "nothing of a partial control frame");
            }
        }
        assertEquals(List.of(ping.length, ping.length + 6), startPositions, "a control frame starts after its end");
        assertEquals(List.of("start 89 10", "payload 0+10", "end", "start 82 3", "payload 0+3", "end"), recorder.events);
        assertEquals(Wire.hex(Wire.bytes(10, 1)), recorder.frames.get(0).plain());
        assertEquals(Wire.hex(Wire.join(ping)).substring(12), recorder.frames.get(0).wire(), "as on the wire");
    }

    @Test
    void decodesACloseFramesCodeAndReason() {
        for (Sender sender : Sender.values()) {
            boolean masked = sender == CLIENT;
            byte[] reason = "au revoir, déjà".getBytes(StandardCharsets.UTF_8);
            byte[] bytes = Wire.join(
                    Wire.frame(FIN | CLOSE, Wire.closePayload(4001, reason), masked, Wire.KEY, Form.SHORTEST),
                    Wire.frame(FIN | CLOSE, Wire.closePayload(1000), masked, Wire.KEY, Form.SHORTEST),
                    Wire.frame(FIN | CLOSE, NONE, masked, Wire.KEY, Form.SHORTEST));
            List<String> seen = new ArrayList<>();
            FrameParser parser = FrameParser.of(sender, 0, NO_LIMIT, new FrameParser.Listener() {
                @Override
                public Flow onFrameStart(FrameParser.Header header) {
                    seen.add(header.closeCode() + " " + header.closeReason());
                    return Flow.CONTINUE;
                }

                @Override
                public Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
                    return Flow.CONTINUE;
                }

                @Override
                public Flow onFrameEnd(FrameParser.Header header) {
                    seen.add(header.closeCode() + " " + header.closeReason());
                    return Flow.CONTINUE;
                }
            });
            parser.parse(ByteBuffer.wrap(bytes));
            assertEquals(List.of("4001 au revoir, déjà", "4001 au revoir, déjà", "1000 ", "1000 ", "1005 ", "1005 "), seen);
        }
    }

    @Test
    void refusesCloseAccessorsOnOtherFrames() {
        List<FrameParser.Header> headers = new ArrayList<>();
        FrameParser parser = FrameParser.of(SERVER, 0, NO_LIMIT, new FrameParser.Listener() {
            @Override
            public Flow onFrameStart(FrameParser.Header header) {
                assertThrows(IllegalStateException.class, header::closeCode);
                assertThrows(IllegalStateException.class, header::closeReason);
                headers.add(header);
                return Flow.CONTINUE;
            }

            @Override
            public Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
                return Flow.CONTINUE;
            }

            @Override
            public Flow onFrameEnd(FrameParser.Header header) {
                return Flow.CONTINUE;
            }
        });
        parser.parse(ByteBuffer.wrap(Wire.join(Wire.unmasked(FIN | PING, Wire.bytes(2, 0)), Wire.unmasked(FIN | TEXT, NONE))));
        assertEquals(2, headers.size());
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999})
    void acceptsEveryCloseCodeThatMayBeSent(int code) {
        for (Sender sender : Sender.values()) {
            byte[] bytes = Wire.frame(FIN | CLOSE, Wire.closePayload(code), sender == CLIENT, Wire.KEY, Form.SHORTEST);
            assertEquals(1, parseWhole(sender, 0, bytes).size());
        }
    }

    @Test
    void acceptsAReasonOfEveryUtf8Form() {
        String reason = "a\u00e9\u20ac\ud83d\ude00\uffff\u0000\ud7ff\ue000\udbff\udfff"; // 1-4 byte forms, edges
        byte[] utf8 = reason.getBytes(StandardCharsets.UTF_8);
        byte[] bytes = Wire.masked(FIN | CLOSE, Wire.closePayload(1000, utf8));
        assertEquals(Wire.hex(Wire.closePayload(1000, utf8)), parseWhole(CLIENT, 0, bytes).get(0).plain());
    }

    // ---- splits across reads ----

    /** A server's frames of every kind, in 13 bytes: 2^12 ways to cut them. */
    private static final byte[] SHORT_FROM_SERVER = Wire.join(
            Wire.unmasked(TEXT, Wire.bytes(1, 1)),
            Wire.unmasked(FIN | PING, NONE),
            Wire.unmasked(FIN | CONTINUATION, Wire.bytes(1, 2)),
            Wire.unmasked(FIN | CLOSE, Wire.closePayload(1001, (byte) 'x')));

    /** A client's frames, in 13 bytes: 2^12 ways to cut them. */
    private static final byte[] SHORT_FROM_CLIENT = Wire.join(
            Wire.masked(FIN | PONG, NONE),
            Wire.masked(FIN | BINARY, Wire.bytes(1, 2)));

    @Test
    void parsesShortSequencesTheSameForEveryWayOfCuttingThem() {
        for (Sender sender : Sender.values()) {
            byte[] bytes = sender == SERVER ? SHORT_FROM_SERVER : SHORT_FROM_CLIENT;
            assertEquals(13, bytes.length);
            List<FrameRecorder.Frame> expected = parseWhole(sender, 0, bytes);
            assertEquals(sender == SERVER ? 4 : 2, expected.size());
            int gaps = bytes.length - 1;
            for (int mask = 0; mask < 1 << gaps; mask++) {
                int[] cuts = new int[Integer.bitCount(mask)];
                for (int gap = 0, c = 0; gap < gaps; gap++) {
                    if ((mask & (1 << gap)) != 0) {
                        cuts[c++] = gap + 1;
                    }
                }
                FrameRecorder recorder = new FrameRecorder().countingEvents();
                FrameRecorder.feed(parser(sender, recorder), recorder, bytes, cuts);
                assertEquals(expected, recorder.frames, () -> "cuts " + Arrays.toString(cuts));
            }
        }
    }

    /** Every header form, masked and not, with control frames in between: cut once and twice everywhere. */
    private static byte[] everyForm(boolean masked) {
        int key = 0x01020304;
        return Wire.join(
                Wire.frame(BINARY, Wire.bytes(0, 0), masked, key, Form.SHORTEST),
                Wire.frame(CONTINUATION, Wire.bytes(125, 1), masked, ~key, Form.SHORTEST),
                Wire.frame(FIN | PING, Wire.bytes(125, 2), masked, key, Form.SHORTEST),
                Wire.frame(CONTINUATION, Wire.bytes(126, 3), masked, key, Form.SHORTEST),
                Wire.frame(FIN | CONTINUATION, Wire.bytes(5, 4), masked, key, Form.SIXTY_FOUR),
                Wire.frame(FIN | TEXT, Wire.bytes(1, 5), masked, key, Form.SHORTEST),
                Wire.frame(FIN | PONG, NONE, masked, key, Form.SHORTEST),
                Wire.frame(FIN | CLOSE, Wire.closePayload(1000, (byte) 'o', (byte) 'k'), masked, key, Form.SHORTEST));
    }

    @Test
    void parsesEveryFormTheSameWhereverOneCutFalls() {
        for (Sender sender : Sender.values()) {
            byte[] bytes = everyForm(sender == CLIENT);
            List<FrameRecorder.Frame> expected = parseWhole(sender, 0, bytes);
            assertEquals(8, expected.size());
            for (int cut = 1; cut < bytes.length; cut++) {
                FrameRecorder recorder = new FrameRecorder().countingEvents();
                FrameRecorder.feed(parser(sender, recorder), recorder, bytes, cut);
                assertEquals(expected, recorder.frames, "cut at " + cut);
            }
        }
    }

    @Test
    void parsesEveryFormTheSameWhereverTwoCutsSplitAHeaderOrAControlFrameInThree() {
        for (Sender sender : Sender.values()) {
            byte[] bytes = everyForm(sender == CLIENT);
            List<FrameRecorder.Frame> expected = parseWhole(sender, 0, bytes);
            List<Integer> near = nearHeaders(bytes, sender);
            for (int a : near) {
                for (int b : near) {
                    if (a < b && b - a <= 16) {
                        FrameRecorder recorder = new FrameRecorder().countingEvents();
                        FrameRecorder.feed(parser(sender, recorder), recorder, bytes, a, b);
                        assertEquals(expected, recorder.frames, "cuts at " + a + ", " + b);
                    }
                }
            }
        }
    }

    @Test
    void parsesTheLongestSixteenBitAndShortestSixtyFourBitFramesWithByteByByteHeaders() {
        byte[] first = Wire.unmasked(FIN | BINARY, Wire.bytes(65_535, 1));
        byte[] ping = Wire.unmasked(FIN | PING, Wire.bytes(3, 1));
        byte[] bytes = Wire.join(first, ping, Wire.unmasked(FIN | TEXT, Wire.bytes(65_536, 2)));
        List<FrameRecorder.Frame> expected = parseWhole(SERVER, 0, bytes);
        FrameRecorder recorder = new FrameRecorder();
        FrameParser parser = parser(SERVER, recorder);
        TreeSet<Integer> cuts = new TreeSet<>();
        for (int start : new int[] {0, first.length, first.length + ping.length}) {
            for (int i = Math.max(1, start - 2); i <= start + 12; i++) {
                cuts.add(i);
            }
        }
        FrameRecorder.feed(parser, recorder, bytes, cuts.stream().mapToInt(Integer::intValue).toArray());
        assertEquals(expected, recorder.frames);
        assertEquals(List.of("start 82 65535", "payload 0+1", "payload 1+1", "payload 2+1", "payload 3+1", "payload 4+1",
                "payload 5+1", "payload 6+1", "payload 7+1", "payload 8+65525", "payload 65533+1", "payload 65534+1", "end",
                "start 89 3", "payload 0+3", "end",
                "start 81 65536", "payload 0+1", "payload 1+1", "payload 2+65534", "end"), recorder.events);
    }

    /** The cut points within 16 bytes of each frame's start, where headers and control frames are. */
    private static List<Integer> nearHeaders(byte[] bytes, Sender sender) {
        List<Integer> starts = new ArrayList<>();
        FrameRecorder recorder = new FrameRecorder();
        FrameParser parser = FrameParser.of(sender, 0, NO_LIMIT, new FrameParser.Listener() {
            @Override
            public Flow onFrameStart(FrameParser.Header header) {
                return recorder.onFrameStart(header);
            }

            @Override
            public Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
                return recorder.onPayload(header, payload, frameOffset);
            }

            @Override
            public Flow onFrameEnd(FrameParser.Header header) {
                starts.add(starts.get(starts.size() - 1) + header.headerLength() + (int) header.payloadLength());
                return recorder.onFrameEnd(header);
            }
        });
        starts.add(0);
        parser.parse(ByteBuffer.wrap(bytes));
        List<Integer> cuts = new ArrayList<>();
        for (int i = 1; i < bytes.length; i++) {
            for (int start : starts) {
                if (i >= start - 1 && i <= start + 16) {
                    cuts.add(i);
                    break;
                }
            }
        }
        return cuts;
    }

    // ---- pause and resume ----

    @Test
    void pausesAfterAnyEventAndResumesWhereItStopped() {
        for (Sender sender : Sender.values()) {
            byte[] bytes = everyForm(sender == CLIENT);
            FrameRecorder free = new FrameRecorder();
            ByteBuffer whole = ByteBuffer.wrap(bytes);
            FrameRecorder.feed(parser(sender, free.reading(whole)), free, bytes);
            for (String kinds : new String[] {"s", "p", "e", "sp", "se", "pe", "spe"}) {
                FrameRecorder paused = new FrameRecorder().pauseAfter(kinds);
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                paused.reading(buffer);
                FrameParser parser = parser(sender, paused);
                int pauses = 0;
                while (parser.parse(buffer) == Flow.PAUSE) {
                    pauses++;
                    assertEquals(paused.positions.get(paused.positions.size() - 1), buffer.position(),
                            "stopped just past the bytes reported");
                }
                assertEquals(free.events, paused.events, "pausing on " + kinds);
                assertEquals(free.frames, paused.frames);
                assertEquals(free.positions, paused.positions);
                long expectedPauses = paused.events.stream().filter(e -> kinds.contains(e.substring(0, 1))).count();
                assertEquals(expectedPauses, pauses);
                assertEquals(bytes.length, buffer.position());
            }
        }
    }

    @Test
    void deliversAPendingFrameEndFromAnEmptyBuffer() {
        FrameRecorder recorder = new FrameRecorder().pauseAfter("s");
        FrameParser parser = parser(SERVER, recorder);
        ByteBuffer buffer = ByteBuffer.wrap(Wire.unmasked(FIN | TEXT, NONE));
        assertEquals(Flow.PAUSE, parser.parse(buffer));
        assertEquals(List.of("start 81 0"), recorder.events);
        assertEquals(2, buffer.position());
        assertEquals(Flow.CONTINUE, parser.parse(ByteBuffer.allocate(0)));
        assertEquals(List.of("start 81 0", "end"), recorder.events);
    }

    @Test
    void resumesWithTheRestCopiedToAnotherBuffer() {
        byte[] bytes = everyForm(true);
        List<FrameRecorder.Frame> expected = parseWhole(CLIENT, 0, bytes);
        FrameRecorder recorder = new FrameRecorder().pauseAfter("sp");
        FrameParser parser = parser(CLIENT, recorder);
        ByteBuffer buffer = ByteBuffer.wrap(bytes.clone());
        while (true) {
            recorder.reading(buffer);
            if (parser.parse(buffer) == Flow.CONTINUE) {
                break;
            }
            ByteBuffer moved = ByteBuffer.allocateDirect(buffer.remaining() + 3);
            moved.position(3);
            moved.put(buffer).flip().position(3);
            buffer = moved;
        }
        assertEquals(expected, recorder.frames);
    }

    @Test
    void refusesToBeCalledFromItsListener() {
        FrameParser[] self = new FrameParser[1];
        ByteBuffer buffer = ByteBuffer.wrap(Wire.unmasked(FIN | TEXT, NONE));
        self[0] = FrameParser.of(SERVER, 0, NO_LIMIT, new FrameParser.Listener() {
            @Override
            public Flow onFrameStart(FrameParser.Header header) {
                return self[0].parse(buffer);
            }

            @Override
            public Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
                return Flow.CONTINUE;
            }

            @Override
            public Flow onFrameEnd(FrameParser.Header header) {
                return Flow.CONTINUE;
            }
        });
        assertThrows(IllegalStateException.class, () -> self[0].parse(buffer));
    }

    @Test
    void allocatesNothingPerFrameWhenTheReadBufferIsReused() {
        byte[] batch = Wire.join(Wire.masked(FIN | BINARY, Wire.bytes(64, 1)), Wire.masked(FIN | PING, Wire.bytes(4, 1)),
                Wire.masked(TEXT, Wire.bytes(200, 2)), Wire.masked(FIN | CONTINUATION, Wire.bytes(70_000, 3)));
        ByteBuffer buffer = ByteBuffer.allocateDirect(batch.length);
        long[] sum = new long[1];
        FrameParser parser = FrameParser.of(CLIENT, 0, NO_LIMIT, new FrameParser.Listener() {
            @Override
            public Flow onFrameStart(FrameParser.Header header) {
                sum[0] += header.payloadLength() + header.headerLength();
                return Flow.CONTINUE;
            }

            @Override
            public Flow onPayload(FrameParser.Header header, ByteBuffer payload, long frameOffset) {
                sum[0] += payload.remaining();
                return Flow.CONTINUE;
            }

            @Override
            public Flow onFrameEnd(FrameParser.Header header) {
                return Flow.CONTINUE;
            }
        });
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 2_000; round++) {
            if (round == 1_000) {
                sum[0] = 0;
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 1_000; i++) {
                    buffer.clear();
                    buffer.put(batch).flip();
                    parser.parse(buffer);
                }
                long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                assertTrue(allocated < 4_000, "allocated " + allocated + " bytes for 4,000 frames");
                int headers = 6 + 6 + 8 + 14;
                assertEquals(1_000L * (2 * batch.length - headers), sum[0]);
                return;
            }
            buffer.clear();
            buffer.put(batch).flip();
            parser.parse(buffer);
        }
    }

    // ---- configuration ----

    @Test
    void refusesALimitBelowAControlFrameAndUnknownRsvBits() {
        FrameRecorder recorder = new FrameRecorder();
        assertEquals("maxPayload: 124 (expected: >= 125)",
                assertThrows(IllegalArgumentException.class, () -> FrameParser.of(CLIENT, 0, 124, recorder)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> FrameParser.of(CLIENT, 0x80, NO_LIMIT, recorder));
        assertThrows(IllegalArgumentException.class, () -> FrameParser.of(CLIENT, 0x01, NO_LIMIT, recorder));
        FrameParser.of(CLIENT, RSV1 | RSV2 | RSV3, 125, recorder);
    }

    // ---- violations ----

    /**
     * A violation: bytes that must fail at byte {@code at} (1-based) when fed one at a time, with the given
     * close code, after the frames before it are reported whole.
     */
    private record Violation(String name, Sender sender, int rsv, long max, byte[] bytes, int at, int code,
                             String reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Violation violation(String name, Sender sender, byte[] bytes, int at, int code, String reason) {
        return new Violation(name, sender, 0, NO_LIMIT, bytes, at, code, reason);
    }

    private static byte[] b(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }

    static Stream<Arguments> violations() {
        List<Violation> v = new ArrayList<>();
        byte[] open = Wire.masked(TEXT, Wire.bytes(2, 0)); // a fragmented message left open, 8 bytes
        byte[] openServer = Wire.unmasked(BINARY, NONE);  // 2 bytes
        v.add(violation("unmasked frame from a client", CLIENT, b(0x81, 0x05, 'h'), 2, 1002,
                "unmasked frame from a client"));
        v.add(violation("masked frame from a server", SERVER, b(0x81, 0x85, 1, 2, 3, 4), 2, 1002,
                "masked frame from a server"));
        for (int opcode : new int[] {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
            v.add(violation("reserved opcode " + opcode, SERVER, b(0x80 | opcode, 0), 1, 1002, "reserved opcode " + opcode));
            v.add(violation("reserved opcode " + opcode + " without FIN", CLIENT, b(opcode), 1, 1002,
                    "reserved opcode " + opcode));
        }
        for (int rsv : new int[] {RSV1, RSV2, RSV3}) {
            v.add(violation("RSV " + rsv + " without an extension", SERVER, b(0x81 | rsv, 0), 1, 1002,
                    "RSV bits not negotiated"));
        }
        v.add(new Violation("RSV2 with only RSV1 allowed", CLIENT, RSV1, NO_LIMIT, b(0x81 | RSV1 | RSV2), 1, 1002,
                "RSV bits not negotiated"));
        v.add(new Violation("RSV1 on a continuation", CLIENT, RSV1, NO_LIMIT,
                Wire.join(Wire.masked(RSV1 | TEXT, NONE), b(0x80 | RSV1, 0x80)), 7, 1002, "RSV bits on a continuation frame"));
        v.add(new Violation("RSV1 on a PING", SERVER, RSV1, NO_LIMIT, b(0x89 | RSV1, 0), 1, 1002,
                "RSV bits on a control frame"));
        v.add(new Violation("RSV1 on a CLOSE", SERVER, RSV1, NO_LIMIT, b(0x88 | RSV1, 0), 1, 1002,
                "RSV bits on a control frame"));
        for (int opcode : new int[] {CLOSE, PING, PONG}) {
            v.add(violation("fragmented control frame " + opcode, CLIENT, b(opcode, 0x80), 1, 1002,
                    "fragmented control frame"));
        }
        v.add(violation("PING of 126 bytes", SERVER, b(0x89, 126, 0, 126), 4, 1002, "control frame over 125 bytes"));
        v.add(violation("PONG of 200 bytes in the 64-bit form", CLIENT, b(0x8A, 0xFF, 0, 0, 0, 0, 0, 0, 0, 200), 10, 1002,
                "control frame over 125 bytes"));
        v.add(violation("CLOSE of 65536 bytes", SERVER, b(0x88, 127, 0, 0, 0, 0, 0, 1, 0, 0), 10, 1002,
                "control frame over 125 bytes"));
        v.add(violation("64-bit length with the top bit set", SERVER, b(0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0), 3, 1002,
                "a 64-bit payload length with its most significant bit set"));
        v.add(violation("64-bit length of all ones", CLIENT, b(0x82, 0xFF, 0xFF, 0xFF), 3, 1002,
                "a 64-bit payload length with its most significant bit set"));
        v.add(new Violation("payload over the maximum, 16-bit form", CLIENT, 0, 1000,
                Wire.header(FIN | BINARY, 1001, true, Wire.KEY, Form.SHORTEST), 4, 1009, "frame over 1000 bytes"));
        v.add(new Violation("payload over the maximum, 64-bit form", SERVER, 0, 70_000,
                Wire.header(FIN | TEXT, 70_001, false, 0, Form.SHORTEST), 10, 1009, "frame over 70000 bytes"));
        v.add(new Violation("continuation one byte over a maximum of 125", SERVER, 0, 125,
                Wire.join(Wire.unmasked(TEXT, NONE), Wire.header(CONTINUATION, 126, false, 0, Form.SHORTEST)), 6, 1009,
                "frame over 125 bytes"));
        v.add(violation("continuation first", SERVER, b(0x80, 0), 1, 1002, "continuation frame outside a message"));
        v.add(violation("continuation after a whole message", CLIENT,
                Wire.join(Wire.masked(FIN | TEXT, Wire.bytes(1, 1)), b(0x00)), 8, 1002, "continuation frame outside a message"));
        v.add(violation("continuation after the message ended", SERVER,
                Wire.join(openServer, Wire.unmasked(FIN | CONTINUATION, NONE), b(0x80)), 5, 1002,
                "continuation frame outside a message"));
        v.add(violation("TEXT inside a message", CLIENT, Wire.join(open, b(0x81)), 9, 1002,
                "new message inside a fragmented message"));
        v.add(violation("BINARY inside a message after a PING", SERVER,
                Wire.join(openServer, Wire.unmasked(FIN | PING, NONE), b(0x02)), 5, 1002,
                "new message inside a fragmented message"));
        v.add(violation("CLOSE payload of 1 byte", CLIENT, b(0x88, 0x81, 1, 2, 3, 4, 5), 2, 1002, "CLOSE payload of 1 byte"));
        for (int code : new int[] {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
            byte[] close = Wire.masked(FIN | CLOSE, Wire.closePayload(code));
            v.add(violation("CLOSE code " + code, CLIENT, close, close.length, 1002, "CLOSE code " + code + " not allowed"));
            byte[] withReason = Wire.unmasked(FIN | CLOSE, Wire.closePayload(code, (byte) 'a', (byte) 'b'));
            v.add(violation("CLOSE code " + code + " with a reason", SERVER, withReason, withReason.length, 1002,
                    "CLOSE code " + code + " not allowed"));
        }
        byte[][] badUtf8 = {
            b(0xFF), b(0xC0, 0x80), b(0xC1, 0xBF), b(0xE0, 0x80, 0x80), b(0xE0, 0x9F, 0xBF), b(0xED, 0xA0, 0x80),
            b(0xED, 0xBF, 0xBF), b(0xF0, 0x80, 0x80, 0x80), b(0xF0, 0x8F, 0xBF, 0xBF), b(0xF4, 0x90, 0x80, 0x80),
            b(0xF5, 0x80, 0x80, 0x80), b(0xE2, 0x82), b('o', 'k', 0xC3), b(0x80), b(0xC3, 0x28), b(0xE2, 0x28, 0xA1),
            b(0xF0, 0x9F, 0x98), b(0xF0, 0x9F, 0x98, 0x28),
        };
        for (byte[] reason : badUtf8) {
            for (Sender sender : Sender.values()) {
                byte[] close = Wire.frame(FIN | CLOSE, Wire.closePayload(1000, reason), sender == CLIENT, Wire.KEY,
                        Form.SHORTEST);
                v.add(violation("CLOSE reason " + Wire.hex(reason) + " from " + sender, sender, close, close.length, 1007,
                        "CLOSE reason not UTF-8"));
            }
        }
        return v.stream().map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("violations")
    void failsAtTheFirstByteThatBreaksARule(Violation violation) {
        FrameRecorder recorder = new FrameRecorder();
        FrameParser parser = FrameParser.of(violation.sender(), violation.rsv(), violation.max(), recorder);
        byte[] bytes = violation.bytes();
        for (int i = 0; i < violation.at() - 1; i++) {
            parser.parse(ByteBuffer.wrap(bytes, i, 1));
        }
        assertTrue(recorder.betweenFrames(), "the offending frame was reported: " + recorder.events);
        FrameException e = assertThrows(FrameException.class,
                () -> parser.parse(ByteBuffer.wrap(bytes, violation.at() - 1, 1)));
        assertEquals(violation.code(), e.status().code());
        assertEquals(violation.reason(), e.status().reason());
        assertTrue(e.status().reason().getBytes(StandardCharsets.UTF_8).length <= 123);
        assertEquals(0, e.getStackTrace().length);
        assertTrue(recorder.betweenFrames(), "the offending frame was reported: " + recorder.events);

        FrameParser whole = FrameParser.of(violation.sender(), violation.rsv(), violation.max(), new FrameRecorder());
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        assertEquals(e.status(), assertThrows(FrameException.class, () -> whole.parse(buffer)).status());
        assertEquals(bytes.length, buffer.position());
    }

    @Test
    void reportsTheFramesBeforeAViolationAndStaysFailed() {
        byte[] bytes = Wire.join(Wire.masked(FIN | TEXT, Wire.bytes(3, 1)), Wire.masked(FIN | PING, NONE), b(0x83, 0x80));
        FrameRecorder recorder = new FrameRecorder();
        FrameParser parser = parser(CLIENT, recorder);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        FrameException first = assertThrows(FrameException.class, () -> parser.parse(buffer));
        assertEquals(2, recorder.frames.size());
        assertSame(first, assertThrows(FrameException.class, () -> parser.parse(ByteBuffer.wrap(Wire.masked(FIN | TEXT, NONE)))));
        assertEquals(2, recorder.frames.size());
    }
}
