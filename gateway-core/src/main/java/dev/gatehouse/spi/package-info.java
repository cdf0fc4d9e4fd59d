/**
 * The transport seam: adapters (such as {@code gateway-jetty}) implement {@link dev.gatehouse.spi.Channel}
 * for each WebSocket leg and feed inbound events to a {@link dev.gatehouse.spi.ChannelHandler}.
 *
 * <p>Nothing in this package accepts or returns {@code null}.
 */
package dev.gatehouse.spi;
