package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;

/** Data relay through both mounts: sizes, fragments, text and binary, order, concurrency. */
class RelayTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final Servers servers = new Servers();

    private GatewayServer start(Mount mount) throws Exception {
        return servers.start(Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo"))))
                .build(), mount);
    }

    private static WebSocket connect(GatewayServer gw, RecordingListener events) throws Exception {
        return HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), events).get(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysTextCutInsideACharacterAsTheBytesItCameIn(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        byte[] e = "\u00e9".getBytes(StandardCharsets.UTF_8);
        try (FrameClient client = new FrameClient(gw.uri("/echo"))) {
            client.send(OpCode.TEXT, false, new byte[] {'h', e[0]});
            client.send(OpCode.CONTINUATION, true, new byte[] {e[1], '!'});

            ByteArrayOutputStream echoed = new ByteArrayOutputStream();
            FrameClient.Received r;
            do {
                r = client.next();
                assertEquals(echoed.size() == 0 ? OpCode.TEXT : OpCode.CONTINUATION, r.opCode());
                echoed.writeBytes(r.payload());
            } while (!r.fin());
            assertEquals("h\u00e9!", echoed.toString(StandardCharsets.UTF_8));
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void textThatIsNotUtf8IsRefusedByTheBackendWhoseCloseReachesTheClient(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (FrameClient client = new FrameClient(gw.uri("/echo"))) {
            client.send(OpCode.TEXT, true, new byte[] {'o', 'k', (byte) 0xC3, '('});

            assertEquals(1007, client.closeStatus().getCode());
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void echoesTextAndBinaryOfEverySize(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw, events);
        Random random = new Random(42);
        for (int size : new int[] {0, 1024, 1 << 20, 16 << 20}) {
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            // 30 s for the sends of up to 16 MB, which a loaded machine relays slowly.
            ws.sendBinary(ByteBuffer.wrap(bytes), true).get(30, TimeUnit.SECONDS);
            events.assertBinary(bytes);

            StringBuilder text = new StringBuilder(size);
            for (int i = 0; i < size; i++) {
                text.append((char) ('a' + random.nextInt(26)));
            }
            if (size > 0) {
                text.setCharAt(0, '\u00e9'); // a two-byte character, so UTF-8 is exercised
            }
            ws.sendText(text.toString(), true).get(30, TimeUnit.SECONDS);
            events.assertText(text.toString());
        }
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysAFragmentedMessageWhole(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw, events);
        ws.sendText("frag", false).get(5, TimeUnit.SECONDS);
        ws.sendText("ment", false).get(5, TimeUnit.SECONDS);
        ws.sendText("ed \u20ac", true).get(5, TimeUnit.SECONDS);
        events.assertText("fragmented \u20ac");
        ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2}), false).get(5, TimeUnit.SECONDS);
        ws.sendBinary(ByteBuffer.wrap(new byte[] {3}), true).get(5, TimeUnit.SECONDS);
        events.assertBinary(new byte[] {1, 2, 3});
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysTwoHundredConcurrentConnectionsInOrder(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        int connections = 200;
        int messages = 100;
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            Counter counter = new Counter(c, messages);
            done.add(HTTP.newWebSocketBuilder().buildAsync(gw.uri("/echo"), counter)
                    .thenCompose(ws -> sendAll(ws, counter)));
        }
        // 60 s for 20,000 round trips on 200 connections, which a loaded machine relays slowly.
        CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
        for (CompletableFuture<Void> f : done) {
            f.get();
        }
    }

    /** Sends messages one after another, then waits until the listener saw them all in order. */
    private static CompletableFuture<Void> sendAll(WebSocket ws, Counter counter) {
        CompletableFuture<WebSocket> chain = CompletableFuture.completedFuture(ws);
        for (int i = 0; i < counter.expected; i++) {
            String text = counter.id + ":" + i;
            chain = chain.thenCompose(w -> w.sendText(text, true));
        }
        return chain.thenCompose(w -> w.sendClose(1000, "done")).thenCompose(w -> counter.allReceived);
    }

    /** Checks that a connection's echoes arrive complete and in order. */
    private static final class Counter implements WebSocket.Listener {
        private final int id;
        private final int expected;
        private int next;
        private final StringBuilder partial = new StringBuilder();
        final CompletableFuture<Void> allReceived = new CompletableFuture<>();

        Counter(int id, int expected) {
            this.id = id;
            this.expected = expected;
        }

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public java.util.concurrent.CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String got = partial.toString();
                partial.setLength(0);
                String want = id + ":" + next;
                if (!got.equals(want)) {
                    allReceived.completeExceptionally(new AssertionError("expected " + want + ", got " + got));
                }
                next++;
            }
            ws.request(1);
            return null;
        }

        @Override
        public java.util.concurrent.CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            if (next == expected && code == 1000) {
                allReceived.complete(null);
            } else {
                allReceived.completeExceptionally(new AssertionError(
                        "connection " + id + " closed with " + code + " after " + next + " of " + expected));
            }
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            allReceived.completeExceptionally(error);
        }
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void keepsTextAndBinaryApartInOrder(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(gw, events);
        for (int i = 0; i < 20; i++) {
            ws.sendText("t" + i, true).get(5, TimeUnit.SECONDS);
            ws.sendBinary(ByteBuffer.wrap(new byte[] {(byte) i}), true).get(5, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 20; i++) {
            events.assertText("t" + i);
            events.assertBinary(new byte[] {(byte) i});
        }
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
        events.assertNoMoreEvents();
    }
}
