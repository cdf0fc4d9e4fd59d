package dev.gatehouse.hazelcast.internal;

import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;

import dev.gatehouse.spi.Cluster;

/**
 * A request run on one member by its executor service: it hands the bytes to the handler of the gateway that
 * joined through that member ({@link HazelcastNode#HANDLER}, in the member's user context) and answers its
 * bytes; a member that no gateway joined answers none (an empty array). Written as Hazelcast's
 * {@link DataSerializable}, its bytes as they are: no Java serialization on the way of each request.
 */
public final class NodeTask implements Callable<byte[]>, DataSerializable, HazelcastInstanceAware {

    private byte[] request; // set once, by the constructor or readData
    private transient HazelcastInstance instance; // set by Hazelcast before call()

    /** For Hazelcast, which reads the request with {@link #readData}. */
    public NodeTask() {
    }

    NodeTask(byte[] request) {
        this.request = request;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeByteArray(request);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        request = in.readByteArray();
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance instance) {
        this.instance = instance;
    }

    @Override
    public byte[] call() throws Exception {
        Object handler = instance.getUserContext().get(HazelcastNode.HANDLER);
        if (!(handler instanceof Cluster.Handler h)) {
            return new byte[0];
        }
        // The gateway's registry answers at once; the bound only guards against a handler that would not.
        return h.handle(request).toCompletableFuture().get(HazelcastNode.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
}
