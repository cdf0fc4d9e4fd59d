/**
 * Load-balanced backends: a {@link dev.gatehouse.balance.BackendGroup} of weighted WebSocket targets, the
 * {@link dev.gatehouse.balance.Balance} that spreads connections over them, failover before the client's 101,
 * and the targets' health (passive ejection, optional active checks, slow start).
 *
 * <p>Nothing in this package accepts or returns {@code null}.
 */
package dev.gatehouse.balance;
