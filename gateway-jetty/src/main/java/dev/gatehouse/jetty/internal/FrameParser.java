package dev.gatehouse.jetty.internal;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import dev.gatehouse.CloseStatus;

/**
 * An incremental, header-only parser of the RFC 6455 frames that one peer of one connection sends: the
 * client's frames, or the server's. It is given the bytes as they are read, in buffers split anywhere,
 * even inside a frame header, and tells a {@link Listener} where each frame starts, which bytes are its
 * payload and where it ends, so that a relay can forward frames as they are, cut only at frame boundaries.
 *
 * <h2>Design</h2>
 * <ul>
 *   <li><b>Threading.</b> Not thread-safe: one reader at a time, as a connection reads. The listener runs
 *       on the thread that calls {@link #parse(ByteBuffer)}, and must not call it again from inside a
 *       callback. Successive calls may come from different threads if the caller orders them (as Jetty's
 *       fill-interest callbacks are ordered).</li>
 *   <li><b>No copy, no unmasking.</b> A data frame's payload is reported as read-only views of the caller's
 *       read buffer, still masked as it came off the wire; the parser never copies, unmasks or even reads
 *       it. The frame header is copied (2-14 bytes) into the parser's own array, because it may be split
 *       across reads. The one exception is control frames, which are small (at most 125 bytes of payload):
 *       their payload is copied into a 125-byte array so that the frame can be checked whole before
 *       anything of it is reported, and so a CLOSE payload can be validated (code and UTF-8 reason).</li>
 *   <li><b>No allocation per frame</b> in the steady state: the {@link Header}, the header bytes and the
 *       payload views are reused. The payload view is a read-only duplicate of the last read buffer the
 *       parser was given, made again only when the caller passes another buffer object. The control frame
 *       array is allocated at the first control frame with a payload. A violation allocates its
 *       exception.</li>
 *   <li><b>Back-pressure.</b> Each callback returns {@link Flow#PAUSE} or {@link Flow#CONTINUE}. After a
 *       pause, {@code parse} returns at once with the buffer's position just past the bytes reported so
 *       far; the next call must pass the stream's next bytes (normally the rest of the same buffer) and
 *       the parser goes on from where it stopped, even with an empty buffer when only a frame end is left
 *       to report.</li>
 *   <li><b>Strictness.</b> The header rules of RFC 6455 are checked as soon as the byte that breaks one
 *       is read, before the frame is reported: see {@link #parse(ByteBuffer)}. The one rule left alone is
 *       the shortest length form (section 5.2): a length in a longer form than needed is accepted and
 *       passed on, as Jetty's parser accepts it. Payload contents are not checked (a TEXT message's UTF-8
 *       is the endpoints' business), except a CLOSE frame's. After a violation the parser is dead: every
 *       later call throws the same {@link FrameException}.</li>
 * </ul>
 *
 * <p>A control frame is reported only once all of it has arrived: its start, one payload view (over the
 * parser's copy, as on the wire) if it has a payload, its end, with the read buffer's position past the
 * whole frame at the start. Control frames may come between the frames of a fragmented message.
 */
final class FrameParser {

    /** No limit on a data frame's payload length. */
    static final long NO_LIMIT = Long.MAX_VALUE;

    private static final int HEADER = 0;          // reading header bytes
    private static final int START = 1;           // the header is complete: report the frame start
    private static final int PAYLOAD = 2;         // reporting a data frame's payload from the read buffer
    private static final int CONTROL = 3;         // copying a control frame's payload
    private static final int CONTROL_PAYLOAD = 4; // report the copied control payload
    private static final int END = 5;             // report the frame end

    /** Who sent the frames a parser reads, which decides whether they must be masked (RFC 6455 §5.1). */
    enum Sender {
        /** A client, whose frames must all be masked. */
        CLIENT,
        /** A server, whose frames must not be masked. */
        SERVER
    }

