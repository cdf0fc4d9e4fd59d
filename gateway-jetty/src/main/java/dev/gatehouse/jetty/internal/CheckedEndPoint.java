package dev.gatehouse.jetty.internal;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ReadPendingException;
import java.nio.channels.WritePendingException;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.exception.ProtocolException;

/**
 * The client leg's connection as Jetty's WebSocket connection reads it: every call goes to the real
 * endpoint, and the bytes each {@link #fill} reads are checked by a {@link FrameLengthCheck} first. The
 * frames before a 64-bit length with its top bit set are delivered; the next fill fails with a
 * {@link ProtocolException}, which Jetty answers with 1002, as RFC 6455 asks, instead of the 1009 its own
 * parser would send for that length. Only Jetty's reading thread calls {@link #fill}.
 */
final class CheckedEndPoint implements EndPoint, EndPoint.Wrapper {

    private static final String BAD_LENGTH = "a 64-bit payload length with its most significant bit set";

    private final EndPoint endPoint;
    private final FrameLengthCheck check = new FrameLengthCheck();
    private boolean broken; // a bad length was found: the next fill fails; reading thread only

    CheckedEndPoint(EndPoint endPoint) {
        this.endPoint = endPoint;
    }

    @Override
    public int fill(ByteBuffer buffer) throws IOException {
        if (broken) {
            throw new ProtocolException(BAD_LENGTH);
        }
        int start = buffer.limit();
        int filled = endPoint.fill(buffer);
        if (filled <= 0) {
            return filled;
        }
        int bad = check.scan(buffer, start, buffer.limit());
        if (bad < 0) {
            return filled;
        }
        broken = true;
        buffer.limit(bad); // what follows the bad length is never parsed
        if (bad == start) {
            throw new ProtocolException(BAD_LENGTH);
        }
        return bad - start;
    }

    @Override
    public EndPoint unwrap() {
        return endPoint;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return endPoint.getLocalSocketAddress();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return endPoint.getRemoteSocketAddress();
    }

    @Override
    public boolean isOpen() {
        return endPoint.isOpen();
    }

    @Override
    public long getCreatedTimeStamp() {
        return endPoint.getCreatedTimeStamp();
    }

    @Override
    public void shutdownOutput() {
        endPoint.shutdownOutput();
    }

    @Override
    public boolean isOutputShutdown() {
        return endPoint.isOutputShutdown();
    }

    @Override
    public boolean isInputShutdown() {
        return endPoint.isInputShutdown();
    }

    @Override
    public void close() {
        endPoint.close();
    }

    @Override
    public void close(Throwable cause) {
        endPoint.close(cause);
    }

    @Override
    public boolean flush(ByteBuffer... buffers) throws IOException {
        return endPoint.flush(buffers);
    }

    @Override
    public Object getTransport() {
        return endPoint.getTransport();
    }

    @Override
    public long getIdleTimeout() {
        return endPoint.getIdleTimeout();
    }

    @Override
    public void setIdleTimeout(long idleTimeout) {
        endPoint.setIdleTimeout(idleTimeout);
    }

    @Override
    public void fillInterested(Callback callback) throws ReadPendingException {
        endPoint.fillInterested(callback);
    }

    @Override
    public boolean tryFillInterested(Callback callback) {
        return endPoint.tryFillInterested(callback);
    }

    @Override
    public boolean isFillInterested() {
        return endPoint.isFillInterested();
    }

    @Override
    public void write(Callback callback, ByteBuffer... buffers) throws WritePendingException {
        endPoint.write(callback, buffers);
    }

    @Override
    public void write(boolean last, ByteBuffer buffer, Callback callback) {
        endPoint.write(last, buffer, callback);
    }

    @Override
    public Callback cancelWrite(Throwable cause) {
        return endPoint.cancelWrite(cause);
    }

    @Override
    public Connection getConnection() {
        return endPoint.getConnection();
    }

    @Override
    public void setConnection(Connection connection) {
        endPoint.setConnection(connection);
    }

    @Override
    public void onOpen() {
        endPoint.onOpen();
    }

    @Override
    public void onClose(Throwable cause) {
        endPoint.onClose(cause);
    }

    @Override
    public void upgrade(Connection newConnection) {
        endPoint.upgrade(newConnection);
    }

    @Override
    public SslSessionData getSslSessionData() {
        return endPoint.getSslSessionData();
    }

    @Override
    public boolean isSecure() {
        return endPoint.isSecure();
    }

    @Override
    public String toString() {
        return "Checked[" + endPoint + "]";
    }
}
