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
        Socket socket = new Socket(uri.getHost(), uri.getPort());
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
