package dev.gatehouse.jetty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A backend on a plain server socket, for what a real WebSocket server would never answer: each connection's
 * request head is read, {@code answer} turns it into the exact bytes written back, and the backend then
 * reads until the gateway closes the connection, recording what it sent after the answer and whether it
 * closed.
 */
final class RawBackend implements AutoCloseable {

    /** What one connection saw after the answer: the bytes the gateway sent, and how it ended. */
    record Ended(byte[] after, boolean closedByPeer) {
    }

    final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
    final BlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
    private final ServerSocket server;
    private final Function<String, String> answer;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    /** A backend answering each request head (lines ending in CRLF, without the blank line) with {@code answer}. */
    RawBackend(Function<String, String> answer) throws IOException {
        this.answer = answer;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "raw-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A 101 with the {@code Sec-WebSocket-Accept} that answers the request's key. */
    static String switching(String head) {
        return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept(header(head, "Sec-WebSocket-Key")) + "\r\n\r\n";
    }

    /** The value of a header of a request head, or null. */
    static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    static String accept(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest(
                    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + server.getLocalPort() + path);
    }

    /** How the next connection ended, waiting up to 5 s for it. */
    Ended nextEnded() throws InterruptedException {
        Ended e = ended.poll(5, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("no backend connection ended within 5 s");
        }
        return e;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "raw-backend-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s) {
        ByteArrayOutputStream after = new ByteArrayOutputStream();
        boolean closedByPeer = false;
        try (s) {
            s.setSoTimeout(5_000); // a connection the gateway leaves open ends as not closed by it
            InputStream in = s.getInputStream();
            String head = readHead(in);
            requests.add(head);
            s.getOutputStream().write(answer.apply(head).getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            byte[] buffer = new byte[4096];
            for (int n = in.read(buffer); ; n = in.read(buffer)) {
                if (n < 0) {
                    closedByPeer = true;
                    break;
                }
                after.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            closedByPeer = false;
        } catch (IOException e) {
            closedByPeer = !server.isClosed(); // a reset by the peer
        }
        ended.add(new Ended(after.toByteArray(), closedByPeer));
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            sb.append((char) c);
            if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) {
                return sb.substring(0, sb.length() - 2);
            }
        }
        throw new IOException("the request head ended early");
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
