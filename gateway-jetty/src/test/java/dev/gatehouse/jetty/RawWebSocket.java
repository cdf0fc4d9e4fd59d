package dev.gatehouse.jetty;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket client on a plain socket, for frames no WebSocket library sends: after an ordinary upgrade the
 * test writes bytes as they should go on the wire and reads the server's frames (unmasked) one by one.
 */
final class RawWebSocket implements AutoCloseable {

    /** A frame the server sent. */
    record Frame(int opCode, boolean fin, byte[] payload) {
        /** The status code of a CLOSE frame, or 1005 when it has none. */
        int closeCode() {
            return payload.length < 2 ? 1005 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }
    }

    private final Socket socket;
    private final DataInputStream in;

    private RawWebSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
    }

    /** Upgrades to {@code ws://} {@code uri}, failing unless the answer is 101. */
    static RawWebSocket open(URI uri) throws IOException {
        return open(new Socket(uri.getHost(), uri.getPort()), uri);
    }

    /**
     * Upgrades to {@code ws://} {@code uri} on a socket whose receive buffer is set to {@code receiveBuffer}
     * bytes before it connects: a client that stops reading then holds back the server's writes soon.
     */
    static RawWebSocket open(URI uri, int receiveBuffer) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(receiveBuffer);
        socket.connect(new java.net.InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
        return open(socket, uri);
    }

    private static RawWebSocket open(Socket socket, URI uri) throws IOException {
        socket.setSoTimeout(5_000);
        String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        String request = "GET " + target + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        RawWebSocket ws = new RawWebSocket(socket);
        String status = ws.readLine();
        if (!status.startsWith("HTTP/1.1 101")) {
            socket.close();
            throw new IOException("not upgraded: " + status);
        }
        while (!ws.readLine().isEmpty()) {
            // the 101's headers
        }
        return ws;
    }

    /** Writes bytes as they are, each given as an int from 0 to 255. */
    void write(int... bytes) throws IOException {
        byte[] wire = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            wire[i] = (byte) bytes[i];
        }
        socket.getOutputStream().write(wire);
        socket.getOutputStream().flush();
    }

    /** Writes bytes as they are. */
    void write(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    /** The header of a masked client frame with a 64-bit payload length, and its (zero) mask key. */
    static byte[] header64(int firstByte, long length) {
        return ByteBuffer.allocate(14).put((byte) firstByte).put((byte) 0xFF).putLong(length).putInt(0).array();
    }

    /** The next frame the server sent, waiting up to 5 s. */
    Frame readFrame() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        long length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[Math.toIntExact(length)];
        in.readFully(payload);
        return new Frame(b0 & 0x0F, (b0 & 0x80) != 0, payload);
    }

    /**
     * The next data message the server sent, its frames joined, as a frame with the first frame's op code;
     * control frames before it are skipped. Waits up to 5 s for each frame.
     */
    Frame readMessage() throws IOException {
        Frame first;
        do {
            first = readFrame();
        } while (first.opCode() >= 0x8 && first.opCode() != 0x8);
        if (first.opCode() == 0x8 || first.fin()) {
            return first;
        }
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        payload.writeBytes(first.payload());
        Frame next;
        do {
            next = readFrame();
            if (next.opCode() == 0x0) {
                payload.writeBytes(next.payload());
            }
        } while (next.opCode() != 0x0 || !next.fin());
        return new Frame(first.opCode(), true, payload.toByteArray());
    }

    /** Sends a short text message (under 126 bytes) in one masked frame, with a zero mask key. */
    void sendText(String text) throws IOException {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        if (payload.length > 125) {
            throw new IllegalArgumentException("text: " + payload.length + " bytes (expected: at most 125)");
        }
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(payload, 0, frame, 6, payload.length);
        write(frame);
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("the connection ended inside the response head");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
