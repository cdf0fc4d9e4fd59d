package dev.gatehouse.jetty.internal;

import static dev.gatehouse.jetty.internal.FrameHeaders.BINARY;
import static dev.gatehouse.jetty.internal.FrameHeaders.CLOSE;
import static dev.gatehouse.jetty.internal.FrameHeaders.CONTINUATION;
import static dev.gatehouse.jetty.internal.FrameHeaders.FIN;
import static dev.gatehouse.jetty.internal.FrameHeaders.PING;
import static dev.gatehouse.jetty.internal.FrameHeaders.PONG;
import static dev.gatehouse.jetty.internal.FrameHeaders.RSV1;
import static dev.gatehouse.jetty.internal.FrameHeaders.TEXT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.websocket.core.Configuration;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.exception.CloseException;
import org.eclipse.jetty.websocket.core.internal.Generator;
import org.eclipse.jetty.websocket.core.internal.Parser;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.jetty.internal.FrameParser.Sender;
import dev.gatehouse.jetty.internal.Wire.Form;

/**
 * {@link FrameParser} against Jetty's own frame parser ({@code websocket.core.internal.Parser}), on the
 * same bytes cut the same way: random valid frame sequences written by Jetty's {@code Generator} (and by
 * hand, for the longer length forms Jetty never writes), then random single frames, valid or not, for the
 * rules Jetty's parser checks itself. The seeds are fixed, so a failure is reproducible.
 */
class FrameParserAgainstJettyTest {

