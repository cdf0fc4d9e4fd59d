/**
 * The Jetty implementation of the Gatehouse transport seam: the WebSocket leg, the backend dialler and the
 * servlet and handler that run the handshake pipeline before upgrading, and the pass-through frame codec
 * ({@code FrameParser}, {@code FrameHeaders}, {@code Masking}, {@code ControlFrames}). Not API.
 *
 * <p>Nullness: parameters and results are non-null unless a field or method says {@code null} is allowed.
 */
package dev.gatehouse.jetty.internal;
