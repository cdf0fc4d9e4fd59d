/**
 * The Gatehouse API: a {@link dev.gatehouse.Gateway} holds {@link dev.gatehouse.Route}s, each of which
 * admits WebSocket upgrades through an {@link dev.gatehouse.Authenticator} and
 * {@link dev.gatehouse.Policy} chain and relays frames to a {@link dev.gatehouse.Backend}.
 *
 * <p>Nothing in this package accepts or returns {@code null}; absent values are {@link java.util.Optional}.
 */
package dev.gatehouse;
