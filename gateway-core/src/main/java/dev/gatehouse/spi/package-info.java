/**
 * The transport seam: adapters (such as {@code gateway-jetty}) implement {@link dev.gatehouse.spi.Channel}
 * for each WebSocket leg and feed inbound events to a {@link dev.gatehouse.spi.ChannelHandler}; and the
 * state seam: a {@link dev.gatehouse.spi.LimiterStore} holds the handshake limiters' counters, in memory
 * by default, or in a store that several gateway instances share.
 *
 * <p>Nothing in this package accepts or returns {@code null}.
 */
package dev.gatehouse.spi;
