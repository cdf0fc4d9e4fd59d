/**
 * The transport seam: adapters (such as {@code gateway-jetty}) implement {@link dev.gatehouse.spi.Channel}
 * for each WebSocket leg and feed inbound events to a {@link dev.gatehouse.spi.ChannelHandler}; and the
 * state seam: a {@link dev.gatehouse.spi.LimiterStore} holds the handshake limiters' counters, in memory
 * by default, or in a store that several gateway instances share; and the observation seam: a
 * {@link dev.gatehouse.spi.GatewayListener} hears handshakes, dials, messages, closes and integration calls,
 * for metrics such as {@code gateway-micrometer}'s; and the scale-out seam: a {@link dev.gatehouse.spi.Cluster}
 * (such as {@code gateway-hazelcast}'s) holds the directory of every node's connections and carries requests
 * between the nodes.
 *
 * <p>Nothing in this package accepts or returns {@code null}.
 */
package dev.gatehouse.spi;
