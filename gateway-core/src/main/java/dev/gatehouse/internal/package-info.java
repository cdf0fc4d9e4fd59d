/**
 * The engine behind the API: route table, handshake pipeline, frame relay and connection registry.
 * Not API: used by the Gatehouse adapters only, and free to change in any release.
 *
 * <p>Nullness: parameters and results are non-null unless a field or method says {@code null} is allowed.
 */
package dev.gatehouse.internal;
