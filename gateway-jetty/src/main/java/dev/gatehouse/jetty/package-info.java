/**
 * Mounts a {@link dev.gatehouse.Gateway} on Jetty 12.1: {@link dev.gatehouse.jetty.JettyGateway} installs
 * an upgrade servlet in an ee10 {@code ServletContextHandler} or wraps a core {@code Handler}.
 *
 * <p>Nothing in this package accepts or returns {@code null}.
 */
package dev.gatehouse.jetty;
