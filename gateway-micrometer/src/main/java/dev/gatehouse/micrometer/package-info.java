/**
 * Gatehouse's meters on Micrometer: {@link dev.gatehouse.micrometer.GatehouseMetrics}, a listener that a
 * gateway's builder takes in one line.
 *
 * <p>Nothing in this package accepts or returns {@code null}.
 */
package dev.gatehouse.micrometer;
