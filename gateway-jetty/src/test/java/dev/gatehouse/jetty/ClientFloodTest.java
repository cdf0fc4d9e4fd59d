package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.gatehouse.Backend;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;

/**
 * Flow control from client to backend on the relay's frame legs: a client that writes faster than its
 * backend reads is held back through TCP, and the gateway never holds more than a frame or so of it. (The
 * other way, a backend flooding a client that does not read, is in {@link LifecycleTest}.)
 */
class ClientFloodTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @ParameterizedTest
    @EnumSource(Mount.class)
    void aFloodingClientIsSlowedDownByABackendThatDoesNotRead(Mount mount) throws Exception {
        int count = 1000;
        int size = 64 * 1024;
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try (ScriptedBackend backend = ScriptedBackend.plain()) {
            GatewayServer gw = servers.start(Gateway.builder()
                    .route(Route.of("/raw", Backend.of(backend.uri("/raw")))).build(), mount);
            try (WirePeer client = WirePeer.client(gw.uri("/raw")); WirePeer server = backend.nextConnection()) {
                AtomicInteger written = new AtomicInteger();
                CompletableFuture<Void> flood = CompletableFuture.runAsync(() -> {
                    byte[] payload = new byte[size];
                    try {
                        for (int i = 0; i < count; i++) {
                            payload[0] = (byte) i;
                            client.send(0x82, payload);
                            written.incrementAndGet();
                        }
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, writer);

                Await.until("the gateway holds a frame the backend does not take",
                        () -> gw.gateway().connections().list().stream().anyMatch(c -> c.pendingBytes() > 0)
                                && written.get() > 0);
                // TCP buffers on the way hold some megabytes; the 64 MB flood cannot all have been written.
                assertTrue(written.get() < count, "wrote " + written.get());
                ConnectionInfo info = gw.gateway().connections().list().get(0);
                assertTrue(info.peakPendingBytes() <= 2L * size, "held " + info.peakPendingBytes() + " bytes");

                byte[] expected = new byte[size];
                for (int i = 0; i < count; i++) {
                    expected[0] = (byte) i;
                    WirePeer.Frame message = server.readMessage();
                    assertEquals(0x82, message.firstByte(), "message " + i);
                    assertArrayEquals(expected, message.payload(), "message " + i);
                }
                flood.get(5, TimeUnit.SECONDS);
                assertEquals(count, written.get());
                assertTrue(gw.gateway().connections().list().get(0).peakPendingBytes() <= 2L * size);
            }
        } finally {
            writer.shutdownNow();
        }
    }
}
