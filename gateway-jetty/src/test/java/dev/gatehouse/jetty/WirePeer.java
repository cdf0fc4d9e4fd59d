package dev.gatehouse.jetty;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One end of an upgraded WebSocket connection on a plain socket, for frames as they are on the wire: the
 * gateway's client ({@link #client}), whose frames are masked, or a backend the gateway dialled (see
 * {@link ScriptedBackend}), whose frames are not. It writes whatever bytes a test gives it, and reads the
 * gateway's frames one by one, checking that each is masked as its sender owes (RFC 6455 §5.1). Every read
 * waits up to 5 s.
 */
final class WirePeer implements AutoCloseable {

    /** The masking key of the frames a client peer builds: RFC 6455 §5.7's example, so that masking shows. */
    static final int KEY = 0x37FA213D;

    /** A frame the gateway sent: its first byte as on the wire, and its payload, unmasked. */
    record Frame(int firstByte, byte[] payload) {
        int opCode() {
            return firstByte & 0x0F;
        }

        boolean fin() {
            return (firstByte & 0x80) != 0;
        }

        /** The RSV bits as they are in the first byte (0x40 RSV1, 0x20 RSV2, 0x10 RSV3). */
        int rsv() {
            return firstByte & 0x70;
        }

        /** A CLOSE frame's status code, or 1005 when it has none. */
        int closeCode() {
            return payload.length < 2 ? 1005 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }

        /** A CLOSE frame's reason, empty when it has none. */
        String closeReason() {
            return payload.length <= 2 ? "" : new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        }

        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final boolean client;
    private final Map<String, String> headers; // of the 101 a client got, or of the request a backend got

    WirePeer(Socket socket, boolean client, Map<String, String> headers) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.client = client;
        this.headers = headers;
        socket.setSoTimeout(5_000);
        socket.setTcpNoDelay(true); // each write goes out as it is written, so that split writes stay split
    }

    /**
     * A client upgraded to {@code ws://} {@code uri}, with the given extra header lines ("Name: value");
     * fails unless the answer is 101.
     */
    static WirePeer client(URI uri, String... headerLines) throws IOException {
        return client(uri, new byte[0], headerLines);
    }

