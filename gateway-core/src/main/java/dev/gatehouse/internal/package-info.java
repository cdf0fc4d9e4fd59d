/**
 * The engine behind the API: route table, handshake pipeline, frame relay and connection registry.
 * Not API: used by the Gatehouse adapters only, and free to change in any release.
 */
package dev.gatehouse.internal;