    /** What the parser does after a callback returns. */
    enum Flow {
        /** Go on with the buffer's remaining bytes. */
        CONTINUE,
        /** Return from {@link #parse(ByteBuffer)} now, to go on at the next call. */
        PAUSE
    }

    /**
     * Receives the frames a {@link FrameParser} reads, in order: for each frame one {@link #onFrameStart},
     * then {@link #onPayload} for each piece of payload (none for an empty payload), then one
     * {@link #onFrameEnd}. Called on the thread that calls {@code parse}. Each method returns whether the
     * parser goes on; when one throws, the exception leaves {@code parse} and the event counts as reported.
     * While a method runs, the read buffer's position is just past the bytes reported so far; the listener
     * must not move the buffer's position or limit.
     */
    interface Listener {

        /**
         * A frame's header has been read, and checked. {@code header} is the parser's own, reused for the
         * next frame: it describes this frame until its {@link #onFrameEnd}, and after that until the
         * parser reads on.
         */
        Flow onFrameStart(Header header);

        /**
         * The next piece of the frame's payload, as on the wire (still masked if the frame is).
         *
         * @param header      the frame, as given to {@link #onFrameStart}
         * @param payload     a read-only view from its position to its limit; the view is reused, so it is
         *                    valid until this method returns ({@code slice()} it to keep it). For a data
         *                    frame, its position and limit are indexes into the read buffer; for a control
         *                    frame, it is over the parser's copy of the payload
         * @param frameOffset the offset of the view's first byte within the frame's payload, to continue
         *                    masking across pieces (see {@link Masking})
         */
        Flow onPayload(Header header, ByteBuffer payload, long frameOffset);

        /** The frame's last payload byte has been reported; {@code header} is still the frame's. */
        Flow onFrameEnd(Header header);
    }

    /**
     * The header of the frame being reported, owned and reused by the parser: read it during a
     * {@link Listener} callback, or copy what is needed.
     */
    static final class Header {

        private final byte[] bytes = new byte[FrameHeaders.MAX_HEADER_LENGTH]; // the header as read
        private ByteBuffer bytesView; // read-only over bytes, made on first use: most legs never ask

        private int length;           // header bytes read so far; equals needed from the header's end to the next
        private int needed = 2;       // the header's full length, once the second byte is known
        private int lengthEnd = 2;    // the index just past the payload length bytes
        private long payloadLength;   // valid once lengthEnd bytes are read
        private int maskKey;          // valid once the header is complete; 0 when unmasked
        private byte[] control;       // the last control frame's payload as on the wire; null until one has one
        private ByteBuffer controlView; // read-only over control, null with it

        private Header() {
        }

        /** Whether this is the final frame of its message (always true for a control frame). */
        boolean fin() {
            return (bytes[0] & FrameHeaders.FIN) != 0;
        }

        /** The RSV bits as they are in the first byte: any of {@link FrameHeaders#RSV1}, RSV2, RSV3. */
        int rsv() {
            return bytes[0] & (FrameHeaders.RSV1 | FrameHeaders.RSV2 | FrameHeaders.RSV3);
        }

        /** The opcode: one of the {@link FrameHeaders} opcodes, never a reserved one. */
        int opcode() {
            return bytes[0] & 0x0F;
        }

        /** Whether this is a CLOSE, PING or PONG frame. */
        boolean isControl() {
            return FrameHeaders.isControl(opcode());
        }

        /** Whether the frame is masked: always for a client's frames, never for a server's. */
        boolean masked() {
            return (bytes[1] & FrameHeaders.MASK) != 0;
        }

        /** The masking key, its first wire byte in the most significant 8 bits; 0 when not masked. */
        int maskKey() {
            return maskKey;
        }

        /** The payload length, 0 to 2<sup>63</sup>-1 bytes. */
        long payloadLength() {
            return payloadLength;
        }

        /** The header's length in bytes, 2 to 14. */
        int headerLength() {
            return length;
        }

