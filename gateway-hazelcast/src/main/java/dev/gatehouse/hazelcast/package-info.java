/**
 * Gatehouse's scale-out on Hazelcast: {@link dev.gatehouse.hazelcast.HazelcastCluster}, the
 * {@link dev.gatehouse.spi.Cluster} that makes several gateway nodes one, each an embedded Hazelcast member.
 *
 * <p>Nothing in this package accepts or returns {@code null}.
 */
package dev.gatehouse.hazelcast;
