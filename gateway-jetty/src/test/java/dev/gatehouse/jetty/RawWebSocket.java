package dev.gatehouse.jetty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket client over a plain socket, for bytes no WebSocket library writes: it completes the opening
 * handshake, then writes whatever it is given and reads the server's frames one by one. Every read waits
 * at most 10 s.
 */
final class RawWebSocket implements AutoCloseable {

    /** A frame from the server (servers do not mask). */
    record Frame(int opCode, byte[] payload) {
        /** The status code of a CLOSE frame. */
        int closeCode() {
            return ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }
    }

    private final Socket socket;
    private final InputStream in;

    /** Opens {@code ws://host:port/path} and reads the 101, failing on any other status. */
    RawWebSocket(URI uri) throws IOException {
        socket = new Socket(uri.getHost(), uri.getPort());
        socket.setSoTimeout(10_000);
        String request = "GET " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        in = socket.getInputStream();
        String status = readLine();
        if (!status.startsWith("HTTP/1.1 101")) {
            throw new IOException("upgrade refused: " + status);
        }
        while (!readLine().isEmpty()) {
            // the 101's headers
        }
    }

    /** Writes the bytes as they are. */
    void write(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    /** The next frame from the server. */
    Frame next() throws IOException {
        int b0 = read();
        int b1 = read();
        long length = b1 & 0x7F;
        if (length >= 126) {
            int bytes = length == 126 ? 2 : 8;
            length = 0;
            for (int i = 0; i < bytes; i++) {
                length = (length << 8) | read();
            }
        }
        byte[] payload = in.readNBytes(Math.toIntExact(length));
        if (payload.length != length) {
            throw new IOException("the connection ended inside a frame");
        }
        return new Frame(b0 & 0x0F, payload);
    }

    private int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new IOException("the connection ended");
        }
        return b;
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = read(); b != '\n'; b = read()) {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** The header of a masked client frame with a 64-bit payload length, and its (zero) mask key. */
    static byte[] header64(int firstByte, long length) {
        return ByteBuffer.allocate(14).put((byte) firstByte).put((byte) 0xFF).putLong(length).putInt(0).array();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
