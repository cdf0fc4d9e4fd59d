package dev.gatehouse.jetty.internal;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
// Jetty's HTTP/1.1 server connection is internal, and it is the only way to its parser and its connector: no
// public API tells whether a connection is one, whether a request header block is half received, or which
// scheduler serves the connection.
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Scheduler;

import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.Ids;
import dev.gatehouse.internal.Rejections;

/**
 * A connector's deadline for request header blocks: closes an HTTP/1.1 connection that has not completed
 * its first request header block within the deadline of opening, or whose later header block is still
 * incomplete at two checks in a row (checks run every deadline); connections that wait between requests,
 * that are handling a request, or that were upgraded (WebSocket) are left alone. One access-log line
 * ({@code 408 request_timeout}) per closed connection.
 */
public final class RequestDeadline implements Connection.Listener {

    private final long millis;

    /** A deadline of {@code deadline}, already validated (more than 0, in whole milliseconds). */
    public RequestDeadline(Duration deadline) {
        this.millis = deadline.toMillis();
    }

    @Override
    public void onOpened(Connection connection) {
        if (connection instanceof HttpConnection http) {
            Watch watch = new Watch(http, http.getConnector().getScheduler());
            // Listeners are kept in a copy-on-write list: adding one while they are being notified is safe,
            // and the watch is told when this connection closes, including when it is upgraded away.
            http.addEventListener(watch);
            watch.arm();
        }
    }

    @Override
    public String toString() {
        return "RequestDeadline[" + millis + " ms]";
    }

    /** The checks of one connection, on the connector's scheduler. */
    private final class Watch implements Connection.Listener {
        private final HttpConnection connection;
        private final Scheduler scheduler;
        private volatile boolean closed;      // set once, when the connection closed or was upgraded away
        private volatile Scheduler.Task task; // the next check; null before the first
        private long seen;                    // header blocks completed at the previous check; scheduler only
        private boolean partialSeen;          // a header block was incomplete at the previous check; scheduler only

        Watch(HttpConnection connection, Scheduler scheduler) {
            this.connection = connection;
            this.scheduler = scheduler;
        }

        void arm() {
            task = scheduler.schedule(this::check, millis, TimeUnit.MILLISECONDS);
            if (closed) {
                task.cancel();
            }
        }

        private void check() {
            EndPoint endPoint = connection.getEndPoint();
            if (closed || endPoint.getConnection() != connection || !endPoint.isOpen()) {
                return;
            }
            long completed = connection.getMessagesIn();
            boolean expired;
            if (completed == 0) {
                expired = true; // open for a whole deadline without one complete header block
            } else if (completed != seen) {
                seen = completed;
                partialSeen = false;
                expired = false;
            } else {
                boolean partial = partialHeader(connection.getParser());
                expired = partial && partialSeen;
                partialSeen = partial;
            }
            if (expired) {
                expire(endPoint);
            } else {
                arm();
            }
        }

        private void expire(EndPoint endPoint) {
            String message = "no complete request within " + millis + " ms";
            SocketAddress remote = endPoint.getRemoteSocketAddress();
            // Logged before the close, so that the line exists once the client sees the connection end.
            Rejections.log(Ids.next(), "-", remote instanceof InetSocketAddress address
                    ? address : InetSocketAddress.createUnresolved(String.valueOf(remote), 0),
                    Verdict.reject(Rejection.REQUEST_TIMEOUT, message));
            endPoint.close(new TimeoutException(message));
        }

        @Override
        public void onClosed(Connection c) {
            closed = true;
            Scheduler.Task t = task;
            if (t != null) {
                t.cancel();
            }
        }
    }

    /**
     * Whether the parser holds part of a request line or header block. Read from the scheduler while a pool
     * thread may be parsing: a stale answer only moves the decision to the next check.
     */
    private static boolean partialHeader(HttpParser parser) {
        return parser.inHeaderState() && !parser.isStart();
    }
}