        /**
         * The header's bytes exactly as read, to forward verbatim: a read-only view over the parser's copy,
         * from position 0 to {@link #headerLength()}. The same view is reset and returned at each call, and
         * overwritten by the next frame's header.
         */
        ByteBuffer bytes() {
            if (bytesView == null) {
                bytesView = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
            }
            bytesView.limit(length).position(0);
            return bytesView;
        }

        /**
         * A CLOSE frame's status code: 1005 (no status) for an empty payload. The code has been checked: it
         * is one that may be sent.
         *
         * @throws IllegalStateException if this is not a CLOSE frame
         */
        int closeCode() {
            checkClose();
            return payloadLength == 0 ? CloseStatus.NO_STATUS.code() : (plain(0) << 8) | plain(1);
        }

        /**
         * A CLOSE frame's reason, decoded from its checked UTF-8; empty when there is none. Allocates.
         *
         * @throws IllegalStateException if this is not a CLOSE frame
         */
        String closeReason() {
            checkClose();
            int n = (int) payloadLength - 2;
            if (n <= 0) {
                return "";
            }
            byte[] reason = new byte[n];
            for (int i = 0; i < n; i++) {
                reason[i] = (byte) plain(i + 2);
            }
            return new String(reason, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "Header[opcode=" + opcode() + ", fin=" + fin() + ", rsv=" + rsv() + ", masked=" + masked()
                    + ", payloadLength=" + payloadLength + "]";
        }

        /** Byte {@code i} of the copied control payload, unmasked, as 0-255. */
        private int plain(int i) {
            return (control[i] ^ (maskKey >>> (24 - ((i & 3) << 3)))) & 0xFF;
        }

        private void checkClose() {
            if (opcode() != FrameHeaders.CLOSE) {
                throw new IllegalStateException("not a CLOSE frame: " + this);
            }
        }

        /** Allocates the control payload array, at the first control frame with a payload. */
        private void ensureControl() {
            if (control == null) {
                control = new byte[FrameHeaders.MAX_CONTROL_PAYLOAD];
                controlView = ByteBuffer.wrap(control).asReadOnlyBuffer();
            }
        }

        /** The reused view over the first {@code n} bytes of the control payload. */
        private ByteBuffer controlView(int n) {
            controlView.limit(n).position(0);
            return controlView;
        }
    }

    private final boolean masked;
    private final int allowedRsv;
    private final long maxPayload;
    private final Listener listener;
    private final Header header = new Header();

    private int state = HEADER;         // what the next step is; see the constants
    private long offset;                // payload bytes of the current frame reported or copied so far
    private boolean inMessage;          // a TEXT or BINARY frame without FIN was read, and its last frame not yet
    private ByteBuffer source;          // the last read buffer given, null before the first; only compared
    private ByteBuffer view;            // a read-only duplicate of source, repositioned for each payload piece
    private boolean parsing;            // a call to parse is running; guards against calls from the listener
    private FrameException failure;     // the violation that ended parsing, or null while all is well

    private FrameParser(Sender sender, int allowedRsv, long maxPayload, Listener listener) {
        requireNonNull(sender, "sender");
        this.listener = requireNonNull(listener, "listener");
        if ((allowedRsv & ~(FrameHeaders.RSV1 | FrameHeaders.RSV2 | FrameHeaders.RSV3)) != 0) {
            throw new IllegalArgumentException("allowedRsv: " + allowedRsv + " (expected: RSV1, RSV2, RSV3 bits)");
        }
        if (maxPayload < FrameHeaders.MAX_CONTROL_PAYLOAD) {
            throw new IllegalArgumentException("maxPayload: " + maxPayload + " (expected: >= 125)");
        }
        this.masked = sender == Sender.CLIENT;
        this.allowedRsv = allowedRsv;
        this.maxPayload = maxPayload;
    }

