package dev.gatehouse.bench.jmh;

import java.nio.ByteBuffer;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.Channel;
import dev.gatehouse.spi.Completion;

/**
 * An in-memory {@link Channel} whose sends complete at once, on the caller's thread, and which counts what
 * it was given. Control frames, closes and demands are counted or ignored: the benchmark only relays data.
 */
final class ImmediateChannel implements Channel {

    long sentBytes; // payload given to sendText and sendBinary; single-threaded benchmark
    long demands;   // calls to demand()

    @Override
    public void sendText(ByteBuffer utf8, boolean last, Completion completion) {
        sentBytes += utf8.remaining();
        completion.succeeded();
    }

    @Override
    public void sendBinary(ByteBuffer fragment, boolean last, Completion completion) {
        sentBytes += fragment.remaining();
        completion.succeeded();
    }

    @Override
    public void sendPing(ByteBuffer payload) {
    }

    @Override
    public void sendPong(ByteBuffer payload, Completion completion) {
        completion.succeeded();
    }

    @Override
    public void close(CloseStatus status) {
    }

    @Override
    public void abort() {
    }

    @Override
    public void demand() {
        demands++;
    }
}
