/**
 * The Hazelcast structures behind {@link dev.gatehouse.hazelcast.HazelcastCluster}: the directory map, its
 * entries and entry processor, and the task that runs a request on a member. Not API.
 */
package dev.gatehouse.hazelcast.internal;