    /**
     * A parser of the frames {@code sender} sends.
     *
     * @param sender     the peer whose frames are read, which decides the masking rule
     * @param allowedRsv the RSV bits the negotiated extensions use, e.g. {@link FrameHeaders#RSV1} with
     *                   permessage-deflate, or 0. They are allowed on the first frame of a message only
     *                   (a TEXT or BINARY frame), as RFC 7692 §6.1 says of permessage-deflate, the one
     *                   extension the gateway negotiates; continuation and control frames must have none
     * @param maxPayload the largest payload a data frame may have, at least 125, or {@link #NO_LIMIT}
     * @param listener   receives the frames
     * @throws IllegalArgumentException if {@code allowedRsv} has other bits or {@code maxPayload} is below 125
     */
    static FrameParser of(Sender sender, int allowedRsv, long maxPayload, Listener listener) {
        return new FrameParser(sender, allowedRsv, maxPayload, listener);
    }

    /**
     * Reads the bytes from {@code buffer}'s position to its limit, reporting frames to the listener, until
     * they are all read or the listener pauses. Moves the buffer's position past the bytes read; leaves its
     * limit and contents alone. A buffer split anywhere is fine: what is left of an incomplete header or
     * payload is expected at the next call.
     *
     * <p>Violations, each thrown as soon as the byte that shows it is read (for a CLOSE payload, once the
     * frame is complete), before the frame is reported; a violation leaves the buffer's position at its
     * limit, and every later call throws the same exception:
     * <ul>
     *   <li>1002: a reserved opcode (3-7, 0xB-0xF); an RSV bit that is not allowed (see
     *       {@link #of}); a fragmented control frame; a CONTINUATION outside a fragmented message; a TEXT
     *       or BINARY frame inside one; an unmasked frame from a client or a masked frame from a server; a
     *       control frame with more than 125 bytes of payload; a 64-bit length with its top bit set; a CLOSE
     *       payload of 1 byte; a CLOSE code that may not be sent (below 1000, 1004-1006, 1015-2999, above
     *       4999).</li>
     *   <li>1007: a CLOSE reason that is not valid UTF-8.</li>
     *   <li>1009: a data frame with a payload over the maximum.</li>
     * </ul>
     *
     * @return {@link Flow#PAUSE} if the listener paused, {@link Flow#CONTINUE} if every byte was read
     * @throws FrameException        if the frames break a rule above; carries the close status
     * @throws IllegalStateException if called from the listener
     */
    Flow parse(ByteBuffer buffer) {
        if (failure != null) {
            throw failure;
        }
        if (parsing) {
            throw new IllegalStateException("parse() called from the listener");
        }
        parsing = true;
        try {
            return run(buffer);
        } catch (FrameException e) {
            failure = e;
            buffer.position(buffer.limit());
            throw e;
        } finally {
            parsing = false;
        }
    }

