package dev.gatehouse.bench.jmh;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

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
import dev.gatehouse.internal.Bridge;
import dev.gatehouse.internal.DefaultGateway;
import dev.gatehouse.session.MessageAction;
import dev.gatehouse.session.MessageLimits;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/**
 * The relay's per-frame path: one {@link Bridge} between two in-memory channels whose sends complete at
 * once, so that each benchmark call is one whole forward: the inbound handler's checks and counters, the
 * send on the other leg, the send's completion, the release of the inbound frame and the demand for the
 * next. The bridge has no idle timeout or keepalive, as a fresh connection's first frames would not be
 * delayed by them either.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RelayBenchmark {

    /** The frame's payload size in bytes. */
    @Param({"64", "16384"})
    public int size;

    /**
     * The route's in-session policies: {@code none} (the plain relay path, which must cost nothing for
     * policies), {@code limits} (message and byte rate limits that never trip), or {@code filter} (a
     * message filter that forwards every message, so each one is reassembled and handed to it).
     */
    @Param({"none", "limits", "filter"})
    public String policy;

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
        Route.Builder route = Route.builder("/echo").backend(Backend.of("ws://127.0.0.1:9/echo"));
        if (policy.equals("limits")) {
            route.messageLimits(MessageLimits.builder()
                    .messagesPerSecond(1e12, 1e12)
                    .bytesPerSecond(1e15, 1e15)
                    .build());
        } else if (policy.equals("filter")) {
            route.clientMessages((message, connection) -> MessageAction.forward(message));
        }
        gateway = DefaultGateway.of(Gateway.builder()
                .route(route.build())
                .settings(quiet)
                .build());
        OpenBridge open = OpenBridge.open(gateway, "relay-bench");
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

    /** A text frame from the client, forwarded to the backend. */
    @Benchmark
    public long textClientToBackend() {
        text.clear(); // a filter consumes the buffer; every call forwards it whole
        fromClient.onText(text, true, release);
        return backendChannel.sentBytes;
    }

    /** A binary frame from the client, forwarded to the backend. */
    @Benchmark
    public long binaryClientToBackend() {
        binary.clear();
        fromClient.onBinary(binary, true, release);
        return backendChannel.sentBytes;
    }

    /** A binary frame from the backend, forwarded to the client (the policies apply to the client's messages). */
    @Benchmark
    public long binaryBackendToClient() {
        binary.clear();
        fromBackend.onBinary(binary, true, release);
        return clientChannel.sentBytes;
    }
}