    /**
     * A client upgraded to {@code ws://} {@code uri} that writes {@code early} in the same write as its upgrade
     * request, before it sees the 101; fails unless the answer is 101.
     */
    static WirePeer client(URI uri, byte[] early, String... headerLines) throws IOException {
        Socket socket = new Socket(uri.getHost(), uri.getPort());
        try {
            socket.setSoTimeout(5_000);
            StringBuilder request = new StringBuilder("GET ").append(uri.getRawPath())
                    .append(uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n")
                    .append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
                    .append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
            for (String h : headerLines) {
                request.append(h).append("\r\n");
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            bytes.writeBytes(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            bytes.writeBytes(early);
            socket.getOutputStream().write(bytes.toByteArray());
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            String status = readLine(in);
            if (!status.startsWith("HTTP/1.1 101")) {
                throw new IOException("not upgraded: " + status);
            }
            return new WirePeer(socket, true, readHeaders(in));
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The first value of a header of the 101 (for a client) or of the upgrade request (for a backend), or null. */
    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** A frame as this peer must send it: masked with {@link #KEY} by a client, unmasked by a backend. */
    byte[] frame(int firstByte, byte[] payload) {
        return frame(firstByte, payload, client);
    }

    /** A frame with the shortest length form, masked with {@link #KEY} or not, whoever sends it. */
    static byte[] frame(int firstByte, byte[] payload, boolean masked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header(firstByte, payload.length, masked));
        for (int i = 0; i < payload.length; i++) {
            out.write(masked ? payload[i] ^ keyByte(i) : payload[i]);
        }
        return out.toByteArray();
    }

    /** A frame header with the shortest length form, and {@link #KEY} when masked. */
    static byte[] header(int firstByte, long length, boolean masked) {
        ByteBuffer b = ByteBuffer.allocate(14);
        b.put((byte) firstByte);
        int maskBit = masked ? 0x80 : 0;
        if (length <= 125) {
            b.put((byte) (maskBit | length));
        } else if (length <= 0xFFFF) {
            b.put((byte) (maskBit | 126)).putShort((short) length);
        } else {
            b.put((byte) (maskBit | 127)).putLong(length);
        }
        if (masked) {
            b.putInt(KEY);
        }
        byte[] header = new byte[b.position()];
        b.flip().get(header);
        return header;
    }

    /** The payload of a CLOSE frame: the code, then the reason in UTF-8. */
    static byte[] closePayload(int code, String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + r.length).putShort((short) code).put(r).array();
    }

    /** The text's UTF-8 bytes. */
    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static int keyByte(int i) {
        return (KEY >>> (24 - 8 * (i & 3))) & 0xFF;
    }

    /** Sends one frame, masked if this peer is a client. */
    void send(int firstByte, byte[] payload) throws IOException {
        write(frame(firstByte, payload));
    }

    /** Sends a CLOSE frame with this code and reason. */
    void sendClose(int code, String reason) throws IOException {
        send(0x88, closePayload(code, reason));
    }

    /** Writes the bytes as they are, in one write. */
    void write(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    /** Writes bytes as they are, each given as an int from 0 to 255, in one write. */
    void write(int... bytes) throws IOException {
        byte[] wire = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            wire[i] = (byte) bytes[i];
        }
        write(wire);
    }

    /**
     * The next frame the gateway sent, unmasked.
     *
     * @throws AssertionError if it is not masked as its sender owes: masked towards a backend, not towards a
     *                        client
     */
    Frame read() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        boolean masked = (b1 & 0x80) != 0;
        if (masked == client) {
            throw new AssertionError("the gateway sent a" + (masked ? " masked" : "n unmasked") + " frame to a "
                    + (client ? "client" : "backend"));
        }
        long length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        int key = masked ? in.readInt() : 0;
        byte[] payload = new byte[Math.toIntExact(length)];
        in.readFully(payload);
        if (masked) {
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= (byte) (key >>> (24 - 8 * (i & 3)));
            }
        }
        return new Frame(b0, payload);
    }

    /**
     * The next data message the gateway sent, its frames joined, as a frame with the first frame's first byte
     * (FIN set); control frames before and inside it are skipped. A CLOSE frame is returned as it is.
     *
     * @throws AssertionError if a continuation frame has RSV bits (permessage-deflate marks the first frame
     *                        only), or the message is broken by a CLOSE or another message

     */
    Frame readMessage() throws IOException {
        Frame first;
        do {
            first = read();
        } while (first.opCode() > 0x8);
        if (first.opCode() == 0x8 || first.fin()) {
            return first;
        }
        if (first.opCode() == 0x0) {
            throw new AssertionError("a continuation frame outside a message");
        }
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        payload.writeBytes(first.payload());
        Frame next;
        do {
            next = read();
            if (next.opCode() == 0x0) {
                if (next.rsv() != 0) {
                    throw new AssertionError("RSV bits on a continuation frame: "
                            + Integer.toHexString(next.firstByte()));
                }
                payload.writeBytes(next.payload());
            } else if (next.opCode() < 0x8) {
                throw new AssertionError("a new message inside a fragmented one: opcode " + next.opCode());
            } else if (next.opCode() == 0x8) {
                throw new AssertionError("a CLOSE inside a fragmented message: " + next.closeCode());
            }
        } while (next.opCode() != 0x0 || !next.fin());
        return new Frame(first.firstByte() | 0x80, payload.toByteArray());
    }

    /**
     * Checks that the gateway ends the TCP connection without sending anything more: an end of stream, or a
     * reset, within 5 s.
     */
    void assertEnds() throws IOException {
        try {
            int b = in.read();
            if (b >= 0) {
                throw new AssertionError("the gateway sent more (a byte " + Integer.toHexString(b)
                        + ") instead of ending the connection");
            }
        } catch (SocketException reset) {
            // ended too: a reset instead of an end of stream
        }
    }

    /** Ends this side's output with a FIN, as a peer may right after its CLOSE, and goes on reading. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** Reads a line of a head, without its CRLF, from a stream read byte by byte so nothing past the head is read. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("the connection ended inside a head");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads header lines up to the blank line; names in lower case, the first value of each kept. */
    static Map<String, String> readHeaders(InputStream in) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.putIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        line.substring(colon + 1).trim());
            }
        }
        return headers;
    }
}