    private Flow run(ByteBuffer buffer) {
        int pos = buffer.position();
        int limit = buffer.limit();
        while (true) {
            switch (state) {
                case HEADER -> {
                    if (pos == limit) {
                        return Flow.CONTINUE;
                    }
                    pos = readHeader(buffer, pos, limit);
                    buffer.position(pos);
                }
                case START -> {
                    if (header.payloadLength == 0) {
                        state = END;
                    } else {
                        state = header.isControl() ? CONTROL_PAYLOAD : PAYLOAD;
                    }
                    if (listener.onFrameStart(header) == Flow.PAUSE) {
                        return Flow.PAUSE;
                    }
                }
                case PAYLOAD -> {
                    if (pos == limit) {
                        return Flow.CONTINUE;
                    }
                    long from = offset;
                    int n = (int) Math.min(header.payloadLength - from, limit - pos);
                    ByteBuffer piece = view(buffer, pos, pos + n);
                    pos += n;
                    buffer.position(pos);
                    offset = from + n;
                    if (offset == header.payloadLength) {
                        state = END;
                    }
                    if (listener.onPayload(header, piece, from) == Flow.PAUSE) {
                        return Flow.PAUSE;
                    }
                }
                case CONTROL -> {
                    if (pos == limit) {
                        return Flow.CONTINUE;
                    }
                    int n = (int) Math.min(header.payloadLength - offset, limit - pos);
                    buffer.get(pos, header.control, (int) offset, n);
                    pos += n;
                    buffer.position(pos);
                    offset += n;
                    if (offset == header.payloadLength) {
                        if (header.opcode() == FrameHeaders.CLOSE) {
                            checkClosePayload();
                        }
                        state = START;
                    }
                }
                case CONTROL_PAYLOAD -> {
                    state = END;
                    ByteBuffer piece = header.controlView((int) header.payloadLength);
                    if (listener.onPayload(header, piece, 0) == Flow.PAUSE) {
                        return Flow.PAUSE;
                    }
                }
                default -> { // END
                    state = HEADER;
                    if (listener.onFrameEnd(header) == Flow.PAUSE) {
                        return Flow.PAUSE;
                    }
                }
            }
        }
    }

    /** Reads header bytes from {@code pos}, checking each as it comes; returns the index after the last read. */
    private int readHeader(ByteBuffer buffer, int pos, int limit) {
        Header h = header;
        if (h.length == h.needed) { // the last frame's header: start the next one
            h.length = 0;
            h.needed = 2;
            h.lengthEnd = 2;
        }
        while (pos < limit) {
            byte b = buffer.get(pos++);
            int i = h.length;
            h.bytes[i] = b;
            h.length = ++i;
            if (i == 1) {
                checkFirstByte(b & 0xFF);
            } else if (i == 2) {
                readSecondByte(b & 0xFF);
            } else if (i == 3 && h.lengthEnd == 10 && b < 0) {
                throw FrameException.protocol("a 64-bit payload length with its most significant bit set");
            }
            if (i == h.lengthEnd) {
                readLength();
            }
            if (i == h.needed) {
                completeHeader();
                break;
            }
        }
        return pos;
    }

    private void checkFirstByte(int b) {
        int opcode = b & 0x0F;
        int rsv = b & (FrameHeaders.RSV1 | FrameHeaders.RSV2 | FrameHeaders.RSV3);
        switch (opcode) {
            case FrameHeaders.CLOSE, FrameHeaders.PING, FrameHeaders.PONG -> {
                if ((b & FrameHeaders.FIN) == 0) {
                    throw FrameException.protocol("fragmented control frame");
                }
                if (rsv != 0) {
                    throw FrameException.protocol("RSV bits on a control frame");
                }
            }
            case FrameHeaders.CONTINUATION -> {
                if (!inMessage) {
                    throw FrameException.protocol("continuation frame outside a message");
                }
                if (rsv != 0) {
                    throw FrameException.protocol("RSV bits on a continuation frame");
                }
            }
            case FrameHeaders.TEXT, FrameHeaders.BINARY -> {
                if (inMessage) {
                    throw FrameException.protocol("new message inside a fragmented message");
                }
                if ((rsv & ~allowedRsv) != 0) {
                    throw FrameException.protocol("RSV bits not negotiated");
                }
            }
            default -> throw FrameException.protocol("reserved opcode " + opcode);
        }
    }

    private void readSecondByte(int b) {
        boolean isMasked = (b & FrameHeaders.MASK) != 0;
        if (isMasked != masked) {
            throw FrameException.protocol(masked ? "unmasked frame from a client" : "masked frame from a server");
        }
        int length7 = b & 0x7F;
        int lengthEnd = length7 == 127 ? 10 : length7 == 126 ? 4 : 2;
        header.lengthEnd = lengthEnd;
        header.needed = isMasked ? lengthEnd + 4 : lengthEnd;
    }

