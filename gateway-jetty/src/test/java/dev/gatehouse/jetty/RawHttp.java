package dev.gatehouse.jetty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Sends one HTTP/1.1 request over a plain socket and reads the response: enough to inspect rejections. */
final class RawHttp {

    record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private RawHttp() {
    }

    /** A WebSocket upgrade request with the given extra header lines ("Name: value"). */
    static Response upgrade(URI uri, String... headers) throws IOException {
        return upgradeTarget(uri, uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()), headers);
    }

    /**
     * A WebSocket upgrade request to the server of {@code server} for a request target written as is, even
     * one that {@link URI} refuses (such as {@code /echo?x=%zz}).
     */
    static Response upgradeTarget(URI server, String target, String... headers) throws IOException {
        StringBuilder extra = new StringBuilder();
        extra.append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
                .append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
        for (String h : headers) {
            extra.append(h).append("\r\n");
        }
        return send(server, target, extra.toString());
    }

    /** A GET with exactly the given extra header lines ("Name: value"). */
    static Response get(URI uri, String... headers) throws IOException {
        StringBuilder extra = new StringBuilder();
        for (String h : headers) {
            extra.append(h).append("\r\n");
        }
        return send(uri, uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()), extra.toString());
    }

    private static Response send(URI uri, String target, String headers) throws IOException {
        return exchange(uri, "GET " + target + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                + headers + "\r\n");
    }

    /** Sends {@code request} as it is (ISO-8859-1) on a new connection to the URI's host and port. */
    static Response exchange(URI uri, String request) throws IOException {
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return read(socket.getInputStream());
        }
    }

    /** Reads one response whose body, if any, has a {@code Content-Length}. */
    static Response read(InputStream in) throws IOException {
        String statusLine = readLine(in);
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> map = new LinkedHashMap<>();
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            map.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        String body = "";
        if (map.containsKey("content-length")) {
            byte[] bytes = in.readNBytes(Integer.parseInt(map.get("content-length")));
            body = new String(bytes, StandardCharsets.UTF_8);
        }
        return new Response(status, map, body);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }
}
