package dev.gatehouse.jetty;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A backend on a plain server socket that answers each upgrade with a proper 101 (the right
 * {@code Sec-WebSocket-Accept}) and then hands the connection to the test as a {@link WirePeer}: to send
 * frames a WebSocket server would never send, and to read the gateway's frames as they are on the wire.
 */
final class ScriptedBackend implements AutoCloseable {

    private final ServerSocket server;
    private final String extensions;   // the Sec-WebSocket-Extensions of each 101, or null for none
    private final byte[] behind101;    // bytes written in the same write as the 101
    private final BlockingQueue<WirePeer> connections = new LinkedBlockingQueue<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private ScriptedBackend(String extensions, byte[] behind101) throws IOException {
        this.extensions = extensions;
        this.behind101 = behind101;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "scripted-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A backend that declines every extension. */
    static ScriptedBackend plain() throws IOException {
        return new ScriptedBackend(null, new byte[0]);
    }

    /**
     * A backend whose every 101 has {@code answer} as its {@code Sec-WebSocket-Extensions}, whatever the
     * request offered.
     */
    static ScriptedBackend answeringExtensions(String answer) throws IOException {
        return new ScriptedBackend(answer, new byte[0]);
    }

    /** A backend that declines every extension and writes {@code bytes} right behind its 101, in the same write. */
    static ScriptedBackend sendingBehindThe101(byte[] bytes) throws IOException {
        return new ScriptedBackend(null, bytes.clone());
    }

    URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + server.getLocalPort() + path);
    }

    /** The next upgraded connection, waiting up to 5 s for it. */
    WirePeer nextConnection() throws InterruptedException {
        WirePeer c = connections.poll(5, TimeUnit.SECONDS);
        if (c == null) {
            throw new AssertionError("the gateway opened no backend connection within 5 s");
        }
        return c;
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException closed) {
                return;
            }
            sockets.add(s);
            try {
                s.setSoTimeout(5_000);
                InputStream in = s.getInputStream();
                String requestLine = WirePeer.readLine(in);
                Map<String, String> headers = WirePeer.readHeaders(in);
                if (!requestLine.startsWith("GET ")) {
                    throw new IOException("not an upgrade: " + requestLine);
                }
                String key = headers.get("sec-websocket-key");
                StringBuilder answer = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + RawBackend.accept(key) + "\r\n");
                if (extensions != null) {
                    answer.append("Sec-WebSocket-Extensions: ").append(extensions).append("\r\n");
                }
                byte[] head = answer.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
                byte[] all = new byte[head.length + behind101.length];
                System.arraycopy(head, 0, all, 0, head.length);
                System.arraycopy(behind101, 0, all, head.length, behind101.length);
                s.getOutputStream().write(all);
                s.getOutputStream().flush();
                connections.add(new WirePeer(s, false, headers));
            } catch (IOException e) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a broken connection
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
