package dev.gatehouse.bench.jmh;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.internal.DefaultGateway;
import dev.gatehouse.micrometer.GatehouseMetrics;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * What a {@link dev.gatehouse.spi.GatewayListener} costs on the relay's per-frame path: the forward of
 * {@link RelayBenchmark} ({@code policy=none}) through a gateway with no listener ({@code listener=none}), whose
 * per-message hook is a null check, and through one with {@code gateway-micrometer}'s {@link GatehouseMetrics}
 * on a {@link SimpleMeterRegistry} ({@code listener=micrometer}), which counts each message and records its size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ListenerBenchmark {

    /** {@code none} or {@code micrometer}. */
    @Param({"none", "micrometer"})
    public String listener;

    /** The frame's payload size in bytes. */
    @Param({"64"})
    public int size;

    private DefaultGateway gateway;
    private ImmediateChannel clientChannel;
    private ImmediateChannel backendChannel;
    private ChannelHandler fromClient;
    private ChannelHandler fromBackend;
    private ByteBuffer text;
    private ByteBuffer binary;
    private final Completion release = OpenBridge.NOTHING_TO_RELEASE;

    /** Admits a request and connects both legs of its bridge to in-memory channels. */
    @Setup
    public void setUp() {
        Settings quiet = Settings.builder().idleTimeout(Duration.ZERO).pingInterval(Duration.ZERO).build();
        Gateway.Builder b = Gateway.builder()
                .route(Route.builder("/echo").backend(Backend.of("ws://127.0.0.1:9/echo")).build())
                .settings(quiet);
        if (listener.equals("micrometer")) {
            b.listener(GatehouseMetrics.of(new SimpleMeterRegistry()));
        } else if (!listener.equals("none")) {
            throw new IllegalArgumentException("listener: " + listener + " (expected: none or micrometer)");
        }
        gateway = DefaultGateway.of(b.build());
        OpenBridge open = OpenBridge.open(gateway, "listener-bench");
        clientChannel = open.clientChannel();
        backendChannel = open.backendChannel();
        fromClient = open.fromClient();
        fromBackend = open.fromBackend();
        byte[] letters = new byte[size];
        Arrays.fill(letters, (byte) 'x');
        text = ByteBuffer.wrap(letters);
        binary = ByteBuffer.allocateDirect(size);
    }

    /** Closes the bridge and stops the gateway's timer thread. */
    @TearDown
    public void tearDown() {
        gateway.drain(Duration.ZERO);
    }

    /** A text frame from the client, forwarded to the backend: a message in. */
    @Benchmark
    public long textClientToBackend() {
        text.clear();
        fromClient.onText(text, true, release);
        return backendChannel.sentBytes;
    }

    /** A binary frame from the backend, forwarded to the client: a message out. */
    @Benchmark
    public long binaryBackendToClient() {
        binary.clear();
        fromBackend.onBinary(binary, true, release);
        return clientChannel.sentBytes;
    }
}