    /** Decodes the payload length, complete at index lengthEnd, and checks it. */
    private void readLength() {
        Header h = header;
        byte[] bytes = h.bytes;
        long length = bytes[1] & 0x7F;
        if (h.lengthEnd > 2) {
            length = 0;
            for (int i = 2; i < h.lengthEnd; i++) {
                length = (length << 8) | (bytes[i] & 0xFF);
            }
        }
        if (h.isControl()) {
            if (length > FrameHeaders.MAX_CONTROL_PAYLOAD) {
                throw FrameException.protocol("control frame over 125 bytes");
            }
            if (length == 1 && h.opcode() == FrameHeaders.CLOSE) {
                throw FrameException.protocol("CLOSE payload of 1 byte");
            }
        } else if (length > maxPayload) {
            throw new FrameException(CloseStatus.MESSAGE_TOO_BIG.withReason("frame over " + maxPayload + " bytes"));
        }
        h.payloadLength = length;
    }

    private void completeHeader() {
        Header h = header;
        byte[] bytes = h.bytes;
        int k = h.needed - 4;
        h.maskKey = masked
                ? (bytes[k] << 24) | ((bytes[k + 1] & 0xFF) << 16) | ((bytes[k + 2] & 0xFF) << 8) | (bytes[k + 3] & 0xFF)
                : 0;
        if (!h.isControl()) {
            inMessage = !h.fin(); // a data frame without FIN opens or continues a message, with FIN ends it
        }
        offset = 0;
        if (h.isControl() && h.payloadLength > 0) {
            h.ensureControl();
            state = CONTROL;
        } else {
            state = START;
        }
    }

    /** Checks the complete CLOSE payload in the header's copy: a code that may be sent, a UTF-8 reason. */
    private void checkClosePayload() {
        Header h = header;
        int code = h.closeCode();
        boolean sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
                || (code >= 3000 && code <= 4999);
        if (!sendable) {
            throw FrameException.protocol("CLOSE code " + code + " not allowed");
        }
        if (!isUtf8(h, 2, (int) h.payloadLength)) {
            throw new FrameException(CloseStatus.of(1007, "CLOSE reason not UTF-8"));
        }
    }

    /**
     * Whether bytes {@code from} to {@code to} of the control payload, unmasked, are well-formed UTF-8
     * (Unicode table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
     */
    private static boolean isUtf8(Header h, int from, int to) {
        int i = from;
        while (i < to) {
            int b = h.plain(i++);
            if (b < 0x80) {
                continue;
            }
            int more;
            int low = 0x80;
            int high = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                more = 1;
            } else if (b >= 0xE0 && b <= 0xEF) {
                more = 2;
                low = b == 0xE0 ? 0xA0 : 0x80;
                high = b == 0xED ? 0x9F : 0xBF;
            } else if (b >= 0xF0 && b <= 0xF4) {
                more = 3;
                low = b == 0xF0 ? 0x90 : 0x80;
                high = b == 0xF4 ? 0x8F : 0xBF;
            } else {
                return false;
            }
            if (to - i < more) {
                return false;
            }
            int second = h.plain(i);
            if (second < low || second > high) {
                return false;
            }
            for (int j = 1; j < more; j++) {
                if ((h.plain(i + j) & 0xC0) != 0x80) {
                    return false;
                }
            }
            i += more;
        }
        return true;
    }

    /** The reused read-only view of {@code buffer}, set to {@code from}-{@code to}. */
    private ByteBuffer view(ByteBuffer buffer, int from, int to) {
        if (buffer != source) {
            source = buffer;
            view = buffer.asReadOnlyBuffer();
        }
        view.limit(to).position(from);
        return view;
    }

    @Override
    public String toString() {
        return "FrameParser[" + (masked ? "from client" : "from server") + ", state=" + state + ", offset=" + offset
                + ", inMessage=" + inMessage + (failure == null ? "" : ", failed: " + failure.getMessage()) + "]";
    }
}
