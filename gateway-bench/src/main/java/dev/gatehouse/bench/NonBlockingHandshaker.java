package dev.gatehouse.bench;

import java.util.concurrent.Executor;

import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.WebSocketConnection;
import org.eclipse.jetty.websocket.core.WebSocketCoreSession;
import org.eclipse.jetty.websocket.core.server.internal.AbstractHandshaker;
import org.eclipse.jetty.websocket.core.server.internal.RFC6455Negotiation;
import org.eclipse.jetty.websocket.core.server.internal.WebSocketNegotiation;
import org.eclipse.jetty.websocket.core.util.WebSocketUtils;

/**
 * An experiment, for the benchmark only: Jetty's RFC 6455 handshaker (12.1.12, whose class is final, so
 * its few lines are repeated here) whose connections ask to be read as {@code NON_BLOCKING} tasks, so that
 * Jetty's selector runs the frame handler on its own thread instead of handing each read to a pool
 * thread. It measures what Jetty's hard-coded {@code BLOCKING} read interest costs a relay whose frame
 * handling never blocks ({@code --relay jetty-frames-nonblocking}); it relies on Jetty internals and is no
 * part of Gatehouse.
 */
final class NonBlockingHandshaker extends AbstractHandshaker {

    private static final HttpField UPGRADE_WEBSOCKET = new PreEncodedHttpField(HttpHeader.UPGRADE, "websocket");
    private static final HttpField CONNECTION_UPGRADE = new PreEncodedHttpField(HttpHeader.CONNECTION,
            HttpHeader.UPGRADE.asString());

    @Override
    public boolean isWebSocketUpgradeRequest(Request request) {
        return HttpMethod.GET.is(request.getMethod())
                && HttpVersion.HTTP_1_1.is(request.getConnectionMetaData().getProtocol())
                && super.isWebSocketUpgradeRequest(request);
    }

    @Override
    protected WebSocketNegotiation newNegotiation(Request request, Response response, Callback callback,
            WebSocketComponents components) {
        return new RFC6455Negotiation(request, response, callback, components);
    }

    @Override
    protected boolean validateNegotiation(WebSocketNegotiation negotiation) {
        if (!super.validateNegotiation(negotiation)) {
            return false;
        }
        if (((RFC6455Negotiation) negotiation).getKey() == null) {
            throw new HttpException.RuntimeException(HttpStatus.BAD_REQUEST_400, "Missing request header 'Sec-WebSocket-Key'");
        }
        return true;
    }

    @Override
    protected WebSocketConnection createWebSocketConnection(Request baseRequest, WebSocketCoreSession coreSession) {
        ConnectionMetaData meta = baseRequest.getConnectionMetaData();
        Connector connector = meta.getConnector();
        return newWebSocketConnection(meta.getConnection().getEndPoint(), connector.getExecutor(),
                connector.getScheduler(), connector.getByteBufferPool(), coreSession);
    }

    @Override
    protected WebSocketConnection newWebSocketConnection(EndPoint endPoint, Executor executor, Scheduler scheduler,
            ByteBufferPool pool, WebSocketCoreSession coreSession) {
        WebSocketConnection connection = new NonBlockingConnection(endPoint, executor, scheduler, pool, coreSession);
        coreSession.setWebSocketConnection(connection);
        return connection;
    }

    @Override
    protected void prepareResponse(Response response, WebSocketNegotiation negotiation) {
        response.setStatus(HttpStatus.SWITCHING_PROTOCOLS_101);
        HttpFields.Mutable fields = response.getHeaders();
        fields.put(UPGRADE_WEBSOCKET);
        fields.put(CONNECTION_UPGRADE);
        fields.put(HttpHeader.SEC_WEBSOCKET_ACCEPT, WebSocketUtils.hashKey(((RFC6455Negotiation) negotiation).getKey()));
    }

    /** A WebSocket connection whose read interest is {@code NON_BLOCKING}. */
    static final class NonBlockingConnection extends WebSocketConnection {
        private final Callback fillable = new Callback() {
            @Override
            public void succeeded() {
                onFillable();
            }

            @Override
            public void failed(Throwable cause) {
                onFillInterestedFailed(cause);
            }

            @Override
            public InvocationType getInvocationType() {
                return InvocationType.NON_BLOCKING;
            }
        };

        NonBlockingConnection(EndPoint endPoint, Executor executor, Scheduler scheduler, ByteBufferPool pool,
                WebSocketCoreSession coreSession) {
            super(endPoint, executor, scheduler, pool, coreSession);
        }

        @Override
        public void fillInterested() {
            fillInterested(fillable);
        }
    }
}
