package dev.gatehouse.jetty.internal;

import java.nio.ByteBuffer;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.spi.ChannelHandler;
import dev.gatehouse.spi.Completion;

/** A leg's handler for tests that only need the leg to run: data is released at once, everything else ignored. */
final class QuietHandler implements ChannelHandler {

    @Override
    public void onText(ByteBuffer utf8, boolean last, Completion release) {
        release.succeeded();
    }

    @Override
    public void onBinary(ByteBuffer fragment, boolean last, Completion release) {
        release.succeeded();
    }

    @Override
    public void onPing(ByteBuffer payload) {
    }

    @Override
    public void onPong(ByteBuffer payload) {
    }

    @Override
    public void onClose(CloseStatus status) {
    }

    @Override
    public void onError(Throwable cause) {
    }
}
