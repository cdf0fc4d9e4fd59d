package dev.gatehouse.bench.jmh;

import java.net.InetSocketAddress;

import dev.gatehouse.Handshake;
import dev.gatehouse.internal.Admission;
import dev.gatehouse.internal.Bridge;
import dev.gatehouse.internal.DefaultGateway;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * One bridge of a gateway's {@code /echo} route, opened on two {@link ImmediateChannel}s without sockets: what
 * the relay's per-frame benchmarks drive.
 *
 * @param clientChannel  the client leg, which records what the gateway sends to the client
 * @param backendChannel the backend leg, which records what the gateway sends to the backend
 * @param fromClient     where the client leg's frames go in
 * @param fromBackend    where the backend leg's frames go in
 */
record OpenBridge(ImmediateChannel clientChannel, ImmediateChannel backendChannel, ChannelHandler fromClient,
        ChannelHandler fromBackend) {

    /** The completion of a benchmark's frame, whose buffer it reuses: nothing to release. */
    static final Completion NOTHING_TO_RELEASE = new Completion() {
        @Override
        public void succeeded() {
        }

        @Override
        public void failed(Throwable cause) {
        }
    };

    /** Admits an upgrade to {@code /echo} on {@code gateway} and opens its bridge on both legs. */
    static OpenBridge open(DefaultGateway gateway, String requestId) {
        Handshake request = Handshake.builder(requestId, "/echo")
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .header("Host", "gw.example.com")
                .host("gw.example.com")
                .remoteAddress(new InetSocketAddress("127.0.0.1", 40000))
                .build();
        if (!(gateway.admit(request) instanceof Admission.Admitted admission)) {
            throw new IllegalStateException("rejected: " + request);
        }
        Bridge bridge = gateway.newBridge(admission);
        ImmediateChannel client = new ImmediateChannel();
        ImmediateChannel backend = new ImmediateChannel();
        if (!bridge.backendConnected(backend, null)) {
            throw new IllegalStateException("the bridge refused its backend");
        }
        bridge.clientConnected(client);
        return new OpenBridge(client, backend, bridge.clientHandler(), bridge.backendHandler());
    }
}
