package dev.gatehouse.jetty.internal;

/**
 * Which layer carries the relay's frames: Gatehouse's own frame legs on the connections' endpoints
 * ({@link FrameLeg}, the default), or Jetty's WebSocket sessions ({@link JettyLeg}), kept for one release
 * behind the system property {@code gatehouse.relay=jetty} while the frame legs prove themselves.
 */
final class RelayMode {

    /** Whether the frame legs carry the relay. */
    static final boolean FRAMES = !"jetty".equals(System.getProperty("gatehouse.relay"));

    private RelayMode() {
    }
}
