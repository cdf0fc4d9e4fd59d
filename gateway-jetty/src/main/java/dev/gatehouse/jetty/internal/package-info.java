/**
 * The Jetty implementation of the Gatehouse transport seam: the WebSocket leg, the backend dialler and the
 * servlet and handler that run the handshake pipeline before upgrading. Not API.
 */
package dev.gatehouse.jetty.internal;
