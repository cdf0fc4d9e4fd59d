package dev.gatehouse.jetty.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;

import dev.gatehouse.Handshake;
import dev.gatehouse.internal.Ids;
import jakarta.servlet.http.HttpServletRequest;

/** Builds the core {@link Handshake} view of a Jetty core or servlet request. */
final class Requests {

    private Requests() {
    }

    static Handshake from(HttpServletRequest req) {
        String uri = req.getRequestURI();
        String path = uri.substring(Math.min(uri.length(), req.getContextPath().length()));
        Handshake.Builder b = Handshake.builder(Ids.next(), path.isEmpty() ? "/" : path)
                .method(req.getMethod())
                .secure(req.isSecure())
                .query(req.getQueryString() == null ? "" : req.getQueryString())
                .remoteAddress(address(req.getRemoteAddr(), req.getRemotePort()));
        String host = req.getHeader("Host");
        b.host(host == null ? "" : host);
        for (Enumeration<String> names = req.getHeaderNames(); names.hasMoreElements();) {
            String name = names.nextElement();
            for (Enumeration<String> values = req.getHeaders(name); values.hasMoreElements();) {
                b.addHeader(name, values.nextElement());
            }
        }
        List<String> protocols = new ArrayList<>();
        for (Enumeration<String> values = req.getHeaders("Sec-WebSocket-Protocol"); values.hasMoreElements();) {
            splitTokens(values.nextElement(), protocols);
        }
        Object chain = req.getAttribute("jakarta.servlet.request.X509Certificate");
        if (chain instanceof X509Certificate[]) {
            b.clientCertificates(List.of((X509Certificate[]) chain));
        }
        return b.subprotocols(protocols).build();
    }

    static Handshake from(Request req) {
        String raw = req.getHttpURI().getPath();
        String context = Request.getContextPath(req);
        String path;
        if (raw == null) {
            path = "/";
        } else if (context == null || context.equals("/")) {
            path = raw; // the root context, or none: nothing to strip
        } else if (raw.startsWith(context)) {
            path = raw.substring(context.length());
        } else {
            // The raw path spells the context with percent-escapes: Jetty's decoded path inside the context.
            String inContext = Request.getPathInContext(req);
            path = inContext == null ? "/" : inContext;
        }
        String query = req.getHttpURI().getQuery();
        Handshake.Builder b = Handshake.builder(Ids.next(), path.isEmpty() ? "/" : path)
                .method(req.getMethod())
                .secure(req.isSecure())
                .query(query == null ? "" : query)
                .remoteAddress(remote(req));
        String host = req.getHeaders().get(HttpHeader.HOST);
        if (host == null) {
            host = req.getHttpURI().getAuthority();
        }
        b.host(host == null ? "" : host);
        List<String> protocols = new ArrayList<>();
        for (HttpField field : req.getHeaders()) {
            b.addHeader(field.getName(), field.getValue());
            if (field.getHeader() == HttpHeader.SEC_WEBSOCKET_SUBPROTOCOL) {
                splitTokens(field.getValue(), protocols);
            }
        }
        Object tls = req.getAttribute(EndPoint.SslSessionData.ATTRIBUTE);
        if (tls instanceof EndPoint.SslSessionData && ((EndPoint.SslSessionData) tls).peerCertificates() != null) {
            b.clientCertificates(List.of(((EndPoint.SslSessionData) tls).peerCertificates()));
        }
        return b.subprotocols(protocols).build();
    }

    private static void splitTokens(String value, List<String> into) {
        for (String token : value.split(",")) {
            String t = token.trim();
            if (!t.isEmpty()) {
                into.add(t);
            }
        }
    }

    /** The client's socket address as the connection has it, without turning it into text and back. */
    private static InetSocketAddress remote(Request req) {
        if (req.getConnectionMetaData().getRemoteSocketAddress() instanceof InetSocketAddress a && !a.isUnresolved()) {
            return a;
        }
        return address(Request.getRemoteAddr(req), Request.getRemotePort(req));
    }

    private static InetSocketAddress address(String ip, int port) {
        try {
            // An IP literal: no name lookup happens.
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException | RuntimeException e) {
            return InetSocketAddress.createUnresolved(String.valueOf(ip), Math.max(0, port));
        }
    }
}
