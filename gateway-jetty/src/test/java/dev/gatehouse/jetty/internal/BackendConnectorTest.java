package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.Test;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/** The dial's bookkeeping when the gateway's own executor fails it: every dial still completes, once. */
class BackendConnectorTest {

    private static final ChannelHandler NOTHING = new QuietHandler();

    @Test
    void aQueuedDialWhoseLookUpIsRefusedFailsAloneAndTheDialBeforeItCompletes() throws Exception {
        CountDownLatch received = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread backend = new Thread(() -> {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    StringBuilder head = new StringBuilder();
                    while (!head.toString().endsWith("\r\n\r\n")) {
                        int c = in.read();
                        if (c < 0) {
                            return;
                        }
                        head.append((char) c);
                    }
                    received.countDown();
                    String key = null;
                    for (String line : head.toString().split("\r\n")) {
                        if (line.regionMatches(true, 0, "Sec-WebSocket-Key:", 0, 18)) {
                            key = line.substring(18).trim();
                        }
                    }
                    answer.await(30, TimeUnit.SECONDS);
                    OutputStream out = s.getOutputStream();
                    out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + AcceptHash.of(key) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    done.await(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // the test ended
                }
            }, "raw-backend");
            backend.setDaemon(true);
            backend.start();
            QueuedThreadPool pool = new QueuedThreadPool();
            pool.start();
            AtomicBoolean refuseLookUps = new AtomicBoolean();
            // From a point on, the pool refuses host-name look-ups, as a saturated or stopping pool does.
            Executor executor = task -> {
                if (refuseLookUps.get() && task.getClass().getName().contains("SocketAddressResolver")) {
                    throw new RejectedExecutionException("pool full");
                }
                pool.execute(task);
            };
            BackendConnector connector = new BackendConnector(new SslContextFactory.Client(), executor, null, null, 1,
                    Duration.ofSeconds(10), 1, 4);
            connector.start();
            try {
                URI uri = URI.create("ws://localhost:" + server.getLocalPort() + "/x");
                CompletableFuture<BackendHandshake.Connected> first = connector.dial(uri, Map.of(), List.of(), null,
                        NOTHING, Duration.ZERO, Duration.ofSeconds(10));
                assertTrue(received.await(10, TimeUnit.SECONDS), "the first dial reached the backend");
                refuseLookUps.set(true);
                CompletableFuture<BackendHandshake.Connected> second = connector.dial(uri, Map.of(), List.of(), null,
                        NOTHING, Duration.ZERO, Duration.ofSeconds(10));
                answer.countDown(); // the first dial's 101 hands the turn to the second, whose look-up is refused
                BackendHandshake.Connected connected = first.get(10, TimeUnit.SECONDS);
                assertNotNull(connected.leg());
                ExecutionException e = assertThrows(ExecutionException.class, () -> second.get(10, TimeUnit.SECONDS));
                BackendConnector.DialFailure failure = assertInstanceOf(BackendConnector.DialFailure.class, e.getCause());
                assertEquals(BackendConnector.DialFailure.Kind.GATEWAY, failure.kind());
                connected.leg().abort();
            } finally {
                done.countDown();
                connector.stop();
                pool.stop();
            }
        }
    }
}
