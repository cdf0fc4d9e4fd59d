/**
 * Runnable examples of embedding Gatehouse in Jetty, and the standalone runner
 * ({@link dev.gatehouse.examples.Standalone}); not a library.
 *
 * <p>Nothing in this package accepts or returns {@code null}; absent values are {@link java.util.Optional}.
 */
package dev.gatehouse.examples;
