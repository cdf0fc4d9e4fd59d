/**
 * WebSocket API routes, AWS style: the gateway terminates the client's WebSocket and routes each message,
 * by a {@link dev.gatehouse.routing.WebSocketApi route selection expression} over its JSON, to an
 * {@link dev.gatehouse.routing.Integration} (an HTTP endpoint or in-process code), with {@code $connect},
 * {@code $disconnect} and {@code $default} route keys; a {@link dev.gatehouse.routing.Reply} goes back to
 * the client.
 *
 * <p>Nothing in this package accepts or returns {@code null}; absent values are {@link java.util.Optional}.
 */
package dev.gatehouse.routing;
