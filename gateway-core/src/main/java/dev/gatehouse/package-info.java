/**
 * The model a user meets first: a {@link dev.gatehouse.Gateway} holds {@link dev.gatehouse.Route}s, each of
 * which admits WebSocket upgrades through an {@link dev.gatehouse.Authenticator} and a
 * {@link dev.gatehouse.Policy} chain and relays frames to a {@link dev.gatehouse.Backend}. Ready-made parts
 * live in packages by capability: {@code auth} (authenticators), {@code policy} (pre-handshake policies),
 * {@code session} (in-session policies); the seams others implement in {@code spi}.
 *
 * <p>Nothing in this package accepts or returns {@code null}; absent values are {@link java.util.Optional}.
 */
package dev.gatehouse;
