package dev.gatehouse.hazelcast.internal;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * How one incarnation of a node reaches the others: through the executor service of the member it embeds
 * ({@link MemberTransport}), or over topics when it is a Hazelcast client ({@link ClientTransport}). An
 * incarnation ends with its engine (a member that stopped, a client that lost the cluster): {@link HazelcastNode}
 * then opens a new one, under a new id when the engine gave it one.
 */
interface Transport {

    /** This incarnation's node id, as the directory's entries name it. */
    String id();

    /** How many gateway nodes (members, in member mode) there are now, this one included; never blocks. */
    int members();

    /** The ids of the nodes alive now; may block, so call it off the relay. */
    Set<String> nodes();

    /** Runs a request on one node; fails with {@code NodeUnreachableException}, never blocks. */
    CompletionStage<byte[]> forward(String node, byte[] request);

    /** Runs a request on every node, each once; the answers of those that answered. Never blocks. */
    CompletionStage<List<byte[]>> broadcast(byte[] request);

    /** Stops listening and answering; never throws, even when the engine is gone. */
    void close();
}
