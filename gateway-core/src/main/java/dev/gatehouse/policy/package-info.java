/**
 * Ready-made pre-handshake {@link dev.gatehouse.Policy} rules, run after authentication and before any
 * backend is dialled: Origin and IP allow-lists, required scopes and claims, handshake rate limits and
 * quotas keyed by a {@link dev.gatehouse.policy.LimitKey}, revocation, and identity headers for the backend.
 *
 * <p>Nothing in this package accepts or returns {@code null}; absent values are {@link java.util.Optional}.
 */
package dev.gatehouse.policy;
