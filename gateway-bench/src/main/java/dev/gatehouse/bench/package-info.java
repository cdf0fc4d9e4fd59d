/**
 * The Gatehouse benchmark, not API: {@link dev.gatehouse.bench.Main} runs an echo backend and a gateway in
 * child JVMs, drives them from a load generator in its own JVM, and compares every scenario through the
 * gateway with the same scenario straight to the backend.
 */
package dev.gatehouse.bench;