    private static final int SEQUENCES_PER_SEED = 1_000;
    private static final int FRAMES_PER_SEED = 2_000;
    private static final int[] SENDABLE_CODES = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014};
    private static final String[] CHARACTERS = {"a", "Z", " ", "\u00e9", "\u00df", "\u20ac", "\u4e2d", "\ud83d\ude00",
        "\ud800\udc00", "\udbff\udfff", "\uffff", "\u0000"};

    /**
     * A frame reduced to what both parsers report. (Jetty's parser zeroes the key once it has unmasked the
     * payload, so the key is compared with what was written only.)
     *
     * @param firstByte FIN, RSV and opcode
     * @param masked    the MASK bit
     * @param plain     the unmasked payload, in hex
     */
    private record Seen(int firstByte, boolean masked, String plain) {
    }

    /**
     * Bytes to parse and the frames they hold.
     *
     * @param sender  who sends them
     * @param rsv     the RSV bits negotiated
     * @param bytes   the frames on the wire
     * @param planned the frames written
     * @param keys    their masking keys
     */
    private record Sequence(Sender sender, int rsv, byte[] bytes, List<Seen> planned, List<Integer> keys) {
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void reportsRandomValidSequencesAsJettysParserDoes(long seed) {
        Random random = new Random(seed);
        Generator generator = new Generator();
        int frames = 0;
        for (int n = 0; n < SEQUENCES_PER_SEED; n++) {
            Sequence sequence = sequence(random, generator);
            int[] cuts = cuts(random, sequence.bytes().length);
            String pauses = new String[] {"", "s", "p", "e", "spe"}[random.nextInt(5)];
            String where = "seed " + seed + ", sequence " + n + ", cuts " + Arrays.toString(cuts);

            List<Seen> jetty = jettyParse(sequence.bytes(), cuts);
            assertEquals(sequence.planned(), jetty, "Jetty disagrees with what was written: " + where);

            FrameRecorder recorder = new FrameRecorder().countingEvents().pauseAfter(pauses);
            FrameParser parser = FrameParser.of(sequence.sender(), sequence.rsv(), FrameParser.NO_LIMIT, recorder);
            FrameRecorder.feed(parser, recorder, sequence.bytes(), cuts);
            List<Seen> ours = recorder.frames.stream().map(f -> new Seen(f.firstByte(), f.masked(), f.plain())).toList();
            assertEquals(jetty, ours, where);
            assertEquals(sequence.keys(), recorder.frames.stream().map(FrameRecorder.Frame::maskKey).toList(), where);
            frames += ours.size();
        }
        assertTrue(frames > SEQUENCES_PER_SEED * 3, "too few frames: " + frames);
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 12})
    void acceptsAndRejectsRandomSingleFramesAsJettysParserDoes(long seed) {
        Random random = new Random(seed);
        int[] outcomes = new int[3]; // accepted, 1002, 1007
        for (int n = 0; n < FRAMES_PER_SEED; n++) {
            // no CONTINUATION: Jetty's parser does not follow messages; many CLOSE frames, whose payload it checks
            int opcode = random.nextInt(5) < 2 ? CLOSE : 1 + random.nextInt(15);
            boolean fin = random.nextInt(8) != 0;
            byte[] payload = opcode == CLOSE ? randomClosePayload(random)
                    : new byte[FrameHeaders.isControl(opcode) ? random.nextInt(131) : random.nextInt(40)];
            byte[] bytes = Wire.frame((fin ? FIN : 0) | opcode, payload, true, random.nextInt(), Form.SHORTEST);
            String where = "seed " + seed + ", frame " + n + ": " + Wire.hex(bytes);

            int jetty = jettyOutcome(bytes);
            int ours;
            try {
                FrameRecorder recorder = new FrameRecorder();
                FrameRecorder.feed(FrameParser.of(Sender.CLIENT, 0, FrameParser.NO_LIMIT, recorder), recorder, bytes);
                ours = 0;
            } catch (FrameException e) {
                ours = e.status().code();
            }
            assertEquals(jetty, ours, where);
            if (opcode == CLOSE && fin && payload.length > 2 && payload.length <= 125 && isSendable(payload)) {
                assertEquals(isUtf8(Arrays.copyOfRange(payload, 2, payload.length)) ? 0 : 1007, ours,
                        "the JDK's decoder disagrees: " + where);
            }
            outcomes[ours == 0 ? 0 : ours == 1002 ? 1 : 2]++;
        }
        for (int outcome : outcomes) {
            assertTrue(outcome > FRAMES_PER_SEED / 50, "unbalanced outcomes " + Arrays.toString(outcomes));
        }
    }

    // ---- generating frames ----

    private static Sequence sequence(Random random, Generator generator) {
        Sender sender = random.nextBoolean() ? Sender.CLIENT : Sender.SERVER;
        int rsv = random.nextInt(3) == 0 ? RSV1 : 0;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Seen> planned = new ArrayList<>();
        List<Integer> keys = new ArrayList<>();
        boolean inMessage = false;
        int count = 1 + random.nextInt(10);
        for (int i = 0; i < count; i++) {
            int firstByte;
            byte[] payload;
            if (random.nextInt(10) < 3) {
                int opcode = new int[] {CLOSE, PING, PONG}[random.nextInt(3)];
                firstByte = FIN | opcode;
                payload = opcode == CLOSE ? validClosePayload(random) : randomBytes(random, random.nextInt(126));
            } else {
                boolean fin = random.nextBoolean();
                int opcode = inMessage ? CONTINUATION : random.nextBoolean() ? TEXT : BINARY;
                int bits = !inMessage && rsv != 0 && random.nextBoolean() ? RSV1 : 0;
                firstByte = (fin ? FIN : 0) | bits | opcode;
                payload = randomBytes(random, dataLength(random));
                inMessage = !fin;
            }
            boolean masked = sender == Sender.CLIENT;
            int key = masked ? random.nextInt() : 0;
            out.writeBytes(random.nextInt(5) == 0 ? byHand(random, firstByte, payload, masked, key)
                    : byJetty(generator, firstByte, payload, masked, key));
            planned.add(new Seen(firstByte, masked, Wire.hex(payload)));
            keys.add(key);
        }
        return new Sequence(sender, rsv, out.toByteArray(), planned, keys);
    }

    private static byte[] byJetty(Generator generator, int firstByte, byte[] payload, boolean masked, int key) {
        Frame frame = new Frame((byte) (firstByte & 0x0F), (firstByte & FIN) != 0, ByteBuffer.wrap(payload));
        frame.setRsv1((firstByte & RSV1) != 0);
        if (masked) {
            frame.setMask(ByteBuffer.allocate(4).putInt(key).array());
        }
        ByteBuffer buffer = BufferUtil.allocate(Generator.MAX_HEADER_LENGTH + payload.length);
        generator.generateWholeFrame(frame, buffer);
        return BufferUtil.toArray(buffer);
    }

    /** A frame in a length form at least as long as needed, at random. */
    private static byte[] byHand(Random random, int firstByte, byte[] payload, boolean masked, int key) {
        Form form = payload.length > 0xFFFF || random.nextBoolean() ? Form.SIXTY_FOUR
                : payload.length > 125 || random.nextBoolean() ? Form.SIXTEEN : Form.SHORTEST;
        return Wire.frame(firstByte, payload, masked, key, form);
    }

    private static int dataLength(Random random) {
        int r = random.nextInt(100);
        if (r < 40) {
            return random.nextInt(11);
        } else if (r < 75) {
            return random.nextInt(200);
        } else if (r < 90) {
            return 120 + random.nextInt(11);
        } else if (r < 99 || random.nextBoolean()) {
            return 250 + random.nextInt(1000);
        }
        return 65_530 + random.nextInt(11); // either side of the 16-bit form's largest, now and then
    }

    private static byte[] validClosePayload(Random random) {
        if (random.nextInt(5) == 0) {
            return new byte[0];
        }
        int code = random.nextBoolean() ? SENDABLE_CODES[random.nextInt(SENDABLE_CODES.length)] : 3000 + random.nextInt(2000);
        return Wire.closePayload(code, randomUtf8(random, random.nextInt(124)));
    }

    /** A CLOSE payload that is often wrong: a 1-byte payload, any code, a reason with bytes flipped or cut. */
    private static byte[] randomClosePayload(Random random) {
        int r = random.nextInt(20);
        if (r == 0) {
            return new byte[0];
        } else if (r == 1) {
            return new byte[] {3};
        } else if (r == 2) {
            return randomBytes(random, 126 + random.nextInt(4));
        }
        int code = random.nextInt(4) == 0 ? random.nextInt(5100)
                : random.nextBoolean() ? SENDABLE_CODES[random.nextInt(SENDABLE_CODES.length)] : 1000;
        byte[] reason = randomUtf8(random, random.nextInt(124));
        if (reason.length > 0 && random.nextBoolean()) {
            int i = random.nextInt(reason.length);
            reason[i] = (byte) (random.nextBoolean() ? random.nextInt(256) : reason[i] ^ 0x40);
        }
        if (reason.length > 0 && random.nextInt(4) == 0) {
            reason = Arrays.copyOf(reason, random.nextInt(reason.length));
        }
        return Wire.closePayload(code, reason);
    }

    /** Valid UTF-8 of at most {@code max} bytes, mixing 1- to 4-byte forms. */
    private static byte[] randomUtf8(Random random, int max) {
        StringBuilder s = new StringBuilder();
        int length = 0;
        while (true) {
            String c = CHARACTERS[random.nextInt(CHARACTERS.length)];
            int bytes = c.getBytes(StandardCharsets.UTF_8).length;
            if (length + bytes > max) {
                return s.toString().getBytes(StandardCharsets.UTF_8);
            }
            s.append(c);
            length += bytes;
        }
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }

    private static int[] cuts(Random random, int length) {
        TreeSet<Integer> cuts = new TreeSet<>();
        int n = random.nextInt(7);
        for (int i = 0; i < n && length > 1; i++) {
            cuts.add(1 + random.nextInt(length - 1));
        }
        if (random.nextInt(10) == 0) { // now and then, cut the start byte by byte
            for (int i = 1; i < Math.min(length, 20); i++) {
                cuts.add(i);
            }
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    // ---- Jetty's side ----

    private static Parser jettyParser() {
        Configuration.ConfigurationCustomizer configuration = new Configuration.ConfigurationCustomizer();
        configuration.setAutoFragment(false); // whole frames, however they are cut
        configuration.setMaxFrameSize(0);     // no limit
        return new Parser(ByteBufferPool.NON_POOLING, configuration);
    }

    /** What Jetty's parser reads from a copy of {@code bytes} (it unmasks in place), cut the same way. */
    private static List<Seen> jettyParse(byte[] bytes, int[] cuts) {
        Parser parser = jettyParser();
        byte[] copy = bytes.clone();
        List<Seen> seen = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : copy.length;
            ByteBuffer buffer = ByteBuffer.wrap(copy, from, to - from);
            while (buffer.hasRemaining()) {
                Frame.Parsed frame = parser.parse(buffer);
                if (frame != null) {
                    seen.add(seen(frame));
                    frame.close();
                }
            }
            from = to;
        }
        return seen;
    }

    private static Seen seen(Frame frame) {
        int firstByte = (frame.isFin() ? FIN : 0) | (frame.isRsv1() ? RSV1 : 0) | (frame.isRsv2() ? FrameHeaders.RSV2 : 0)
                | (frame.isRsv3() ? FrameHeaders.RSV3 : 0) | frame.getOpCode();
        byte[] plain = frame.hasPayload() ? BufferUtil.toArray(frame.getPayload()) : new byte[0];
        return new Seen(firstByte, frame.isMasked(), Wire.hex(plain));
    }

    /** 0 when Jetty's parser accepts the frame, else the close code of its exception. */
    private static int jettyOutcome(byte[] bytes) {
        try {
            jettyParse(bytes, new int[0]);
            return 0;
        } catch (CloseException e) {
            return e.getStatusCode();
        }
    }

    private static boolean isSendable(byte[] closePayload) {
        int code = ((closePayload[0] & 0xFF) << 8) | (closePayload[1] & 0xFF);
        return code >= 1000 && code <= 4999 && CloseStatus.of(code).isTransmittable();
    }

    private static boolean isUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
