package dev.gatehouse.jetty.internal;

/**
 * Which layer carries the relay's frames: Jetty's WebSocket sessions ({@link JettyLeg}, the default), or
 * Gatehouse's own frame legs on the connections' endpoints ({@link FrameLeg}), chosen with the system
 * property {@code gatehouse.relay=frames} while the frame legs are being completed.
 */
final class RelayMode {

    /** Whether the frame legs carry the relay. */
    static final boolean FRAMES = "frames".equals(System.getProperty("gatehouse.relay"));

    private RelayMode() {
    }
}
